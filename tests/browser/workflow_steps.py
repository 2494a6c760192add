"""Steps shared by the reviewer-workflow browser tests: reading the page, waiting, downloading.

Every wait is a Playwright condition with a deadline, so no step sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import BOOT_TIMEOUT_MS, REPO_DIR
from playwright.sync_api import Locator, Page, expect

SAMPLE = json.loads((REPO_DIR / "sample_data" / "langsmith_runs.json").read_text(encoding="utf-8"))
SAMPLE_OUTPUTS = [row["child_run"]["output"]["content"] for row in SAMPLE]

# Searching for these finds one sample record and no other.
RECORD_3_WORD = "between"
RECORD_4_PHRASE = "how might I query"

# The shortcut table of the help overlay, in its order.
SHORTCUT_KEYS = ["a", "Ctrl+Enter", "r", "j or →", "k or ←", "x", "u", "p", "e", "n", "/", "?", "Esc"]

# Elements that can take keyboard focus with Tab.
FOCUSABLE_SELECTOR = (
    "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), "
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"
)


def open_review(page: Page, url: str, *, first: str = "Record 1 of 4") -> None:
    """Open the app page at `url` and wait until the first record is shown."""
    page.goto(url)
    expect(progress(page)).to_have_text(first, timeout=BOOT_TIMEOUT_MS)


def progress(page: Page) -> Locator:
    return page.locator("#progress")


def editor(page: Page) -> Locator:
    return page.locator("#output_text")


def status_box(page: Page) -> Locator:
    return page.locator(".status-box")


def expect_record(page: Page, line: str, status: str) -> None:
    """Wait until the progress line and the status box show the expected record."""
    expect(progress(page)).to_have_text(line)
    expect(status_box(page)).to_have_text(f"Status: {status}")


def expect_count(page: Page, status: str, count: int) -> None:
    """Wait until the counts table shows `count` records with `status`."""
    cell = page.locator(".counts-table tr", has_text=status).locator("td").nth(1)
    expect(cell).to_have_text(str(count))


def saved_marker(page: Page) -> str | None:
    """Return the sequence number of the last IndexedDB write that review.js confirmed."""
    return page.evaluate("document.documentElement.dataset.reviewSaved || null")


def wait_for_save_after(page: Page, previous: str | None) -> None:
    """Wait until review.js has confirmed a write newer than `previous`."""
    page.wait_for_function(
        "previous => (document.documentElement.dataset.reviewSaved || null) !== previous",
        arg=previous,
    )


def active_element_id(page: Page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def press_tab_until(page: Page, is_target: Callable[[dict[str, Any]], bool], *, limit: int = 80) -> dict[str, Any]:
    """Press Tab until the focused element passes `is_target`, and return its id, name, value and tag."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return {id: e.id, name: e.name || '', value: e.value ?? '', tag: e.tagName}; }"
        )
        if is_target(focused):
            return focused
    raise AssertionError(f"no element matching the condition took focus within {limit} presses of Tab")


def download_text(page: Page, trigger: Callable[[], None], folder: Path) -> tuple[str, str]:
    """Run `trigger`, wait for the download it starts and return (file name, text)."""
    with page.expect_download() as info:
        trigger()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path.read_text(encoding="utf-8")


def read_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def page_overflow(page: Page) -> dict[str, int]:
    """Return the page's scroll width and the window's inner width, in CSS pixels."""
    return page.evaluate(
        "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"
    )
