"""The built site in Chromium: boot, review actions, persistence, download, isolation."""

from __future__ import annotations

import json
from conftest import BOOT_TIMEOUT_MS, REPO_DIR
from playwright.sync_api import expect

import build

SAMPLE = json.loads((REPO_DIR / "sample_data" / "langsmith_runs.json").read_text(encoding="utf-8"))


def open_app(page, site_url: str, *, first: str = "Record 1 of 4") -> None:
    page.goto(site_url + "app/")
    expect(page.locator("#progress")).to_have_text(first, timeout=BOOT_TIMEOUT_MS)


def saved_marker(page) -> str | None:
    return page.evaluate("document.documentElement.dataset.reviewSaved || null")


def wait_for_save(page, previous: str | None) -> None:
    """Wait until review.js reports a completed IndexedDB write newer than `previous`."""
    page.wait_for_function(
        "previous => (document.documentElement.dataset.reviewSaved || null) !== previous",
        arg=previous,
    )


def click_and_wait_for_save(page, button: str) -> None:
    previous = saved_marker(page)
    page.get_by_role("button", name=button, exact=True).click()
    wait_for_save(page, previous)


def count_of(page, status: str) -> str:
    return page.locator(".counts-table tr", has_text=status).locator("td").nth(1).inner_text()


def test_app_boot_shows_first_record(page, site_url):
    open_app(page, site_url)

    headers = page.locator(".message-card .card-header")
    expect(headers).to_have_text(["SYSTEM", "SYSTEM", "USER"])
    expect(page.locator(".message-card").last).to_contain_text(
        SAMPLE[0]["child_run"]["inputs"][-1]["content"][:40]
    )
    expect(page.get_by_label("LLM Output (Editable)")).to_have_value(SAMPLE[0]["child_run"]["output"]["content"])
    expect(page.locator(".status-box")).to_have_text("Status: Pending")
    assert count_of(page, "Pending") == "4"


def test_app_boot_panel_hides_when_ready(page, site_url):
    open_app(page, site_url)

    expect(page.locator("#boot-status")).to_be_hidden()
    assert page.evaluate("document.documentElement.dataset.bootState") == "ready"


def test_accept_saves_edit_and_survives_reload(page, site_url):
    open_app(page, site_url)
    editor = page.get_by_label("LLM Output (Editable)")
    editor.fill("A corrected answer ✓ — 修正済み")

    click_and_wait_for_save(page, "Accept")
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")
    assert count_of(page, "Accepted") == "1"

    page.reload()
    expect(page.locator("#progress")).to_have_text("Record 2 of 4", timeout=BOOT_TIMEOUT_MS)
    assert count_of(page, "Accepted") == "1"

    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 1 of 4")
    expect(page.locator(".status-box")).to_have_text("Status: Accepted")
    expect(editor).to_have_value("A corrected answer ✓ — 修正済み")


def test_reject_sets_status_and_moves_on(page, site_url):
    open_app(page, site_url)

    click_and_wait_for_save(page, "Reject")
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")
    assert count_of(page, "Rejected") == "1"

    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.locator(".status-box")).to_have_text("Status: Rejected")
    expect(page.locator(".status-box")).to_have_class("status-box status-rejected")


def test_back_next_change_no_status(page, site_url):
    open_app(page, site_url)

    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")
    expect(page.get_by_label("LLM Output (Editable)")).to_have_value(SAMPLE[1]["child_run"]["output"]["content"])
    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 1 of 4")
    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 1 of 4")
    assert count_of(page, "Pending") == "4"


def test_reset_restores_original_output(page, site_url):
    open_app(page, site_url)
    editor = page.get_by_label("LLM Output (Editable)")
    editor.fill("edited")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")
    page.get_by_role("button", name="Back", exact=True).click()
    expect(editor).to_have_value("edited")

    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator(".status-box")).to_have_text("Status: Pending")
    expect(editor).to_have_value(SAMPLE[0]["child_run"]["output"]["content"])
    assert count_of(page, "Accepted") == "0"


def test_done_message_after_last_record(page, site_url):
    open_app(page, site_url)
    for expected in ("Record 2 of 4", "Record 3 of 4", "Record 4 of 4"):
        page.get_by_role("button", name="Accept", exact=True).click()
        expect(page.locator("#progress")).to_have_text(expected)
    page.get_by_role("button", name="Reject", exact=True).click()

    expect(page.get_by_text("You are done!")).to_be_visible()
    assert count_of(page, "Accepted") == "3"
    assert count_of(page, "Rejected") == "1"


def test_download_round_trips_through_build(page, site_url, tmp_path):
    open_app(page, site_url)
    page.get_by_label("LLM Output (Editable)").fill("Better answer")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 3 of 4")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download curated data").click()
    download = download_info.value
    assert download.suggested_filename == "langsmith_runs.curated.json"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    curated = json.loads(path.read_text(encoding="utf-8"))
    assert [row["status"] for row in curated] == ["Accepted", "Rejected", "Pending", "Pending"]
    assert curated[0]["child_run"]["output"]["content"] == "Better answer"
    assert curated[1]["child_run"] == SAMPLE[1]["child_run"]
    assert curated[2] == SAMPLE[2]

    assert build.main(["--data", str(path), "--out", str(tmp_path / "rebuilt")]) == 0
    files = json.loads((tmp_path / "rebuilt" / "app" / "runtime" / "files.json").read_text(encoding="utf-8"))
    assert "app/datasets/langsmith_runs.curated.json" in files


def test_site_requests_stay_on_loopback(page, site_url):
    open_app(page, site_url)
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")

    page.goto(site_url)
    expect(page.locator("iframe")).to_be_attached()
    page.frame_locator("iframe").locator("#progress").wait_for(timeout=BOOT_TIMEOUT_MS)

    assert page.watch.requests, "the page made no requests at all"
    assert page.watch.foreign_requests() == []


def test_site_has_no_console_errors(page, site_url):
    open_app(page, site_url)
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("#progress")).to_have_text("Record 2 of 4")

    assert page.watch.console_errors == []


def test_boot_failure_shows_error(page, site_url):
    page.route("**/runtime/config.json", lambda route: route.fulfill(status=404, body="missing"))
    page.goto(site_url + "app/")

    panel = page.locator("#boot-status")
    expect(panel).to_contain_text("could not start", timeout=BOOT_TIMEOUT_MS)
    expect(panel).to_contain_text("HTTP 404")


def test_blog_post_embeds_app(page, site_url):
    page.goto(site_url)
    expect(page.locator("iframe")).to_have_attribute("src", "../app/")
    frame = page.frame_locator("iframe")
    expect(frame.locator("#progress")).to_have_text("Record 1 of 4", timeout=BOOT_TIMEOUT_MS)
