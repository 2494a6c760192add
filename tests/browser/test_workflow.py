"""The reviewer's workflow on the built sample site: shortcuts, help, focus, undo, filters, diff.

Each test opens the app in a fresh browser profile, so it starts with no saved decisions.
"""

from __future__ import annotations

import json

import pytest
from conftest import BOOT_TIMEOUT_MS
from playwright.sync_api import expect
from workflow_steps import (
    FOCUSABLE_SELECTOR,
    RECORD_3_WORD,
    SAMPLE,
    SAMPLE_OUTPUTS,
    SHORTCUT_KEYS,
    download_text,
    editor,
    expect_count,
    expect_record,
    open_review,
    page_overflow,
    press_tab_until,
    progress,
    status_box,
)


@pytest.fixture
def app_url(site_url: str) -> str:
    return site_url + "app/"


# Single-key shortcuts.


def test_shortcut_a_accepts(page, app_url):
    open_review(page, app_url)

    page.keyboard.press("a")

    expect_record(page, "Record 2 of 4", "Pending")
    expect_count(page, "Accepted", 1)
    page.keyboard.press("k")
    expect_record(page, "Record 1 of 4", "Accepted")


def test_shortcut_r_rejects(page, app_url):
    open_review(page, app_url)

    page.keyboard.press("r")

    expect_record(page, "Record 2 of 4", "Pending")
    expect_count(page, "Rejected", 1)
    page.keyboard.press("k")
    expect_record(page, "Record 1 of 4", "Rejected")


@pytest.mark.parametrize("key", ["j", "ArrowRight"])
def test_shortcut_next_moves_without_decision(page, app_url, key):
    open_review(page, app_url)

    page.keyboard.press(key)

    expect_record(page, "Record 2 of 4", "Pending")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[1])
    expect_count(page, "Pending", 4)


@pytest.mark.parametrize("key", ["k", "ArrowLeft"])
def test_shortcut_back_moves_without_decision(page, app_url, key):
    open_review(page, app_url)
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 4")

    page.keyboard.press(key)

    expect_record(page, "Record 1 of 4", "Pending")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[0])
    expect_count(page, "Pending", 4)


def test_shortcut_x_resets(page, app_url):
    open_review(page, app_url)
    editor(page).fill("An edit to throw away")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(progress(page)).to_have_text("Record 2 of 4")
    page.keyboard.press("k")
    expect(editor(page)).to_have_value("An edit to throw away")

    page.keyboard.press("x")

    expect_record(page, "Record 1 of 4", "Pending")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[0])
    expect_count(page, "Accepted", 0)


def test_shortcut_u_undoes(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("r")
    expect(progress(page)).to_have_text("Record 2 of 4")

    page.keyboard.press("u")

    expect_record(page, "Record 1 of 4", "Pending")
    expect_count(page, "Rejected", 0)


def test_shortcut_p_goes_to_next_pending(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("a")
    expect(progress(page)).to_have_text("Record 2 of 4")
    page.keyboard.press("r")
    expect(progress(page)).to_have_text("Record 3 of 4")
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(progress(page)).to_have_text("Record 1 of 4")

    page.keyboard.press("p")

    expect_record(page, "Record 3 of 4", "Pending")


@pytest.mark.parametrize(
    ("key", "field"),
    [("e", "output_text"), ("n", "note"), ("/", "search")],
)
def test_shortcut_focuses_field(page, app_url, key, field):
    open_review(page, app_url)
    before = page.locator(f"#{field}").input_value()

    page.keyboard.press(key)

    expect(page.locator(f"#{field}")).to_be_focused()
    # The key only moves focus, so it is not typed into the field.
    expect(page.locator(f"#{field}")).to_have_value(before)


def test_shortcut_question_mark_opens_help(page, app_url):
    open_review(page, app_url)

    page.keyboard.press("?")

    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


@pytest.mark.parametrize("field", ["output_text", "note", "search"])
def test_shortcut_escape_leaves_text_field(page, app_url, field):
    open_review(page, app_url)
    page.locator(f"#{field}").focus()

    page.keyboard.press("Escape")

    expect(page.locator(f"#{field}")).not_to_be_focused()
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 4")


def test_shortcuts_ignored_in_output_editor(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("e")
    page.keyboard.press("Control+a")

    page.keyboard.type("a r j")

    # The diff panel shows that the server has read the typed text.
    expect(page.locator(".output-diff ins")).to_have_text(["r", "j"])
    expect(editor(page)).to_have_value("a r j")
    expect_record(page, "Record 1 of 4", "Pending")
    expect_count(page, "Pending", 4)


def test_shortcuts_ignored_in_note(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("n")

    page.keyboard.type("a r j")

    expect(page.locator("#note")).to_have_value("a r j")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("k")
    # The note came back from the server after moving away and back, so it was saved.
    expect(page.locator("#note")).to_have_value("a r j")
    expect_record(page, "Record 1 of 4", "Pending")
    expect_count(page, "Pending", 4)


def test_shortcuts_ignored_in_search(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("/")

    page.keyboard.type("a r j")

    expect(page.locator("#search")).to_have_value("a r j")
    expect(progress(page)).to_have_text("Record 0 of 0 (filtered from 4)")
    expect_count(page, "Pending", 4)


def test_ctrl_enter_accepts_typed_output_at_once(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("e")
    page.keyboard.press("Control+a")
    typed = "Typed just now ✓ — no pause before accepting"

    page.keyboard.type(typed)
    page.keyboard.press("Control+Enter")

    expect_record(page, "Record 2 of 4", "Pending")
    expect_count(page, "Accepted", 1)
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    expect_record(page, "Record 1 of 4", "Accepted")
    expect(editor(page)).to_have_value(typed)


def test_ctrl_enter_accepts_value_set_without_input_events(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("e")
    # No input event announces this value, so Ctrl+Enter must read the editor itself.
    page.evaluate("document.getElementById('output_text').value = 'Set by script'")

    page.keyboard.press("Control+Enter")

    expect(progress(page)).to_have_text("Record 2 of 4")
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    expect(editor(page)).to_have_value("Set by script")


def test_ctrl_enter_keeps_typed_note(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("n")
    typed = "Typed in the note, accepted at once"

    page.keyboard.type(typed)
    page.keyboard.press("Control+Enter")

    expect_record(page, "Record 2 of 4", "Pending")
    expect(page.locator("#note")).to_have_value("")
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    expect_record(page, "Record 1 of 4", "Accepted")
    expect(page.locator("#note")).to_have_value(typed)


# The help overlay.


def test_help_lists_every_shortcut(page, app_url):
    open_review(page, app_url)

    page.keyboard.press("?")

    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog.locator("kbd")).to_have_text(SHORTCUT_KEYS)
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()


def test_help_closes_with_escape(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()

    page.keyboard.press("Escape")

    expect(dialog).to_be_hidden()


def test_help_closes_with_close_button(page, app_url):
    open_review(page, app_url)
    page.get_by_role("button", name="Shortcuts (?)").click()
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()

    dialog.get_by_role("button", name="Close").click()

    expect(dialog).to_be_hidden()


def test_help_closing_returns_focus(page, app_url):
    open_review(page, app_url)
    page.get_by_role("button", name="Shortcuts (?)").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()

    page.keyboard.press("Escape")

    expect(page.get_by_role("button", name="Shortcuts (?)")).to_be_focused()


def test_help_open_blocks_decision_keys(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()

    page.keyboard.press("a")
    page.keyboard.press("Escape")
    page.keyboard.press("j")

    # "j" after closing moves on. Had "a" been taken, the record would be Accepted.
    expect(progress(page)).to_have_text("Record 2 of 4")
    expect_count(page, "Accepted", 0)


# Keyboard focus.

MARK_FOCUSABLE = """
selector => {
  const visible = (element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden"
      && !element.closest("[hidden], details:not([open]) > :not(summary)");
  };
  const found = [...document.querySelectorAll(selector)].filter(visible);
  found.forEach((element, number) => element.setAttribute("data-focus-mark", String(number)));
  return found.map((element) => element.id || element.name || element.textContent.trim().slice(0, 40));
}
"""


def test_tab_reaches_every_control(page, app_url):
    open_review(page, app_url)
    names = page.evaluate(MARK_FOCUSABLE, FOCUSABLE_SELECTOR)
    page.locator("body").focus()

    reached = set()
    for _ in range(len(names) * 2 + 10):
        page.keyboard.press("Tab")
        mark = page.evaluate("document.activeElement.getAttribute('data-focus-mark')")
        if mark is not None:
            reached.add(int(mark))

    missed = [name for number, name in enumerate(names) if number not in reached]
    assert missed == []


def test_focus_visible_outline_from_keyboard(page, app_url):
    open_review(page, app_url)
    page.locator("body").focus()

    # The controls are listed in Tab order, so that one pass of Tab visits them all.
    for control in ["show-shortcuts", "filter_status", "output_text", "accept", "next"]:
        press_tab_until(page, lambda focused: focused["id"] == control)

        outline = page.evaluate(
            "id => { const style = getComputedStyle(document.getElementById(id));"
            " return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)}; }",
            control,
        )
        assert page.evaluate("id => document.getElementById(id).matches(':focus-visible')", control), control
        assert outline["style"] == "solid", control
        assert outline["width"] >= 2, control


@pytest.mark.parametrize(
    ("button", "key", "line"),
    [("next", "Enter", "Record 2 of 4"), ("next", "Space", "Record 2 of 4"), ("next_pending", "Enter", "Record 2 of 4")],
)
def test_button_activates_from_keyboard(page, app_url, button, key, line):
    open_review(page, app_url)
    page.locator("body").focus()
    press_tab_until(page, lambda focused: focused["id"] == button)

    page.keyboard.press(key)

    expect(progress(page)).to_have_text(line)


@pytest.mark.parametrize(("key", "status"), [("Enter", "Accepted"), ("Space", "Rejected")])
def test_decision_buttons_activate_from_keyboard(page, app_url, key, status):
    open_review(page, app_url)
    button = "accept" if status == "Accepted" else "reject"
    page.locator("body").focus()
    press_tab_until(page, lambda focused: focused["id"] == button)

    page.keyboard.press(key)

    expect(progress(page)).to_have_text("Record 2 of 4")
    expect_count(page, status, 1)
    press_tab_until(page, lambda focused: focused["id"] == "undo")
    page.keyboard.press(key)
    expect_record(page, "Record 1 of 4", "Pending")


def test_status_filter_works_from_keyboard(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("a")
    expect(progress(page)).to_have_text("Record 2 of 4")
    page.locator("body").focus()
    press_tab_until(page, lambda focused: focused["id"] == "filter_status")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")

    expect(page.locator("#filter_status")).to_have_value("Accepted")
    expect_record(page, "Record 1 of 1 (filtered from 4)", "Accepted")


def test_jump_works_from_keyboard(page, app_url):
    open_review(page, app_url)
    page.locator("body").focus()
    press_tab_until(page, lambda focused: focused["id"] == "jump_to")
    page.keyboard.type("3")

    page.keyboard.press("Enter")

    expect_record(page, "Record 3 of 4", "Pending")


def test_shortcut_help_button_works_from_keyboard(page, app_url):
    open_review(page, app_url)
    page.locator("body").focus()
    press_tab_until(page, lambda focused: focused["id"] == "show-shortcuts")

    page.keyboard.press("Enter")

    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Space")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()


def test_collapsed_message_opens_from_keyboard(page, app_url):
    open_review(page, app_url)
    first_system = page.locator(".message-card.role-system details").first
    page.locator("body").focus()
    press_tab_until(page, lambda focused: focused["tag"] == "SUMMARY")

    page.keyboard.press("Enter")

    expect(first_system).to_have_attribute("open", "")


# Undo.


def test_undo_restores_twelve_decisions_one_by_one(page, app_url):
    open_review(page, app_url)
    statuses = ["Pending"] * 4
    outputs = list(SAMPLE_OUTPUTS)
    history = []

    for round_number in range(3):
        page.locator("#jump_to").fill("1")
        page.locator("#jump").click()
        expect(progress(page)).to_have_text("Record 1 of 4")
        for index in range(4):
            expect_record(page, f"Record {index + 1} of 4", statuses[index])
            history.append((index, statuses[index], outputs[index]))
            if (round_number + index) % 2 == 0:
                text = f"Round {round_number} answer for record {index + 1}"
                editor(page).fill(text)
                page.get_by_role("button", name="Accept", exact=True).click()
                statuses[index], outputs[index] = "Accepted", text
            else:
                page.get_by_role("button", name="Reject", exact=True).click()
                statuses[index] = "Rejected"
            after = f"Record {index + 2} of 4" if index < 3 else "Record 4 of 4"
            expect(progress(page)).to_have_text(after)

    assert len(history) == 12
    for index, status, output in reversed(history):
        page.get_by_role("button", name="Undo", exact=True).click()
        expect_record(page, f"Record {index + 1} of 4", status)
        expect(editor(page)).to_have_value(output)

    expect_count(page, "Pending", 4)
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_text("Nothing to undo.")).to_be_visible()


# Filters and navigation.


def test_status_filter_narrows_view(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("a")
    expect(progress(page)).to_have_text("Record 2 of 4")

    page.locator("#filter_status").select_option("Accepted")
    expect_record(page, "Record 1 of 1 (filtered from 4)", "Accepted")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[0])

    page.locator("#filter_status").select_option("Pending")
    expect_record(page, "Record 1 of 3 (filtered from 4)", "Pending")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[1])

    page.locator("#filter_status").select_option("")
    expect(progress(page)).to_have_text("Record 2 of 4")


def test_label_filter_narrows_view(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 4")
    page.locator("#new_label").fill("needs source")
    page.get_by_role("button", name="Add label").click()
    expect(page.get_by_role("checkbox", name="needs source")).to_be_checked()
    page.keyboard.press("k")
    expect(progress(page)).to_have_text("Record 1 of 4")

    page.locator("#filter_label").select_option("needs source")

    expect(progress(page)).to_have_text("Record 1 of 1 (filtered from 4)")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[1])


def test_search_finds_word_from_user_message(page, app_url):
    open_review(page, app_url)

    page.locator("#search").fill(RECORD_3_WORD)

    expect(progress(page)).to_have_text("Record 1 of 1 (filtered from 4)")
    question = SAMPLE[2]["child_run"]["inputs"][-1]["content"]
    expect(page.locator(".message-card.role-user")).to_contain_text(question)
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[2])


def test_search_ignores_case(page, app_url):
    open_review(page, app_url)

    page.locator("#search").fill(RECORD_3_WORD.upper())

    expect(progress(page)).to_have_text("Record 1 of 1 (filtered from 4)")


def test_jump_goes_to_record_number(page, app_url):
    open_review(page, app_url)

    page.locator("#jump_to").fill("3")
    page.get_by_role("button", name="Go").click()

    expect_record(page, "Record 3 of 4", "Pending")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[2])


def test_jump_rejects_number_out_of_range(page, app_url):
    open_review(page, app_url)

    page.locator("#jump_to").fill("9")
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_text("Enter a record number from 1 to 4.")).to_be_visible()
    expect(progress(page)).to_have_text("Record 1 of 4")


def test_next_pending_skips_decided_records(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("a")
    expect(progress(page)).to_have_text("Record 2 of 4")
    page.keyboard.press("r")
    expect(progress(page)).to_have_text("Record 3 of 4")
    page.locator("#jump_to").fill("1")
    page.get_by_role("button", name="Go").click()
    expect(progress(page)).to_have_text("Record 1 of 4")

    page.get_by_role("button", name="Next pending").click()

    expect_record(page, "Record 3 of 4", "Pending")


def test_progress_counts_position_in_filtered_view(page, app_url):
    open_review(page, app_url)
    page.keyboard.press("r")
    expect(progress(page)).to_have_text("Record 2 of 4")

    page.locator("#filter_status").select_option("Pending")
    expect(progress(page)).to_have_text("Record 1 of 3 (filtered from 4)")
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 2 of 3 (filtered from 4)")
    page.keyboard.press("j")
    expect(progress(page)).to_have_text("Record 3 of 3 (filtered from 4)")
    expect(editor(page)).to_have_value(SAMPLE_OUTPUTS[3])


# The diff of an edit.


def test_diff_shows_inserted_and_deleted_words(page, app_url):
    open_review(page, app_url)
    original = SAMPLE_OUTPUTS[0]
    assert "convenient" in original

    editor(page).fill(original.replace("convenient", "handy", 1))

    panel = page.locator("details.diff-panel")
    expect(panel.locator("summary")).to_have_text("Changes against the original output")
    expect(panel).to_have_attribute("open", "")
    expect(panel.locator("ins")).to_have_text(["handy"])
    expect(panel.locator("del")).to_have_text(["convenient"])


def test_diff_adds_no_white_space(page, app_url):
    open_review(page, app_url)
    original = SAMPLE_OUTPUTS[0]

    editor(page).fill(original.replace("convenient", "handy", 1))

    panel = page.locator(".output-diff")
    expect(panel.locator("ins")).to_have_text(["handy"])
    # The panel keeps white space, so its text must be the two versions' words and nothing more.
    assert panel.text_content() == original.replace("convenient", "convenienthandy", 1)


def test_diff_hidden_without_edit(page, app_url):
    open_review(page, app_url)
    editor(page).fill(SAMPLE_OUTPUTS[0] + " extra")
    expect(page.locator("details.diff-panel")).to_be_visible()

    editor(page).fill(SAMPLE_OUTPUTS[0])

    expect(page.locator("details.diff-panel")).to_have_count(0)


# Reading the conversation.


def test_system_messages_start_collapsed(page, app_url):
    open_review(page, app_url)

    system_details = page.locator(".message-card.role-system details")

    expect(system_details).to_have_count(2)
    for number in range(2):
        expect(system_details.nth(number)).not_to_have_attribute("open", "")
        expect(system_details.nth(number).locator("summary")).to_contain_text("Show message")
    expect(page.locator(".message-card.role-user details")).to_have_count(0)


def test_system_message_code_renders_as_block(page, app_url):
    open_review(page, app_url)

    page.locator(".message-card.role-system summary").nth(1).click()

    expect(page.locator(".message-card.role-system").nth(1).locator("pre code").first).to_be_visible()
    expect(status_box(page)).to_have_text("Status: Pending")


# Layout.


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_layout_fits_screen(browser, app_url, tmp_path, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        open_review(page, app_url)
        page.locator(".message-card.role-system summary").first.click()
        editor(page).fill(SAMPLE_OUTPUTS[0].replace("convenient", "handy", 1))
        expect(page.locator("details.diff-panel")).to_be_visible()
        page.screenshot(path=tmp_path / f"review-{width}.png", full_page=True)

        overflow = page_overflow(page)
        assert overflow["scrollWidth"] <= overflow["innerWidth"]

        page.keyboard.press("Escape")
        page.keyboard.press("?")
        close = page.get_by_role("dialog", name="Keyboard shortcuts").get_by_role("button", name="Close")
        close.scroll_into_view_if_needed()
        expect(close).to_be_in_viewport(ratio=1)
        overflow = page_overflow(page)
        assert overflow["scrollWidth"] <= overflow["innerWidth"]
        close.click()

        accept = page.get_by_role("button", name="Accept", exact=True)
        accept.scroll_into_view_if_needed()
        expect(accept).to_be_in_viewport(ratio=1)
        accept.click()
        expect(progress(page)).to_have_text("Record 2 of 4")
    finally:
        context.close()


# The app inside the blog post.


def open_embedded_review(page, site_url: str):
    """Open the site's root, which forwards to the post, and return the app's frame locator."""
    page.goto(site_url)
    expect(page).to_have_url(site_url + "blog/")
    frame = page.frame_locator("iframe")
    frame.locator("#progress").scroll_into_view_if_needed(timeout=BOOT_TIMEOUT_MS)
    expect(frame.locator("#progress")).to_have_text("Record 1 of 4", timeout=BOOT_TIMEOUT_MS)
    return frame


def test_embedded_app_accepts_with_button(page, site_url):
    frame = open_embedded_review(page, site_url)

    frame.get_by_role("button", name="Accept", exact=True).click()

    expect(frame.locator("#progress")).to_have_text("Record 2 of 4")
    expect(frame.locator(".counts-table tr", has_text="Accepted").locator("td").nth(1)).to_have_text("1")


def test_embedded_app_rejects_with_shortcut(page, site_url):
    frame = open_embedded_review(page, site_url)
    frame.locator(".status-box").click()

    page.keyboard.press("r")

    expect(frame.locator("#progress")).to_have_text("Record 2 of 4")
    expect(frame.locator(".counts-table tr", has_text="Rejected").locator("td").nth(1)).to_have_text("1")


def test_embedded_app_downloads(page, site_url, tmp_path):
    frame = open_embedded_review(page, site_url)
    frame.get_by_role("button", name="Reject", exact=True).click()
    expect(frame.locator("#progress")).to_have_text("Record 2 of 4")

    name, text = download_text(
        page, lambda: frame.get_by_role("button", name="Download curated data").click(), tmp_path
    )

    assert name == "langsmith_runs.curated.json"
    assert [row["status"] for row in json.loads(text)] == ["Rejected", "Pending", "Pending", "Pending"]
