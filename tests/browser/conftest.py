"""Fixtures for browser tests: the site built once, served on 127.0.0.1, and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR))

import build  # noqa: E402 - needs the repository on sys.path
from sitebuild.serve import start_in_thread  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Without the background-networking flags Chromium tries to reach Google's services at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Booting Pyodide and Shiny takes 5-10 s here; a loaded CI machine can take several times that.
BOOT_TIMEOUT_MS = 90_000


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site with the sample data once for the whole test session."""
    out = tmp_path_factory.mktemp("site") / "_site"
    assert build.main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    server = start_in_thread(site_dir)
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Requests and console errors seen by one page."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", self.record_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))

    def record_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def foreign_requests(self) -> list[str]:
        """Return the requested URLs whose host is not 127.0.0.1 (blob: and data: URLs are local)."""
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("blob", "data"):
                continue
            if parts.hostname != "127.0.0.1":
                foreign.append(url)
        return foreign


@pytest.fixture
def context(browser) -> Iterator:
    """A fresh browser profile: empty cache and empty IndexedDB."""
    context = browser.new_context(accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context) -> Iterator:
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    page.close()
