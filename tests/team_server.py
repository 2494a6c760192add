"""Start `python -m team serve` on 127.0.0.1 for the end-to-end tests, and stop it again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
APP_DIR = REPO_DIR / "app"

# Importing the app and SQLAlchemy takes a few seconds here; a loaded CI machine can take longer.
STARTUP_SECONDS = 90


def find_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def team_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "team", *arguments]


def team_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(APP_DIR), environment.get("PYTHONPATH")]))
    # The tests configure team mode through the command line only.
    for name in ("LLM_REVIEW_DATABASE_URL", "LLM_REVIEW_DATASET_ID"):
        environment.pop(name, None)
    return environment


def run_team(*arguments: str) -> subprocess.CompletedProcess:
    """Run one `python -m team` command and return its result."""
    return subprocess.run(team_command(*arguments), cwd=REPO_DIR, env=team_environment(), capture_output=True, text=True, timeout=120)


@dataclass
class TeamServer:
    """A running `python -m team serve` whose output goes to a log file."""

    database_url: str
    dataset_id: str
    tokens_path: Path
    log_path: Path
    port: int = field(default_factory=find_free_port)
    reviews_per_record: int = 1
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        command = team_command(
            "serve",
            "--db",
            self.database_url,
            "--dataset",
            self.dataset_id,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--tokens",
            str(self.tokens_path),
            "--reviews-per-record",
            str(self.reviews_per_record),
        )
        # A file, not a pipe: the access log grows with every request, and a full pipe would block the server.
        with self.log_path.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen(command, cwd=REPO_DIR, env=team_environment(), stdout=log, stderr=subprocess.STDOUT)
        self.wait_until_serving()

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        probe = self.url + "_auth/sign-in"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"team serve exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"team serve did not answer at {probe} within {STARTUP_SECONDS} s:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
