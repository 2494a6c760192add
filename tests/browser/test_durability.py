"""Saved progress under faults: closed browsers, two tabs, failing or corrupted storage, old stores, backups.

Each test drives the built site in Chromium and injects one fault. The faults are a browser closed
right after a decision is shown, a second tab writing to the same database, IndexedDB that throws or
is missing, entries that the app cannot read, a database left by the first version of the app, and
a progress file moved between two browser profiles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import BOOT_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, REPO_DIR
from playwright.sync_api import expect
from test_review_site import click_and_wait_for_save, open_app, saved_marker

SAMPLE = json.loads((REPO_DIR / "sample_data" / "langsmith_runs.json").read_text(encoding="utf-8"))
ORIGINAL_OUTPUTS = [row["child_run"]["output"]["content"] for row in SAMPLE]

# Waits for another tab or for a notification: no boot involved, so much shorter than a boot.
UPDATE_TIMEOUT_MS = 15_000

READ_DATABASE = """
async () => {
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open("llm-data-review");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const readAll = (name) => new Promise((resolve, reject) => {
    if (!database.objectStoreNames.contains(name)) { resolve([]); return; }
    const request = database.transaction(name).objectStore(name).getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const entries = { records: await readAll("records"), sessions: await readAll("sessions") };
  database.close();
  return entries;
}
"""

PUT_ENTRY = """
async ([storeName, entry]) => {
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open("llm-data-review");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise((resolve, reject) => {
    const transaction = database.transaction(storeName, "readwrite");
    transaction.objectStore(storeName).put(entry);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
  database.close();
}
"""

# The first version of the app kept one object per dataset in "reviews", keyed by the dataset's id.
CREATE_VERSION_1_DATABASE = """
async ([datasetId, state]) => {
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open("llm-data-review", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("reviews");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise((resolve, reject) => {
    const transaction = database.transaction("reviews", "readwrite");
    transaction.objectStore("reviews").put(state, datasetId);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
  database.close();
}
"""

QUOTA_EXCEEDED = """
IDBObjectStore.prototype.put = function () {
  throw new DOMException("quota", "QuotaExceededError");
};
"""

OPEN_THROWS_SECURITY_ERROR = """
IDBFactory.prototype.open = function () {
  throw new DOMException("storage is blocked", "SecurityError");
};
"""

NO_INDEXED_DB = """
Object.defineProperty(window, "indexedDB", { value: undefined, configurable: true });
"""


def sample_dataset_id(site_dir: Path) -> str:
    """Return the id the app gives the built-in dataset: the sha256 of the file's bytes."""
    # The build ships the app's files, the dataset among them, as text in one JSON object.
    files = json.loads((site_dir / "app" / "runtime" / "files.json").read_text(encoding="utf-8"))
    (name,) = [name for name in files if name.startswith("app/datasets/")]
    return hashlib.sha256(files[name].encode("utf-8")).hexdigest()


@contextmanager
def launched_profile(browser, profile: Path) -> Iterator:
    """Run Chromium on the profile folder `profile`, closing it on exit."""
    context = browser.browser_type.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, accept_downloads=True
    )
    try:
        yield context
    finally:
        context.close()


def read_database(page) -> dict[str, list[dict]]:
    return page.evaluate(READ_DATABASE)


def dataset_entries(page, dataset: str) -> dict[str, list[dict]]:
    """Return the stored records and session of `dataset`, records sorted by index."""
    entries = read_database(page)
    records = sorted((entry for entry in entries["records"] if entry["dataset"] == dataset), key=lambda entry: entry["index"])
    sessions = [entry for entry in entries["sessions"] if entry["dataset"] == dataset]
    return {"records": records, "sessions": sessions}


def click(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


def expect_progress(page, text: str, timeout: float = UPDATE_TIMEOUT_MS) -> None:
    expect(page.locator("#progress")).to_have_text(text, timeout=timeout)


def expect_count(page, status: str, count: int) -> None:
    cell = page.locator(".counts-table tr", has_text=status).locator("td").nth(1)
    expect(cell).to_have_text(str(count), timeout=UPDATE_TIMEOUT_MS)


def show_record(page, number: int) -> None:
    """Jump to record `number` (1-based) and wait until it is shown."""
    page.get_by_label("Record #").fill(str(number))
    click(page, "Go")
    expect_progress(page, f"Record {number} of 4")


def expect_record(page, number: int, status: str, output: str) -> None:
    show_record(page, number)
    expect(page.locator(".status-box")).to_have_text(f"Status: {status}")
    expect(page.get_by_label("LLM Output (Editable)")).to_have_value(output)


def download_curated(page, tmp_path: Path) -> list[dict]:
    with page.expect_download() as download_info:
        click(page, "Download curated data")
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    return json.loads(path.read_text(encoding="utf-8"))


# The browser closes right after a decision is shown.


def test_closed_browser_keeps_shown_decision(browser, site_url, tmp_path):
    profile = tmp_path / "profile"
    with launched_profile(browser, profile) as context:
        page = context.new_page()
        open_app(page, site_url)
        page.get_by_label("LLM Output (Editable)").fill("Edited before the browser closed")
        click(page, "Accept")
        expect_progress(page, "Record 2 of 4")

    with launched_profile(browser, profile) as context:
        page = context.new_page()
        open_app(page, site_url, first="Record 2 of 4")
        expect_count(page, "Accepted", 1)
        expect_record(page, 1, "Accepted", "Edited before the browser closed")


def test_closed_browser_keeps_quick_decisions(browser, site_url, tmp_path):
    profile = tmp_path / "profile"
    with launched_profile(browser, profile) as context:
        page = context.new_page()
        open_app(page, site_url)
        page.get_by_label("LLM Output (Editable)").fill("Quick edit")
        # No wait between the clicks: each decision is queued behind the previous one's write.
        click(page, "Accept")
        click(page, "Reject")
        click(page, "Accept")
        expect_progress(page, "Record 4 of 4")

    with launched_profile(browser, profile) as context:
        page = context.new_page()
        open_app(page, site_url, first="Record 4 of 4")
        expect_count(page, "Accepted", 2)
        expect_count(page, "Rejected", 1)
        expect_record(page, 1, "Accepted", "Quick edit")
        expect_record(page, 2, "Rejected", ORIGINAL_OUTPUTS[1])
        expect_record(page, 3, "Accepted", ORIGINAL_OUTPUTS[2])
        expect_record(page, 4, "Pending", ORIGINAL_OUTPUTS[3])


# Saves confirmed while the reviewer is still working on the record.


def test_unsaved_edit_survives_note_save(page, site_url):
    open_app(page, site_url)
    editor = page.get_by_label("LLM Output (Editable)")
    editor.fill("Edit not accepted yet")
    page.get_by_label("Note").fill("Written before accepting")
    page.get_by_placeholder("New label").fill("checked")
    click_and_wait_for_save(page, "Add label")

    # The new checkbox comes with the page update after the last save, behind any update of the
    # editor that the saves of the note and the label caused.
    expect(page.get_by_label("checked", exact=True)).to_be_checked()
    expect(editor).to_have_value("Edit not accepted yet")
    click_and_wait_for_save(page, "Accept")
    page.reload()
    expect_progress(page, "Record 2 of 4", timeout=BOOT_TIMEOUT_MS)
    expect_record(page, 1, "Accepted", "Edit not accepted yet")
    expect(page.get_by_label("Note")).to_have_value("Written before accepting")


def test_note_and_label_saved_once(page, site_url):
    open_app(page, site_url)
    page.get_by_placeholder("New label").fill("unclear")
    click_and_wait_for_save(page, "Add label")
    label = page.get_by_label("unclear", exact=True)
    expect(label).to_be_checked()
    before = int(saved_marker(page))

    # The note goes out when the checkbox takes the focus, in the same message as the labels.
    page.get_by_label("Note").fill("Not a label after all")
    label.click()
    expect(label).not_to_be_checked()
    click_and_wait_for_save(page, "Accept")
    expect_progress(page, "Record 2 of 4")

    # One save each for the note, the labels and the decision: a confirmed save that set the
    # checkboxes back would start a loop of saves.
    assert int(saved_marker(page)) == before + 3
    page.reload()
    expect_progress(page, "Record 2 of 4", timeout=BOOT_TIMEOUT_MS)
    show_record(page, 1)
    expect(page.get_by_label("Note")).to_have_value("Not a label after all")
    # No record has the label any more, so it is no longer offered.
    expect(page.get_by_label("unclear", exact=True)).to_have_count(0)


# Two tabs on the same dataset.


def test_two_tabs_show_each_others_decisions(context, site_url):
    first = context.new_page()
    second = context.new_page()
    open_app(first, site_url)
    open_app(second, site_url)

    click_and_wait_for_save(first, "Accept")
    expect_progress(first, "Record 2 of 4")

    expect_count(second, "Accepted", 1)
    expect(second.locator(".status-box")).to_have_text("Status: Accepted", timeout=UPDATE_TIMEOUT_MS)
    expect_progress(second, "Record 1 of 4")


def test_two_tabs_interleaved_decisions_all_kept(context, site_url):
    first = context.new_page()
    second = context.new_page()
    open_app(first, site_url)
    open_app(second, site_url)
    show_record(second, 3)

    # Both tabs decide at once, then again, so their writes and messages cross.
    second.get_by_label("LLM Output (Editable)").fill("Edited in the second tab")
    click(first, "Accept")
    click(second, "Accept")
    expect_progress(first, "Record 2 of 4")
    expect_progress(second, "Record 4 of 4")
    click(first, "Reject")
    click(second, "Reject")
    expect_progress(first, "Record 3 of 4")
    expect_progress(second, "Record 4 of 4")

    for page in (first, second):
        expect_count(page, "Accepted", 2)
        expect_count(page, "Rejected", 2)

    for page in (first, second):
        page.reload()
        expect(page.locator("#progress")).to_contain_text("of 4", timeout=BOOT_TIMEOUT_MS)
        expect_count(page, "Accepted", 2)
        expect_count(page, "Rejected", 2)
        expect_record(page, 1, "Accepted", ORIGINAL_OUTPUTS[0])
        expect_record(page, 2, "Rejected", ORIGINAL_OUTPUTS[1])
        expect_record(page, 3, "Accepted", "Edited in the second tab")
        expect_record(page, 4, "Rejected", ORIGINAL_OUTPUTS[3])


def test_two_tabs_same_record_later_wins(context, site_url):
    first = context.new_page()
    second = context.new_page()
    open_app(first, site_url)
    open_app(second, site_url)

    click_and_wait_for_save(first, "Reject")
    expect_count(second, "Rejected", 1)
    second.get_by_label("LLM Output (Editable)").fill("The second tab decided last")
    click_and_wait_for_save(second, "Accept")

    expect_count(first, "Accepted", 1)
    expect_count(first, "Rejected", 0)
    expect_record(first, 1, "Accepted", "The second tab decided last")

    for page in (first, second):
        page.reload()
        expect(page.locator("#progress")).to_contain_text("of 4", timeout=BOOT_TIMEOUT_MS)
        expect_count(page, "Accepted", 1)
        expect_count(page, "Rejected", 0)
        expect_record(page, 1, "Accepted", "The second tab decided last")


# Storage that fails: quota exceeded, blocked or missing.


@pytest.mark.parametrize(
    ("init_script", "warning"),
    [
        (QUOTA_EXCEEDED, "storage quota is exceeded"),
        (OPEN_THROWS_SECURITY_ERROR, "SecurityError"),
        (NO_INDEXED_DB, "no IndexedDB"),
    ],
    ids=["quota-exceeded", "open-throws-security-error", "no-indexeddb"],
)
def test_failing_storage_warns_and_download_works(context, site_url, tmp_path, init_script, warning):
    context.add_init_script(init_script)
    page = context.new_page()
    open_app(page, site_url)

    page.get_by_label("LLM Output (Editable)").fill("Kept only in the download")
    click(page, "Accept")
    expect_progress(page, "Record 2 of 4")
    notice = page.locator("#storage_notice .alert")
    expect(notice).to_contain_text("Progress is not being saved in this browser", timeout=UPDATE_TIMEOUT_MS)
    expect(notice).to_contain_text(warning)

    click(page, "Reject")
    expect_progress(page, "Record 3 of 4")
    click(page, "Accept")
    expect_progress(page, "Record 4 of 4")
    expect_count(page, "Accepted", 2)
    expect_count(page, "Rejected", 1)

    curated = download_curated(page, tmp_path)
    assert [row["status"] for row in curated] == ["Accepted", "Rejected", "Accepted", "Pending"]
    assert curated[0]["child_run"]["output"]["content"] == "Kept only in the download"
    assert curated[2]["child_run"]["output"]["content"] == ORIGINAL_OUTPUTS[2]


# Stored entries that the app cannot read.


@pytest.mark.parametrize(
    ("store", "bad_entry"),
    [
        ("records", {"index": 2, "status": "Maybe", "edited_output": None, "labels": [], "note": ""}),
        ("sessions", {"schema": 99, "position": 0}),
    ],
    ids=["status-maybe", "schema-99"],
)
def test_unreadable_store_offers_choices(page, site_url, tmp_path, store, bad_entry):
    open_app(page, site_url)
    click_and_wait_for_save(page, "Accept")
    (first_record,) = read_database(page)["records"]
    dataset = first_record["dataset"]
    page.evaluate(PUT_ENTRY, [store, {"dataset": dataset, **bad_entry}])
    stored = dataset_entries(page, dataset)

    page.reload()
    alert = page.locator("#storage_notice .alert-danger")
    expect(alert).to_contain_text("could not be read", timeout=BOOT_TIMEOUT_MS)
    expect(alert.get_by_role("button", name="Download saved progress as it is")).to_be_visible()
    expect(alert.get_by_role("button", name="Start fresh")).to_be_visible()

    # Deciding before choosing works in the page but writes nothing over the stored entries.
    expect_progress(page, "Record 1 of 4")
    click(page, "Reject")
    expect_progress(page, "Record 2 of 4")
    assert dataset_entries(page, dataset) == stored

    with page.expect_download() as download_info:
        click(page, "Download saved progress as it is")
    raw_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(raw_path)
    raw = json.loads(raw_path.read_text(encoding="utf-8"))
    assert raw["dataset"] == dataset
    assert raw["records"] == stored["records"]
    assert [raw["session"]] == stored["sessions"]
    assert dataset_entries(page, dataset) == stored

    click(page, "Start fresh")
    expect(page.locator(".shiny-notification")).to_contain_text("starts fresh", timeout=UPDATE_TIMEOUT_MS)
    expect(alert).to_have_count(0)
    page.wait_for_function(
        f"async () => ({READ_DATABASE})().then(entries => entries.records.length === 1"
        " && entries.records[0].status === 'Rejected' && entries.records[0].index === 0)",
        timeout=UPDATE_TIMEOUT_MS,
        polling=100,
    )
    click_and_wait_for_save(page, "Accept")
    expect_progress(page, "Record 3 of 4")

    page.reload()
    expect_progress(page, "Record 3 of 4", timeout=BOOT_TIMEOUT_MS)
    expect(page.locator("#storage_notice .alert")).to_have_count(0)
    expect_count(page, "Rejected", 1)
    expect_count(page, "Accepted", 1)
    expect_record(page, 1, "Rejected", ORIGINAL_OUTPUTS[0])
    expect_record(page, 2, "Accepted", ORIGINAL_OUTPUTS[1])


# A database left by the first version of the app.


@pytest.mark.parametrize(
    "extra_records",
    [
        {},
        # Entries that version 1 never wrote, which the migration skips instead of failing.
        {"first": {"status": "Rejected", "output": "x"}, "-1": {"status": "Rejected"}, "3": None},
    ],
    ids=["clean", "with-invalid-entries"],
)
def test_version_1_store_is_migrated(page, site_url, site_dir, extra_records):
    # A blank page on the site's origin creates the old database before the app opens it.
    setup_url = site_url + "create-version-1-database"
    page.route(setup_url, lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>setup</title>"))
    page.goto(setup_url)
    dataset = sample_dataset_id(site_dir)
    records = {"0": {"status": "Accepted", "output": "old edit"}, **extra_records}
    old_state = {"schema": 1, "position": 2, "records": records}
    page.evaluate(CREATE_VERSION_1_DATABASE, [dataset, old_state])

    open_app(page, site_url, first="Record 3 of 4")
    expect_count(page, "Accepted", 1)
    expect_count(page, "Pending", 3)
    expect_record(page, 1, "Accepted", "old edit")

    expect(page.locator("#storage_notice .alert")).to_have_count(0)

    page.reload()
    expect_progress(page, "Record 1 of 4", timeout=BOOT_TIMEOUT_MS)
    expect_record(page, 1, "Accepted", "old edit")


# A progress file moved to another browser profile.


def test_progress_backup_merges_and_reports_conflict(browser, page, site_url, tmp_path):
    open_app(page, site_url)
    page.get_by_label("LLM Output (Editable)").fill("Accepted in the first browser")
    click_and_wait_for_save(page, "Accept")
    expect_progress(page, "Record 2 of 4")
    page.get_by_label("Note").fill("Wrong tool called")
    page.get_by_placeholder("New label").fill("tool-error")
    click_and_wait_for_save(page, "Add label")
    expect(page.get_by_label("tool-error")).to_be_checked()
    click_and_wait_for_save(page, "Reject")
    expect_progress(page, "Record 3 of 4")

    with page.expect_download() as download_info:
        click(page, "Download progress")
    backup_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(backup_path)
    backup = json.loads(backup_path.read_text(encoding="utf-8"))
    assert [record["index"] for record in backup["records"]] == [0, 1]

    other_context = browser.new_context(accept_downloads=True)
    try:
        other = other_context.new_page()
        open_app(other, site_url)
        click_and_wait_for_save(other, "Reject")
        expect_progress(other, "Record 2 of 4")

        with other.expect_file_chooser() as chooser_info:
            click(other, "Load progress…")
        chooser_info.value.set_files(backup_path)

        notification = other.locator(".shiny-notification")
        expect(notification).to_contain_text("1 record(s) updated", timeout=UPDATE_TIMEOUT_MS)
        expect(notification).to_contain_text("1 conflict(s) kept as in this browser (records 1)")
        expect_count(other, "Rejected", 2)
        expect_count(other, "Accepted", 0)

        other.reload()
        expect_progress(other, "Record 2 of 4", timeout=BOOT_TIMEOUT_MS)
        expect_count(other, "Rejected", 2)
        expect_record(other, 1, "Rejected", ORIGINAL_OUTPUTS[0])
        expect_record(other, 2, "Rejected", ORIGINAL_OUTPUTS[1])
        expect(other.get_by_label("Note")).to_have_value("Wrong tool called")
        expect(other.get_by_label("tool-error")).to_be_checked()
    finally:
        other_context.close()
