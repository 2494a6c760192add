"""The same app served by `shiny run` from CPython shows the same first screen."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import REPO_DIR
from playwright.sync_api import expect

STARTUP_SECONDS = 60


def find_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"shiny run exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"shiny run did not answer at {url} within {STARTUP_SECONDS} s")


@pytest.fixture
def shiny_url():
    port = find_free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "shiny", "run", "--host", "127.0.0.1", "--port", str(port), "app/app.py"],
        cwd=REPO_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_shiny_run_shows_first_record(page, shiny_url):
    page.goto(shiny_url)

    expect(page.locator("#progress")).to_have_text("Record 1 of 4", timeout=30_000)
    expect(page.locator(".message-card .card-header")).to_have_text(["SYSTEM", "SYSTEM", "USER"])
    expect(page.locator(".status-box")).to_have_text("Status: Pending")
    expect(page.get_by_label("LLM Output (Editable)")).not_to_have_value("")
    assert page.watch.console_errors == []
