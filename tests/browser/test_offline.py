"""The service worker: offline after one visit, after a browser restart, and across a rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BOOT_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, REPO_DIR
from playwright.sync_api import expect

import build
from sitebuild.serve import start_in_thread

SERVICE_WORKER_TIMEOUT_MS = 60_000

COUNT_CACHED_FILES = """
async (buildId) => {
  const names = await caches.keys();
  if (!names.includes(`llm-review-${buildId}`)) return -1;
  const cache = await caches.open(`llm-review-${buildId}`);
  return (await cache.keys()).length;
}
"""


def disk_build_id(site_dir: Path) -> str:
    return json.loads((site_dir / "build.json").read_text(encoding="utf-8"))["buildId"]


def precached_count(site_dir: Path) -> int:
    files = json.loads((site_dir / "build.json").read_text(encoding="utf-8"))["files"]
    return sum(1 for entry in files.values() if entry["precache"])


def open_app(page, url: str, first: str = "Record 1 of 4") -> None:
    page.goto(url)
    expect(page.locator("#progress")).to_have_text(first, timeout=BOOT_TIMEOUT_MS)


def wait_until_offline_ready(page, site_dir: Path) -> None:
    """Wait until the service worker is active and has every file of the build in its cache."""
    page.wait_for_function(
        "() => document.documentElement.dataset.serviceWorker === 'active'",
        timeout=SERVICE_WORKER_TIMEOUT_MS,
    )
    build_id = disk_build_id(site_dir)
    page.wait_for_function(
        f"async () => ({COUNT_CACHED_FILES})({json.dumps(build_id)}) >= {precached_count(site_dir)}",
        timeout=SERVICE_WORKER_TIMEOUT_MS,
        polling=250,
    )


def page_build_ids(page) -> tuple[str, str]:
    """Return the build id in the page's HTML and the one the worker booted from."""
    return (
        page.evaluate("document.documentElement.dataset.buildId"),
        page.evaluate("document.documentElement.dataset.workerBuildId"),
    )


@pytest.fixture
def own_site(tmp_path: Path):
    """A site of its own (a test rebuilds it), served on 127.0.0.1; yields (folder, URL)."""
    site_dir = tmp_path / "site"
    assert build.main(["--out", str(site_dir)]) == 0
    server = start_in_thread(site_dir)
    yield site_dir, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_offline_reload_boots_app(page, context, site_url, site_dir):
    open_app(page, site_url + "app/")
    wait_until_offline_ready(page, site_dir)

    context.set_offline(True)
    page.reload()

    expect(page.locator("#progress")).to_have_text("Record 1 of 4", timeout=BOOT_TIMEOUT_MS)
    assert page_build_ids(page) == (disk_build_id(site_dir), disk_build_id(site_dir))


def test_offline_blog_post_loads(page, context, site_url, site_dir):
    open_app(page, site_url + "app/")
    wait_until_offline_ready(page, site_dir)

    context.set_offline(True)
    page.goto(site_url + "blog/")

    frame = page.frame_locator("iframe")
    expect(frame.locator("#progress")).to_have_text("Record 1 of 4", timeout=BOOT_TIMEOUT_MS)


def test_offline_after_browser_restart(browser, site_url, site_dir, tmp_path):
    profile = tmp_path / "profile"
    browser_type = browser.browser_type
    context = browser_type.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = context.new_page()
        open_app(page, site_url + "app/")
        wait_until_offline_ready(page, site_dir)
    finally:
        context.close()

    context = browser_type.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, offline=True
    )
    try:
        page = context.new_page()
        open_app(page, site_url + "app/")
        assert page_build_ids(page) == (disk_build_id(site_dir), disk_build_id(site_dir))
    finally:
        context.close()


def test_rebuild_is_picked_up_on_next_visit(context, own_site, tmp_path):
    site_dir, url = own_site
    old_id = disk_build_id(site_dir)
    page = context.new_page()
    open_app(page, url + "app/")
    wait_until_offline_ready(page, site_dir)
    page.close()

    sample = json.loads((REPO_DIR / "sample_data" / "langsmith_runs.json").read_text(encoding="utf-8"))
    changed = tmp_path / "changed_runs.json"
    changed.write_text(json.dumps(sample[:3]), encoding="utf-8")
    assert build.main(["--data", str(changed), "--out", str(site_dir)]) == 0
    new_id = disk_build_id(site_dir)
    assert new_id != old_id

    # The next visit starts from the old build's cache, finds the new service worker, waits for
    # it to install, and reloads into the new build before showing the app.
    page = context.new_page()
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(url + "app/")
    expect(page.locator("#progress")).to_have_text("Record 1 of 3", timeout=BOOT_TIMEOUT_MS)

    assert page_build_ids(page) == (new_id, new_id)
    assert [text for text in warnings if "build" in text] == []
    wait_until_offline_ready(page, site_dir)
    assert page.evaluate("caches.keys()") == [f"llm-review-{new_id}"]
