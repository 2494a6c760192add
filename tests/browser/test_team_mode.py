"""Team mode in Chromium: sign-in, two reviewers side by side, conflicts, a restart, the export.

The server is `python -m team serve` on 127.0.0.1 with PostgreSQL when
LLM_REVIEW_TEST_POSTGRES_URL is set, else with SQLite.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_DIR
from playwright.sync_api import expect

sys.path.insert(0, str(REPO_DIR / "tests"))
sys.path.insert(0, str(REPO_DIR / "app"))

from team_databases import database_url, make_chat_dataset, postgres_base_url  # noqa: E402 - needs tests/ on sys.path
from team_server import TeamServer  # noqa: E402

pytest.importorskip("sqlalchemy")

from team import ReviewStore  # noqa: E402
from team.auth import add_reviewer  # noqa: E402

RECORDS = 8
# Signing in loads the page, its scripts and the websocket; the first Shiny flush follows.
READY_TIMEOUT_MS = 30_000
BACKEND = "postgresql" if postgres_base_url() else "sqlite"


@dataclass
class TeamSite:
    server: TeamServer
    tokens: dict[str, str]
    database_url: str
    dataset_id: str


@contextmanager
def run_team_site(folder: Path) -> Iterator[TeamSite]:
    """Store a fresh dataset, add alice and bob, and serve it until the block ends."""
    with database_url(BACKEND, folder) as url:
        with ReviewStore(url) as store:
            store.upgrade()
            dataset_id = store.add_dataset(make_chat_dataset(RECORDS), "team.jsonl").id

        tokens_path = folder / "reviewers.json"
        tokens = {name: add_reviewer(tokens_path, name) for name in ("alice", "bob")}
        server = TeamServer(url, dataset_id, tokens_path, folder / "server.log")
        server.start()
        try:
            yield TeamSite(server, tokens, url, dataset_id)
        finally:
            server.stop()


@pytest.fixture
def team_site(tmp_path) -> Iterator[TeamSite]:
    """A site of its own, for tests that depend on which records are still open."""
    with run_team_site(tmp_path) as site:
        yield site


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory) -> Iterator[TeamSite]:
    """One site for the tests that work on any open record, to save server starts."""
    with run_team_site(tmp_path_factory.mktemp("team-site")) as site:
        yield site


def sign_in(browser, url: str, token: str):
    """Open a fresh profile, sign in with `token` and return the page once a record shows."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_label("Reviewer token")).to_be_visible()
    page.get_by_label("Reviewer token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#progress")).to_have_text(re.compile(r"Record \d+ of \d+"), timeout=READY_TIMEOUT_MS)
    return page


def question_of(page) -> int:
    """Return the index of the record on screen, from its "Question N" user message."""
    text = page.locator(".message-card").last.inner_text()
    return int(re.search(r"Question (\d+)", text).group(1))


def decide(page, button: str) -> None:
    """Click Accept or Reject and wait until the page has moved past the record."""
    before = page.locator("#progress").inner_text()
    shown_record = question_of(page)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".message-card").last).not_to_contain_text(f"Question {shown_record}\n", timeout=READY_TIMEOUT_MS)
    assert page.locator("#progress").inner_text() != before or question_of(page) != shown_record


def export_normalized(site: TeamSite) -> list[dict]:
    with ReviewStore(site.database_url) as store:
        _, data = store.export(site.dataset_id, "normalized")
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def test_team_reviewers_get_different_records(browser, team_site):
    alice = sign_in(browser, team_site.server.url, team_site.tokens["alice"])
    bob = sign_in(browser, team_site.server.url, team_site.tokens["bob"])
    decided: dict[int, tuple[str, str]] = {}

    for round_number in range(3):
        alice_record, bob_record = question_of(alice), question_of(bob)
        assert alice_record != bob_record
        if round_number == 0:
            alice.get_by_label("LLM Output (Editable)").fill("Corrected by alice")
        decide(alice, "Accept")
        decided[alice_record] = ("alice", "Accepted")
        decide(bob, "Reject")
        decided[bob_record] = ("bob", "Rejected")

    expect(alice.locator(".team-reviewer")).to_have_text("alice")
    expect(bob.locator(".team-reviewer")).to_have_text("bob")
    lines = export_normalized(team_site)
    for index, (reviewer, status) in decided.items():
        decisions = lines[index]["team_review"]["decisions"]
        assert [(entry["reviewer"], entry["status"]) for entry in decisions] == [(reviewer, status)]
        assert decisions[0]["decided_at"]
    edited = [line for line in lines if line["review"]["edited_output"] == "Corrected by alice"]
    assert len(edited) == 1
    assert sum(1 for line in lines if line["team_review"]["decisions"]) == len(decided) == 6


def test_team_download_from_app(browser, shared_site):
    alice = sign_in(browser, shared_site.server.url, shared_site.tokens["alice"])
    record = question_of(alice)
    decide(alice, "Accept")

    alice.get_by_label("Export").select_option("normalized")
    with alice.expect_download() as download_info:
        alice.get_by_role("button", name="Download curated data").click()
    lines = [json.loads(line) for line in Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()]
    assert lines[record]["team_review"]["decisions"][0]["reviewer"] == "alice"
    assert lines[record]["review"]["status"] == "Accepted"


def test_team_conflict_shows_other_decision(browser, team_site):
    alice = sign_in(browser, team_site.server.url, team_site.tokens["alice"])
    bob = sign_in(browser, team_site.server.url, team_site.tokens["bob"])
    contested = question_of(alice)

    # Bob opens alice's record before she decides it, then decides it after her.
    bob.get_by_label("Record #").fill(str(contested + 1))
    bob.get_by_role("button", name="Go").click()
    expect(bob.locator(".message-card").last).to_contain_text(f"Question {contested}")
    decide(alice, "Accept")
    bob.get_by_role("button", name="Reject", exact=True).click()

    notice = bob.locator(".team-conflict")
    expect(notice).to_contain_text(f"Record {contested + 1} was saved by alice", timeout=READY_TIMEOUT_MS)
    expect(notice).to_contain_text("(Accepted)")
    expect(bob.locator(".status-box")).to_have_text("Status: Accepted")
    decisions = export_normalized(team_site)[contested]["team_review"]["decisions"]
    assert [(entry["reviewer"], entry["status"]) for entry in decisions] == [("alice", "Accepted")]


def test_team_restart_keeps_decisions(browser, team_site):
    alice = sign_in(browser, team_site.server.url, team_site.tokens["alice"])
    decided = []
    for button in ("Accept", "Reject", "Accept"):
        decided.append(question_of(alice))
        decide(alice, button)

    team_site.server.stop()
    team_site.server.start()
    alice.reload()
    expect(alice.locator("#progress")).to_have_text(re.compile(r"Record \d+ of \d+"), timeout=READY_TIMEOUT_MS)
    counts = alice.locator(".counts-table")
    expect(counts.locator("tr", has_text="Accepted").locator("td").nth(1)).to_have_text("2")
    expect(counts.locator("tr", has_text="Rejected").locator("td").nth(1)).to_have_text("1")
    assert question_of(alice) not in decided

    lines = export_normalized(team_site)
    statuses = [lines[index]["review"]["status"] for index in decided]
    assert statuses == ["Accepted", "Rejected", "Accepted"]


def test_team_nothing_without_sign_in(browser, shared_site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(shared_site.server.url)
    expect(page.get_by_role("heading", name="LLM Data Review: sign in")).to_be_visible()
    assert page.locator("#progress").count() == 0

    asset = page.request.get(shared_site.server.url + "lib/shiny-1.8.0/shiny.js")
    assert asset.status == 401
    context.close()


def test_team_log_has_no_tokens(browser, shared_site):
    token = shared_site.tokens["bob"]
    bob = sign_in(browser, shared_site.server.url, token)
    decide(bob, "Reject")
    # A token pasted into a URL must not reach the log either.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(shared_site.server.url + f"lib/x.js?token={token}", timeout=10)

    log = shared_site.server.log_text()
    assert "bob GET / 200" in log
    assert token not in log
    assert shared_site.tokens["alice"] not in log
