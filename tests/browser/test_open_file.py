"""Opening trace files in the built site: the file chooser and a drop, problems, errors, a large file."""

from __future__ import annotations

import base64
import json
import re
import statistics
import time
from pathlib import Path

import pytest
from conftest import BOOT_TIMEOUT_MS, REPO_DIR
from playwright.sync_api import expect
from traces import FORMATS, LoadedDataset, list_unstored_edits, load_dataset_bytes, load_dataset_file
from traces_samples import REAL_FILES

# The real trace files kept next to the repository, as the shared_data_dir fixture finds them.
DATA_DIR = REPO_DIR.parent / "shared" / "data"
SAMPLE_BYTES = (REPO_DIR / "sample_data" / "langsmith_runs.json").read_bytes()
BUILT_IN_NAME = "langsmith_runs.json · langsmith-rows"

EXPECTED = {relative_path: (format_name, records) for relative_path, format_name, records, _, _ in REAL_FILES}

# Pyodide reads a file of a few hundred kB in seconds; a loaded CI machine can take many times that.
OPEN_TIMEOUT_MS = 120_000
LARGE_OPEN_TIMEOUT_S = 600

# While a large file loads, the page's timers must fire within this time nearly always.
RESPONSIVE_MS = 200
# No task of the page's own may run longer than this while a large file loads. Sending a file as
# one 50 MB input value blocked the page for about 2.2 s in one task. Sent in slices, no task
# reached 50 ms in most runs on a 2-core machine, but tasks of up to 250 ms appeared while that
# machine ran at a load average of 30.
LONGEST_TASK_MS = 500

EDGE_CASES = "claude-code-log/edge_cases.jsonl"
EDGE_CASE_ITEMS = [
    "line 10, message.content: missing; expected a string or a list of content blocks",
    'line 11, message: found "error"; expected a message object with "role" and "content"',
    'line 13: found "massive error"; expected a transcript event object with "type", "sessionId" and "message"',
    'line 14, type: missing; expected "user", "assistant" or "summary"',
    'line 15: found 42; expected a transcript event object with "type", "sessionId" and "message"',
    'line 16: found [1]; expected a transcript event object with "type", "sessionId" and "message"',
]
FOUNDRY = "foundry-toolcall/stock_toolcall_validation.jsonl"
SWE_AGENT = "swe-agent/function_calling_simple.traj"


def list_data_files() -> list:
    """Return one test parameter per trace file, or one skipped parameter when the folder is missing."""
    if not DATA_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"sample data directory not found: {DATA_DIR}"))]
    paths = sorted(path for path in DATA_DIR.rglob("*") if path.is_file() and path.name not in ("README.md", "SOURCES.md"))
    return [str(path.relative_to(DATA_DIR)) for path in paths]


def data_file(relative_path: str) -> Path:
    path = DATA_DIR / relative_path
    if not path.is_file():
        pytest.skip(f"{relative_path} not found in {DATA_DIR}")
    return path


def open_app(page, site_url: str) -> None:
    page.goto(site_url + "app/")
    expect(page.locator("#progress")).to_have_text("Record 1 of 4", timeout=BOOT_TIMEOUT_MS)


def choose_file(page, path: Path) -> None:
    """Open `path` with the page's "Open a JSON or JSONL file…" button and the browser's chooser."""
    with page.expect_file_chooser() as chooser_info:
        page.locator("#open-file").click()
    chooser_info.value.set_files(path)


def drop_file(page, path: Path) -> None:
    """Drag `path` over the page and drop it, with a DataTransfer built in the page from its bytes."""
    transfer = page.evaluate_handle(
        """([name, encoded]) => {
            const bytes = Uint8Array.from(atob(encoded), (character) => character.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            return transfer;
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode("ascii")],
    )
    page.dispatch_event("body", "dragover", {"dataTransfer": transfer})
    expect(page.locator("body")).to_have_class(re.compile(r"\bfile-drag\b"))
    page.dispatch_event("body", "drop", {"dataTransfer": transfer})
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bfile-drag\b"))


def wait_for_opened(page, name: str, records: int, *, timeout: float = OPEN_TIMEOUT_MS) -> None:
    noun = "record" if records == 1 else "records"
    expect(page.locator("#open-file-status")).to_have_text(
        re.compile(rf"^Opened {re.escape(name)}: {records} {noun} \("), timeout=timeout
    )


def saved_marker(page) -> str | None:
    return page.evaluate("document.documentElement.dataset.reviewSaved || null")


def accept_with_edit(page, text: str) -> None:
    """Put `text` in the output editor, press Accept and wait until the decision is stored."""
    previous = saved_marker(page)
    page.get_by_label("LLM Output (Editable)").fill(text)
    page.get_by_role("button", name="Accept", exact=True).click()
    page.wait_for_function(
        "previous => (document.documentElement.dataset.reviewSaved || null) !== previous", arg=previous
    )


def download_curated(page, target_dir: Path) -> Path:
    """Download the curated dataset in its original format and return the saved file."""
    page.get_by_label("Export", exact=True).select_option(label="Curated dataset, original format")
    with page.expect_download(timeout=LARGE_OPEN_TIMEOUT_S * 1000) as download_info:
        page.get_by_role("button", name="Download curated data").click()
    download = download_info.value
    path = target_dir / download.suggested_filename
    download.save_as(path)
    return path


def edit_fits_format(dataset: LoadedDataset, edit: str) -> bool:
    """Return whether the original format has a place for an edited output of the first record."""
    reviews = [record.review for record in dataset.records]
    reviews[0] = reviews[0].model_copy(update={"status": "Accepted", "edited_output": edit})
    return not list_unstored_edits(dataset, reviews)


@pytest.mark.parametrize("relative_path", list_data_files())
def test_open_file_review_restored_on_reopen(page, site_url, tmp_path, relative_path):
    path = data_file(relative_path)
    assert relative_path in EXPECTED, f"{relative_path} has no row in REAL_FILES in tests/traces_samples.py; count it and add one"
    format_name, records = EXPECTED[relative_path]
    edit = f"Corrected in review ✓ {path.stem}"
    progress = page.locator("#progress")
    open_app(page, site_url)

    choose_file(page, path)
    wait_for_opened(page, path.name, records)
    expect(progress).to_have_text(f"Record 1 of {records}")
    expect(page.locator("#dataset_name")).to_have_text(f"{path.name} · {format_name}")

    accept_with_edit(page, edit)
    after_accept = f"Record {min(2, records)} of {records}"
    expect(progress).to_have_text(after_accept)

    # An opened file is not kept over a reload: the page comes back with the built-in dataset.
    page.reload()
    expect(page.locator("#dataset_name")).to_have_text(BUILT_IN_NAME, timeout=BOOT_TIMEOUT_MS)
    same_as_built_in = path.read_bytes() == SAMPLE_BYTES
    expect(progress).to_have_text("Record 2 of 4" if same_as_built_in else "Record 1 of 4", timeout=BOOT_TIMEOUT_MS)

    drop_file(page, path)
    wait_for_opened(page, path.name, records)
    expect(progress).to_have_text(after_accept)
    page.get_by_role("button", name="Back", exact=True).click()
    expect(progress).to_have_text(f"Record 1 of {records}")
    expect(page.locator(".status-box")).to_have_text("Status: Accepted")
    expect(page.get_by_label("LLM Output (Editable)")).to_have_value(edit)

    curated = download_curated(page, tmp_path)
    reread = load_dataset_bytes(curated.read_bytes(), curated.name)
    assert reread.format == format_name
    assert len(reread.records) == records
    if edit_fits_format(load_dataset_file(path), edit):
        assert reread.records[0].output_text == edit
    else:
        expect(page.locator("#shiny-notification-panel")).to_contain_text(f"Not every edit is in {curated.name}")


def test_open_file_malformed_lines_listed(page, site_url):
    path = data_file(EDGE_CASES)
    open_app(page, site_url)

    choose_file(page, path)
    wait_for_opened(page, path.name, 2)

    problems = page.locator("details.dataset-problems")
    expect(problems.locator("summary")).to_have_text(
        "6 part(s) of edge_cases.jsonl could not be read; the other records are loaded"
    )
    problems.locator("summary").click()
    expect(problems.locator("li")).to_have_text(EDGE_CASE_ITEMS)
    expect(page.locator("#open-file-status")).to_have_text("Opened edge_cases.jsonl: 2 records (claude-code), 6 problems")


def test_open_file_problems_cleared_by_next_file(page, site_url):
    open_app(page, site_url)
    choose_file(page, data_file(EDGE_CASES))
    wait_for_opened(page, "edge_cases.jsonl", 2)
    expect(page.locator("details.dataset-problems")).to_be_visible()

    choose_file(page, data_file(FOUNDRY))
    wait_for_opened(page, "stock_toolcall_validation.jsonl", 10)

    expect(page.locator("details.dataset-problems")).to_have_count(0)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("unknown.json", '[{"question": "Hi", "answer": "Hello"}]', "which matches no supported trace format"),
        ("unknown.jsonl", '{"prompt": "Hi"}\n{"prompt": "Bye"}\n', "which matches no supported trace format"),
    ],
)
def test_open_file_unknown_format_lists_formats(page, site_url, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    open_app(page, site_url)

    drop_file(page, path)

    status = page.locator("#open-file-status")
    expect(status).to_contain_text(f"Cannot read {name}: ", timeout=OPEN_TIMEOUT_MS)
    expect(status).to_contain_text(reason)
    expect(status).to_contain_text("Formats tried:")
    for format_name in FORMATS:
        expect(status).to_contain_text(f"{format_name}: ")
    expect(status).to_have_class(re.compile(r"\btext-danger\b"))
    # Each format is on its own line, as in the build's error message.
    assert status.evaluate("element => getComputedStyle(element).whiteSpace") == "pre-line"
    expect(page.locator("#dataset_name")).to_have_text(BUILT_IN_NAME)
    expect(page.locator("#progress")).to_have_text("Record 1 of 4")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.json", "this is not JSON", "not valid JSON"),
        ("empty.jsonl", "", "the file is empty"),
    ],
)
def test_open_file_unreadable_reported(page, site_url, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    open_app(page, site_url)

    choose_file(page, path)

    status = page.locator("#open-file-status")
    expect(status).to_contain_text(f"Cannot read {name}: {reason}", timeout=OPEN_TIMEOUT_MS)
    expect(status).to_have_class(re.compile(r"\btext-danger\b"))
    expect(page.locator("#dataset_name")).to_have_text(BUILT_IN_NAME)


def test_open_file_tool_call_output_card(page, site_url):
    path = data_file(FOUNDRY)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    call = first["messages"][-1]["tool_calls"][0]["function"]
    arguments = json.dumps(json.loads(call["arguments"]), indent=2)
    open_app(page, site_url)

    choose_file(page, path)
    wait_for_opened(page, path.name, 10)

    card = page.locator("#output_calls .message-card")
    expect(card.locator(".card-header")).to_have_text("ASSISTANT - Function Call")
    expect(card.locator(".tool-call code").first).to_have_text(call["name"])
    expect(card.locator("pre.function-call")).to_have_text(f"{call['name']}({arguments})")
    expect(page.get_by_label("LLM Output (Editable)")).to_have_value("")

    # The third record's output is text without a call, so the card is gone.
    page.get_by_role("button", name="Next", exact=True).click()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 3 of 10")
    expect(card).to_have_count(0)
    expect(page.get_by_label("LLM Output (Editable)")).to_have_value(
        "Could you please clarify the stock ticker symbol for Apollo Applications?"
    )


def test_open_file_tool_results_follow_calls(page, site_url):
    path = data_file(SWE_AGENT)
    open_app(page, site_url)

    choose_file(page, path)
    wait_for_opened(page, path.name, 1)
    # System prompt, task, and five pairs of a call and its result.
    expect(page.locator("#conversation .message-card")).to_have_count(12)

    cards = page.locator("#conversation .message-card").evaluate_all(
        """cards => cards.map((card) => ({
            header: card.querySelector(".card-header").textContent,
            calls: [...card.querySelectorAll(".tool-call")].map((call) => [call.dataset.callId, call.querySelector("code").textContent]),
            results: [...card.querySelectorAll(".tool-result")].map((result) => [result.dataset.callId, result.querySelector("code")?.textContent]),
        }))"""
    )
    call_cards = [index for index, card in enumerate(cards) if card["calls"]]
    assert len(call_cards) == 5
    for index in call_cards:
        assert cards[index]["header"] == "ASSISTANT - Function Call"
        assert cards[index + 1]["header"] == "TOOL RESULTS"
        assert cards[index + 1]["results"] == cards[index]["calls"]


def write_large_chat_jsonl(path: Path, records: int, size_bytes: int) -> None:
    """Write OpenAI chat fine-tuning JSONL of about `size_bytes` with `records` three-message lines."""
    words = "the reviewer reads every line of this long question before answering it "
    repeat = max(1, (size_bytes // records - 200) // len(words))
    with path.open("w", encoding="utf-8") as file:
        for index in range(records):
            messages = [
                {"role": "system", "content": f"You answer question {index} briefly."},
                {"role": "user", "content": f"Question {index}: {words * repeat}"},
                {"role": "assistant", "content": f"Answer {index}."},
            ]
            file.write(json.dumps({"messages": messages}) + "\n")


# A timer loop measures how late the page's timers fire. A long-task observer records the page's own
# tasks above 50 ms, and a MutationObserver keeps every text that #open-file-status showed.
START_PROBE = """() => {
    const probe = { gaps: [], longTasks: [], statuses: [] };
    let last = performance.now();
    probe.timer = setInterval(() => {
        const now = performance.now();
        probe.gaps.push(now - last);
        last = now;
    }, 20);
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) probe.longTasks.push([Math.round(entry.startTime), Math.round(entry.duration)]);
    }).observe({ type: "longtask" });
    const status = document.getElementById("open-file-status");
    new MutationObserver(() => probe.statuses.push([Math.round(performance.now()), status.textContent])).observe(
        status, { childList: true, characterData: true, subtree: true },
    );
    window.responsivenessProbe = probe;
}"""
STOP_PROBE = """() => {
    const probe = window.responsivenessProbe;
    clearInterval(probe.timer);
    return { gaps: probe.gaps, longTasks: probe.longTasks, statuses: probe.statuses };
}"""


def test_open_file_large_stays_responsive(page, site_url, tmp_path):
    path = tmp_path / "large.jsonl"
    write_large_chat_jsonl(path, records=20_000, size_bytes=50 * 2**20)
    status = page.locator("#open-file-status")
    open_app(page, site_url)
    page.evaluate(START_PROBE)

    choose_file(page, path)
    round_trips = []
    deadline = time.monotonic() + LARGE_OPEN_TIMEOUT_S
    while not status.inner_text().startswith("Opened") and time.monotonic() < deadline:
        started = time.perf_counter()
        page.evaluate("1 + 1")
        round_trips.append(1000 * (time.perf_counter() - started))
        page.wait_for_timeout(50)
    probe = page.evaluate(STOP_PROBE)

    expect(status).to_have_text("Opened large.jsonl: 20000 records (openai-chat), 0 problems")
    expect(page.locator("#progress")).to_have_text("Record 1 of 20000")
    texts = [text for _, text in probe["statuses"]]
    assert any(text.startswith("Reading large.jsonl: ") for text in texts), texts
    megabytes = path.stat().st_size / 1e6
    assert any(text.startswith(f"Parsing large.jsonl ({megabytes:.1f} MB)") for text in texts), texts

    # Long tasks as [start, duration] in ms, next to when each status appeared, for a failure.
    timeline = f"long tasks {probe['longTasks']}, statuses {probe['statuses'][::5] + probe['statuses'][-1:]}"
    assert max((duration for _, duration in probe["longTasks"]), default=0) < LONGEST_TASK_MS, timeline
    # Timers on a busy machine fire late now and then whatever the page does, so the bound is on
    # the 95th percentile.
    assert statistics.quantiles(probe["gaps"], n=20)[-1] < RESPONSIVE_MS
    assert statistics.median(round_trips) < RESPONSIVE_MS, round_trips

    accept_with_edit(page, "A shorter answer.")
    expect(page.locator("#progress")).to_have_text("Record 2 of 20000")
    curated = download_curated(page, tmp_path)
    reread = load_dataset_bytes(curated.read_bytes(), curated.name)
    assert len(reread.records) == 20_000
    assert reread.records[0].output_text == "A shorter answer."
    assert reread.records[1].output_text == "Answer 1."
