"""Hostile and unusual data in the built site: script payloads stay inert text, nothing is hidden.

The dataset is in the run-row format of the sample data. Its messages, tool calls and outputs hold
HTML and script payloads, roles that try to add attributes or classes, long messages, markdown
tables and code, and emoji, CJK and right-to-left text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from workflow_steps import editor, expect_record, open_review, page_overflow, progress

import build
from sitebuild.serve import start_in_thread

PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<svg onload="window.__pwned=1"><circle r="5"/></svg>',
    "[x](javascript:window.__pwned=1)",
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    '<a href="javascript:window.__pwned=1">click me</a>',
    '<details open ontoggle="window.__pwned=1">toggle</details>',
    '"><img src=x onerror=window.__pwned=1>',
    "<style>.message-card { display: none }</style>",
    '<div style="position:fixed;inset:0" onmouseover="window.__pwned=1">cover</div>',
]

WORLD_TEXT = "Emoji 👩🏽‍💻🎉, combining e\u0301, CJK 漢字テスト, RTL مرحبا بالعالم and עברית"
ATTRIBUTE_ROLE = 'user" onmouseover="window.__pwned=1'
CLASS_ROLE = "user d-none"
TOOL_NAME = '<img src=x onerror="window.__pwned=1">'
TOOL_RESULT_NAME = '<b onmouseover="window.__pwned=1">lookup</b>'
# One token with no break opportunity, as a base64 image URL would be.
UNBROKEN = "data:image/png;base64," + "QUJD" * 150
LONG_TEXT = "A retrieved document. " * 120 + PAYLOADS[0]

PAYLOAD_TABLE = "| Payload | Kind |\n| --- | --- |\n" + "".join(
    f"| {payload} | case {number} |\n" for number, payload in enumerate(PAYLOADS, 1)
)
CODE_BLOCK = "```html\n" + PAYLOADS[1] + "\n<b>bold?</b>\n```"


def tool_call(name: str, arguments: dict) -> dict:
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def run_row(run_id: str, inputs: list[dict], output: dict) -> dict:
    return {"child_run": {"inputs": inputs, "output": output, "funcs": [], "run_id": run_id}, "status": "Pending"}


def payload_rows() -> list[dict]:
    """Return four run rows whose every displayed field carries a payload."""
    paragraphs = "\n\n".join(PAYLOADS)
    return [
        run_row(
            "payload-1",
            [
                {"role": "system", "content": "You check payloads.\n\n" + PAYLOAD_TABLE},
                {"role": "user", "content": paragraphs + "\n\n" + WORLD_TEXT},
                {"role": "assistant", "content": None, "tool_calls": [tool_call(TOOL_NAME, {"q": PAYLOADS[1]})]},
                {"role": "tool", "name": TOOL_RESULT_NAME, "tool_call_id": "call_1", "content": PAYLOADS[0]},
                {"role": ATTRIBUTE_ROLE, "content": "Hover over this card"},
                {"role": CLASS_ROLE, "content": "This card must stay visible"},
            ],
            {"role": "assistant", "content": paragraphs, "tool_calls": [tool_call(TOOL_NAME, {"html": PAYLOADS[2]})]},
        ),
        run_row(
            "payload-2",
            [
                {"role": "user", "content": "A table of payloads:\n\n" + PAYLOAD_TABLE + "\n\n" + CODE_BLOCK},
                {"role": "user", "content": LONG_TEXT},
                {"role": "user", "content": UNBROKEN},
            ],
            {"role": "assistant", "content": PAYLOAD_TABLE},
        ),
        run_row(
            "payload-3",
            [{"role": "user", "content": WORLD_TEXT}],
            {"role": "assistant", "content": WORLD_TEXT},
        ),
        run_row(
            "payload-4",
            [{"role": "user", "content": PAYLOADS[3] + " and <javascript:window.__pwned=1>"}],
            {"role": "assistant", "content": PAYLOADS[4]},
        ),
    ]


@pytest.fixture(scope="session")
def payload_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve a site built from the payload rows, once for the whole test session."""
    folder = tmp_path_factory.mktemp("payload-site")
    data = folder / "payloads.json"
    data.write_text(json.dumps(payload_rows(), ensure_ascii=False, indent=2), encoding="utf-8")
    out = folder / "_site"
    assert build.main(["--data", str(data), "--out", str(out)]) == 0
    server = start_in_thread(out)
    yield f"http://127.0.0.1:{server.server_port}/app/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def reading_page(browser, payload_site_url: str) -> Iterator[Page]:
    """One page on the payload site for the tests that only read records, so that it boots once."""
    context = browser.new_context()
    page = context.new_page()
    open_review(page, payload_site_url)
    yield page
    context.close()


def show_record(page: Page, number: int) -> None:
    """Show record `number` freshly rendered, with its long messages collapsed again."""
    for target in (number % 4 + 1, number):
        page.locator("#jump_to").fill(str(target))
        page.get_by_role("button", name="Go").click()
        expect(progress(page)).to_have_text(f"Record {target} of 4")


def is_pwned(page) -> bool:
    return page.evaluate("typeof window.__pwned !== 'undefined'")


# Elements and attributes that data could only add by being parsed as HTML.
COUNT_INJECTED = """
() => {
  const counts = {elements: 0, handlers: 0, scriptLinks: 0};
  for (const root of document.querySelectorAll(".conversation-column, .review-column")) {
    counts.elements += root.querySelectorAll("script, img, svg, iframe, style, object, embed").length;
    counts.handlers += [...root.querySelectorAll("*")].filter(
      (element) => [...element.attributes].some((attribute) => attribute.name.startsWith("on")),
    ).length;
    counts.scriptLinks += root.querySelectorAll("a[href^='javascript' i]").length;
  }
  return counts;
}
"""


def exercise_cards(page) -> None:
    """Hover over and click every message card's header and body."""
    cards = page.locator(".message-card")
    for number in range(cards.count()):
        card = cards.nth(number)
        card.scroll_into_view_if_needed()
        card.hover()
        card.locator(".card-header").click()
        card.locator(".card-body").hover()
        card.locator(".card-body").click(position={"x": 5, "y": 5})


def test_payloads_inert_in_every_record(page, payload_site_url):
    open_review(page, payload_site_url)

    for number in range(1, 5):
        expect(progress(page)).to_have_text(f"Record {number} of 4")
        for summary in page.locator(".message-card summary").all():
            summary.click()
        exercise_cards(page)
        editor(page).hover()

        assert is_pwned(page) is False
        assert page.evaluate(COUNT_INJECTED) == {"elements": 0, "handlers": 0, "scriptLinks": 0}
        page.keyboard.press("Escape")
        page.keyboard.press("j")

    assert is_pwned(page) is False


def test_payloads_shown_as_text(reading_page):
    page = reading_page
    show_record(page, 1)

    # The attribute and class roles get other classes, so this is the one real user card.
    user_card = page.locator(".conversation-column .message-card.role-user")
    expect(user_card).to_have_count(1)
    for payload in PAYLOADS:
        expect(user_card).to_contain_text(payload)
    expect(user_card).to_contain_text(WORLD_TEXT)


def test_payload_output_kept_literally_in_editor(reading_page):
    page = reading_page
    show_record(page, 1)

    expect(editor(page)).to_have_value("\n\n".join(PAYLOADS))


def test_payload_table_cells_shown_as_text(reading_page):
    page = reading_page
    show_record(page, 2)

    cells = page.locator(".message-card table").first.locator("tbody tr td:first-child")

    expect(cells).to_have_text(PAYLOADS)


def test_payload_code_block_shown_as_text(reading_page):
    page = reading_page
    show_record(page, 2)

    code = page.locator(".message-card pre code").first

    expect(code).to_have_text(PAYLOADS[1] + "\n<b>bold?</b>\n")


def test_tool_call_names_shown_as_text(reading_page):
    page = reading_page
    show_record(page, 1)

    call_card = page.locator(".message-card", has_text="Function Call").first
    expect(call_card.locator(".tool-call code").first).to_have_text(TOOL_NAME)
    expect(call_card.locator("pre.function-call")).to_contain_text(PAYLOADS[1])
    expect(page.locator(".tool-result code").first).to_have_text(TOOL_RESULT_NAME)
    expect(page.locator(".tool-result pre")).to_have_text(PAYLOADS[0])


def test_output_tool_call_names_shown_as_text(reading_page):
    page = reading_page
    show_record(page, 1)

    output_calls = page.locator(".review-column .tool-call")

    expect(output_calls.locator("code").first).to_have_text(TOOL_NAME)


def test_role_with_quotes_stays_one_card(reading_page):
    page = reading_page
    show_record(page, 1)

    header = page.locator(".message-card .card-header", has_text='USER" ONMOUSEOVER')

    expect(header).to_have_text(ATTRIBUTE_ROLE.upper())
    header.hover()
    assert is_pwned(page) is False


def test_role_with_class_name_stays_visible(reading_page):
    page = reading_page
    show_record(page, 1)

    card = page.locator(".message-card", has_text="This card must stay visible")

    expect(card).to_be_visible()
    expect(card.locator(".card-header")).to_have_text(CLASS_ROLE.upper())
    assert "d-none" not in card.get_attribute("class").split()


def test_no_card_hidden(reading_page):
    page = reading_page

    for number in range(1, 5):
        show_record(page, number)
        cards = page.locator(".message-card")
        expect(cards.first).to_be_visible()
        for index in range(cards.count()):
            expect(cards.nth(index)).to_be_visible()


def test_message_card_counts_match_data(reading_page):
    page = reading_page

    for number, row in enumerate(payload_rows(), 1):
        show_record(page, number)
        expect(page.locator(".conversation-column .message-card")).to_have_count(len(row["child_run"]["inputs"]))


def test_world_text_round_trips_through_accept(page, payload_site_url):
    open_review(page, payload_site_url)
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 3 of 4")
    expect(page.locator(".message-card.role-user .card-body")).to_have_text(WORLD_TEXT)
    editor(page).fill(WORLD_TEXT + " ✓")

    page.keyboard.press("Control+Enter")

    expect(progress(page)).to_have_text("Record 4 of 4")
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    expect_record(page, "Record 3 of 4", "Accepted")
    expect(editor(page)).to_have_value(WORLD_TEXT + " ✓")


def test_payload_edit_diff_shown_as_text(page, payload_site_url):
    open_review(page, payload_site_url)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 4 of 4")

    editor(page).fill(PAYLOADS[4] + " " + PAYLOADS[0])

    expect(page.locator(".output-diff ins")).to_contain_text(PAYLOADS[0])
    assert page.evaluate(COUNT_INJECTED) == {"elements": 0, "handlers": 0, "scriptLinks": 0}
    assert is_pwned(page) is False


# Reading long and formatted messages.


def test_long_message_starts_collapsed(reading_page):
    page = reading_page
    show_record(page, 2)

    long_card = page.locator(".message-card", has_text=f"{len(LONG_TEXT):,} characters")

    expect(long_card.locator("details")).not_to_have_attribute("open", "")
    expect(long_card.locator("details > summary")).to_have_text(f"Show message ({len(LONG_TEXT):,} characters)")
    long_card.locator("summary").click()
    expect(long_card.locator("details")).to_have_attribute("open", "")
    expect(long_card).to_contain_text(PAYLOADS[0])


def test_markdown_table_renders(reading_page):
    page = reading_page
    show_record(page, 2)

    table = page.locator(".message-card table").first

    expect(table.locator("thead th")).to_have_text(["Payload", "Kind"])
    expect(table.locator("tbody tr")).to_have_count(len(PAYLOADS))


def test_markdown_code_block_renders(reading_page):
    page = reading_page
    show_record(page, 2)

    expect(page.locator(".message-card pre > code.language-html")).to_have_count(1)


def test_system_message_with_payloads_starts_collapsed(reading_page):
    page = reading_page
    show_record(page, 1)

    details = page.locator(".message-card.role-system details")

    expect(details).not_to_have_attribute("open", "")
    details.locator("summary").click()
    expect(details.locator("table tbody tr")).to_have_count(len(PAYLOADS))
    assert is_pwned(page) is False


# Layout with long and wide content.


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_payload_records_fit_width(browser, payload_site_url, tmp_path, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        open_review(page, payload_site_url)
        for number in range(1, 5):
            expect(progress(page)).to_have_text(f"Record {number} of 4")
            for summary in page.locator(".message-card summary").all():
                summary.click()

            overflow = page_overflow(page)
            page.screenshot(path=tmp_path / f"payload-{width}-record-{number}.png", full_page=True)
            assert overflow["scrollWidth"] <= overflow["innerWidth"], f"record {number}"
            page.keyboard.press("j")
    finally:
        context.close()
