"""Notes, labels and exports on a site built with preset labels, and a review from the keyboard alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_DIR
from playwright.sync_api import expect
from workflow_steps import (
    RECORD_4_PHRASE,
    SAMPLE,
    SAMPLE_OUTPUTS,
    active_element_id,
    download_text,
    editor,
    expect_count,
    expect_record,
    open_review,
    press_tab_until,
    progress,
    read_jsonl,
    saved_marker,
    wait_for_save_after,
)

import build
from sitebuild.serve import start_in_thread

PRESET_LABELS = ["hallucination", "off topic"]


@pytest.fixture(scope="session")
def labels_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the sample data built with preset labels, once for the whole test session."""
    out = tmp_path_factory.mktemp("labels-site") / "_site"
    data = REPO_DIR / "sample_data" / "langsmith_runs.json"
    assert build.main(["--data", str(data), "--out", str(out), "--labels", ",".join(PRESET_LABELS)]) == 0
    server = start_in_thread(out)
    yield f"http://127.0.0.1:{server.server_port}/app/"
    server.shutdown()
    server.server_close()


def label_box(page, label: str):
    return page.get_by_role("checkbox", name=label, exact=True)


def export_as(page, choice: str, folder: Path) -> tuple[str, str]:
    """Choose `choice` in the Export select, press Download and return (file name, text)."""
    page.locator("#export_format").select_option(choice)
    expect(page.locator("#export_format")).to_have_value(choice)
    return download_text(page, lambda: page.get_by_role("button", name="Download curated data").click(), folder)


def annotate_first_two_records(page) -> None:
    """Give record 1 a note, two labels and an accepted edit, then reject record 2 with a note and a label."""
    page.locator("#note").fill("Checked against the docs ✓")
    label_box(page, "hallucination").check()
    page.locator("#new_label").fill("needs source")
    page.get_by_role("button", name="Add label").click()
    expect(label_box(page, "needs source")).to_be_checked()
    expect(page.locator("#new_label")).to_have_value("")

    editor(page).fill("A shorter answer about traceable.")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect_record(page, "Record 2 of 4", "Pending")
    page.locator("#note").fill("Off the question")
    label_box(page, "off topic").check()
    page.get_by_role("button", name="Reject", exact=True).click()
    expect_record(page, "Record 3 of 4", "Pending")


# Preset and new labels.


def test_preset_labels_offered_for_each_record(page, labels_site_url):
    open_review(page, labels_site_url)

    for label in PRESET_LABELS:
        expect(label_box(page, label)).not_to_be_checked()
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 4")
    for label in PRESET_LABELS:
        expect(label_box(page, label)).to_be_visible()


def test_preset_labels_offered_in_filter(page, labels_site_url):
    open_review(page, labels_site_url)

    options = page.locator("#filter_label option")

    expect(options).to_have_text(["All", *PRESET_LABELS])


def test_add_label_creates_checked_label(page, labels_site_url):
    open_review(page, labels_site_url)
    page.locator("#new_label").fill("needs source")

    page.get_by_role("button", name="Add label").click()

    expect(label_box(page, "needs source")).to_be_checked()
    expect(page.locator(".label-counts-table")).to_contain_text("needs source")
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 4")
    expect(label_box(page, "needs source")).not_to_be_checked()


def test_add_label_with_enter_key(page, labels_site_url):
    open_review(page, labels_site_url)
    page.locator("#new_label").click()
    page.keyboard.type("typed label")

    page.keyboard.press("Enter")

    expect(label_box(page, "typed label")).to_be_checked()
    expect(page.locator("#new_label")).to_have_value("")


def test_label_filter_with_preset_label(page, labels_site_url):
    open_review(page, labels_site_url)
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 3 of 4")
    label_box(page, "off topic").check()
    expect(page.locator(".label-counts-table")).to_contain_text("off topic")

    page.locator("#filter_label").select_option("off topic")

    expect(progress(page)).to_have_text("Record 1 of 1 (filtered from 4)")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[2])


# Persistence.


def test_note_and_labels_survive_reload(page, labels_site_url):
    open_review(page, labels_site_url)
    page.locator("#note").fill("Keep this note — 注記")
    label_box(page, "hallucination").check()
    page.locator("#new_label").fill("needs source")
    page.get_by_role("button", name="Add label").click()
    expect(label_box(page, "needs source")).to_be_checked()
    previous = saved_marker(page)
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 4")
    wait_for_save_after(page, previous)

    page.reload()

    open_review(page, labels_site_url, first="Record 2 of 4")
    page.keyboard.press("k")
    expect(progress(page)).to_have_text("Record 1 of 4")
    expect(page.locator("#note")).to_have_value("Keep this note — 注記")
    expect(label_box(page, "hallucination")).to_be_checked()
    expect(label_box(page, "needs source")).to_be_checked()
    expect(label_box(page, "off topic")).not_to_be_checked()


def test_note_kept_when_leaving_at_once(page, labels_site_url):
    open_review(page, labels_site_url)
    page.keyboard.press("n")
    page.keyboard.type("written and left at once")

    # Escape then "j" right away: the note must not wait for the debounce, nor land on record 2.
    page.keyboard.press("Escape")
    page.keyboard.press("j")

    expect(progress(page)).to_have_text("Record 2 of 4")
    expect(page.locator("#note")).to_have_value("")
    page.keyboard.press("k")
    expect(page.locator("#note")).to_have_value("written and left at once")


# Exports.


def test_export_original_has_statuses_and_edit(page, labels_site_url, tmp_path):
    open_review(page, labels_site_url)
    annotate_first_two_records(page)

    name, text = export_as(page, "original", tmp_path)

    rows = json.loads(text)
    assert name == "langsmith_runs.curated.json"
    assert [row["status"] for row in rows] == ["Accepted", "Rejected", "Pending", "Pending"]
    assert rows[0]["child_run"]["output"]["content"] == "A shorter answer about traceable."
    assert rows[1]["child_run"] == SAMPLE[1]["child_run"]


def test_export_openai_has_accepted_records(page, labels_site_url, tmp_path):
    open_review(page, labels_site_url)
    annotate_first_two_records(page)

    name, text = export_as(page, "openai", tmp_path)

    lines = read_jsonl(text)
    assert name == "langsmith_runs.finetune.jsonl"
    assert len(lines) == 1
    assert lines[0]["messages"][-1] == {"role": "assistant", "content": "A shorter answer about traceable."}
    assert lines[0]["messages"][-2]["content"] == SAMPLE[0]["child_run"]["inputs"][-1]["content"]


def test_export_normalized_has_notes_and_labels(page, labels_site_url, tmp_path):
    open_review(page, labels_site_url)
    annotate_first_two_records(page)

    name, text = export_as(page, "normalized", tmp_path)

    reviews = [line["review"] for line in read_jsonl(text)]
    assert name == "langsmith_runs.reviewed.jsonl"
    assert [review["status"] for review in reviews] == ["Accepted", "Rejected", "Pending", "Pending"]
    assert reviews[0]["note"] == "Checked against the docs ✓"
    assert reviews[0]["labels"] == ["hallucination", "needs source"]
    assert reviews[0]["edited_output"] == "A shorter answer about traceable."
    assert reviews[1]["note"] == "Off the question"
    assert reviews[1]["labels"] == ["off topic"]
    assert reviews[2]["labels"] == []


def test_exports_after_reload_keep_notes_and_labels(page, labels_site_url, tmp_path):
    open_review(page, labels_site_url)
    annotate_first_two_records(page)
    previous = saved_marker(page)
    page.keyboard.press("j")
    wait_for_save_after(page, previous)

    page.reload()
    open_review(page, labels_site_url, first="Record 4 of 4")

    reviews = [line["review"] for line in read_jsonl(export_as(page, "normalized", tmp_path)[1])]
    assert reviews[0]["labels"] == ["hallucination", "needs source"]
    assert reviews[1]["note"] == "Off the question"
    rows = json.loads(export_as(page, "original", tmp_path)[1])
    assert rows[0]["child_run"]["output"]["content"] == "A shorter answer about traceable."
    assert len(read_jsonl(export_as(page, "openai", tmp_path)[1])) == 1


# A whole review from the keyboard.


def press_tab_to(page, element_id: str) -> None:
    press_tab_until(page, lambda focused: focused["id"] == element_id)


def press_tab_to_label(page, label: str) -> None:
    press_tab_until(page, lambda focused: focused["name"] == "labels" and focused["value"] == label)


def test_review_whole_dataset_from_keyboard(page, labels_site_url, tmp_path):
    open_review(page, labels_site_url)

    # Record 1: a note, a label ticked with Space, then an edit accepted with Ctrl+Enter.
    page.keyboard.press("n")
    page.keyboard.type("Fixed the example")
    press_tab_to_label(page, "hallucination")
    page.keyboard.press("Space")
    expect(label_box(page, "hallucination")).to_be_checked()
    page.keyboard.press("e")
    page.keyboard.press("Control+a")
    page.keyboard.type("Use @traceable on the function.")
    page.keyboard.press("Control+Enter")
    expect_record(page, "Record 2 of 4", "Pending")
    page.keyboard.press("Escape")

    # Record 2: note and label, Reject, Undo, Reject again.
    page.keyboard.press("n")
    page.keyboard.type("Does not answer")
    press_tab_to_label(page, "off topic")
    page.keyboard.press("Space")
    expect(label_box(page, "off topic")).to_be_checked()
    page.keyboard.press("r")
    expect_record(page, "Record 3 of 4", "Pending")
    page.keyboard.press("u")
    expect_record(page, "Record 2 of 4", "Pending")
    expect(page.locator("#note")).to_have_value("Does not answer")
    expect(label_box(page, "off topic")).to_be_checked()
    page.keyboard.press("r")
    expect_record(page, "Record 3 of 4", "Pending")
    expect_count(page, "Rejected", 1)

    # Record 4, found with search, gets a note, a label and an edit.
    page.keyboard.press("/")
    page.keyboard.type(RECORD_4_PHRASE)
    expect(progress(page)).to_have_text("Record 1 of 1 (filtered from 4)")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[3])
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    page.keyboard.type("Trimmed the answer")
    press_tab_to_label(page, "hallucination")
    page.keyboard.press("Space")
    expect(label_box(page, "hallucination")).to_be_checked()
    page.keyboard.press("e")
    page.keyboard.press("Control+a")
    page.keyboard.type("Call client.list_runs(project_name=...).")
    page.keyboard.press("Control+Enter")
    expect_count(page, "Accepted", 2)
    page.keyboard.press("Escape")

    # Clear the search, go to the one pending record and reject it with a note.
    page.keyboard.press("/")
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    expect(progress(page)).not_to_contain_text("filtered")
    page.keyboard.press("Escape")
    page.keyboard.press("p")
    expect_record(page, "Record 3 of 4", "Pending")
    page.keyboard.press("n")
    page.keyboard.type("Wrong: migration exists")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect_record(page, "Record 4 of 4", "Accepted")
    expect_count(page, "Pending", 0)

    # Choose the normalized export and download it from the keyboard.
    press_tab_to(page, "export_format")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#export_format")).to_have_value("normalized")
    press_tab_to(page, "download")
    assert active_element_id(page) == "download"
    name, text = download_text(page, lambda: page.keyboard.press("Enter"), tmp_path)

    reviews = [line["review"] for line in read_jsonl(text)]
    assert name == "langsmith_runs.reviewed.jsonl"
    assert [review["status"] for review in reviews] == ["Accepted", "Rejected", "Rejected", "Accepted"]
    assert [review["edited_output"] for review in reviews] == [
        "Use @traceable on the function.",
        None,
        None,
        "Call client.list_runs(project_name=...).",
    ]
    assert [review["note"] for review in reviews] == [
        "Fixed the example",
        "Does not answer",
        "Wrong: migration exists",
        "Trimmed the answer",
    ]
    assert [review["labels"] for review in reviews] == [["hallucination"], ["off topic"], [], ["hallucination"]]
