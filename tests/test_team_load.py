"""Load on team mode: many reviewers at once, then every confirmed decision is stored exactly once.

Two tests. The first drives 20 real Shiny sessions over websockets against `python -m team serve`
on 127.0.0.1, speaking Shiny's websocket protocol directly (init and update messages) the way
shiny.js does. The second calls the store API from 20 threads. Both run a fixed number of
actions per reviewer, every wait has a deadline, and nothing leaves the loopback interface.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from event_loop import run_coroutine
from team_databases import BACKENDS, database_url, make_chat_dataset
from team_server import TeamServer, run_team

pytest.importorskip("sqlalchemy")
websockets_client = pytest.importorskip("websockets.asyncio.client")

from team import Conflict, ReviewStore  # noqa: E402 - after the skips
from team.auth import COOKIE_NAME, add_reviewer  # noqa: E402
from traces import Review  # noqa: E402

SESSIONS = 20
ACTIONS_PER_SESSION = 10
# Enough records that no queue runs dry: at most SESSIONS * ACTIONS_PER_SESSION decisions.
RECORDS = 300
# Jumps land on these first records, so that sessions meet on the same records.
CONTESTED_RECORDS = 12
WAIT_SECONDS = 60
BUTTONS = ("accept", "reject", "back", "next", "reset", "undo", "jump", "next_pending", "add_label", "download", "backup_progress")

Decision = tuple[str, int, str, str | None]


class ShinyClient:
    """One browser-less Shiny session: the init and update messages of shiny.js, and output values."""

    def __init__(self, url: str, token: str, reviewer: str) -> None:
        self.websocket_url = url.replace("http://", "ws://") + "websocket/"
        self.token = token
        self.reviewer = reviewer
        self.values: dict[str, object] = {}
        self.clicks = dict.fromkeys(BUTTONS, 0)
        self.connection = None

    async def open(self) -> None:
        self.connection = await websockets_client.connect(
            self.websocket_url, additional_headers={"Cookie": f"{COOKIE_NAME}={self.token}"}, max_size=None
        )
        inputs: dict[str, object] = {
            "filter_status": "",
            "filter_label": "",
            "search": "",
            "jump_to": None,
            "output_text": "",
            "note": "",
            # shiny.js sends an empty checkbox group as null; an input never sent stops the
            # effects that read it.
            "labels": None,
            "new_label": "",
            "export_format": "original",
        }
        inputs.update({f"{button}:shiny.action": 0 for button in BUTTONS})
        for output in ("progress", "review_rate", "team_panel", "status_box"):
            inputs[f".clientdata_output_{output}_hidden"] = False
        await self.connection.send(json.dumps({"method": "init", "data": inputs}))
        await self.wait_for(lambda: self.position() is not None, "the first record")

    async def close(self) -> None:
        await self.connection.close()

    async def wait_for(self, condition, description: str) -> None:
        """Read messages until `condition()` holds, failing after WAIT_SECONDS."""
        async def read_until() -> None:
            while not condition():
                message = json.loads(await self.connection.recv())
                if isinstance(message.get("values"), dict):
                    self.values.update(message["values"])
                errors = message.get("errors") or {}
                if errors:
                    raise AssertionError(f"{self.reviewer}: output errors {errors}")

        try:
            await asyncio.wait_for(read_until(), WAIT_SECONDS)
        except TimeoutError:
            raise AssertionError(f"{self.reviewer}: no {description} within {WAIT_SECONDS} s; outputs {self.values}") from None

    async def update(self, data: dict[str, object]) -> None:
        await self.connection.send(json.dumps({"method": "update", "data": data}))

    def click_data(self, button: str) -> dict[str, object]:
        self.clicks[button] += 1
        return {f"{button}:shiny.action": self.clicks[button]}

    def position(self) -> int | None:
        """Return the current record index from the progress line "Record N of TOTAL"."""
        match = re.fullmatch(r"Record (\d+) of (\d+)", str(self.values.get("progress") or ""))
        return int(match.group(1)) - 1 if match else None

    def decisions_made(self) -> int:
        match = re.search(r"\((\d+) this session\)", str(self.values.get("review_rate") or ""))
        return int(match.group(1)) if match else 0

    def shows_conflict(self) -> bool:
        panel = self.values.get("team_panel")
        return isinstance(panel, dict) and "team-conflict" in panel.get("html", "")


async def review_randomly(client: ShinyClient, seed: int) -> tuple[list[Decision], int]:
    """Make ACTIONS_PER_SESSION decisions; return the confirmed ones and the count of conflicts."""
    rng = random.Random(seed)
    confirmed: list[Decision] = []
    conflicts = 0
    await client.open()

    for action in range(ACTIONS_PER_SESSION):
        index = client.position()
        if rng.random() < 0.3:
            target = rng.randrange(CONTESTED_RECORDS)
            if target != index:
                await client.update({"jump_to": target + 1, **client.click_data("jump")})
                await client.wait_for(lambda target=target: client.position() == target, f"jump to record {target}")
                index = target

        choice = rng.choice(["accept", "reject", "edit"])
        expected_count = client.decisions_made() + 1
        if choice == "edit":
            edited = f"Edited by {client.reviewer}, action {action}"
            # As the page does: the editor's text first, then the click, in one message.
            await client.update({"output_text": edited, **client.click_data("accept")})
            decision: Decision = (client.reviewer, index, "Accepted", edited)
        elif choice == "accept":
            await client.update(client.click_data("accept"))
            decision = (client.reviewer, index, "Accepted", None)
        else:
            await client.update(client.click_data("reject"))
            decision = (client.reviewer, index, "Rejected", None)

        # The decision counter and the conflict notice render in the flush that ran the save.
        await client.wait_for(lambda: client.decisions_made() >= expected_count, f"decision {expected_count}")
        if client.shows_conflict():
            conflicts += 1
        else:
            confirmed.append(decision)

    await client.close()
    return confirmed, conflicts


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def load_dataset(store_url: str, folder: Path) -> str:
    data_path = folder / "load.jsonl"
    data_path.write_bytes(make_chat_dataset(RECORDS))
    loaded = run_team("load", "--db", store_url, str(data_path))
    assert loaded.returncode == 0, loaded.stderr
    return loaded.stdout.split()[0]


def stored_decisions(store_url: str, dataset_id: str) -> list[Decision]:
    with ReviewStore(store_url) as store:
        return [
            (stored.reviewer, stored.index, stored.review.status, stored.review.edited_output)
            for stored in store.history(dataset_id)
        ]


def test_websocket_sessions_store_each_decision_once(store_url, tmp_path):
    dataset_id = load_dataset(store_url, tmp_path)
    tokens_path = tmp_path / "reviewers.json"
    tokens = {f"reviewer-{number:02d}": "" for number in range(SESSIONS)}
    for name in tokens:
        tokens[name] = add_reviewer(tokens_path, name)

    server = TeamServer(store_url, dataset_id, tokens_path, tmp_path / "server.log")
    server.start()
    try:

        async def run_all() -> list[tuple[list[Decision], int]]:
            clients = [ShinyClient(server.url, token, name) for name, token in tokens.items()]
            return await asyncio.gather(*(review_randomly(client, seed) for seed, client in enumerate(clients)))

        results = run_coroutine(run_all())
    finally:
        server.stop()

    confirmed = [decision for decisions, _ in results for decision in decisions]
    conflicts = sum(count for _, count in results)
    stored = stored_decisions(store_url, dataset_id)
    log = server.log_text()
    assert len(confirmed) + conflicts == SESSIONS * ACTIONS_PER_SESSION
    assert Counter(decision[:3] for decision in stored) == Counter(decision[:3] for decision in confirmed)
    # An Accept without an edit keeps the output shown, which can be another reviewer's edit, so
    # only the edits made in this test are matched exactly.
    edits = [decision for decision in confirmed if decision[3] is not None]
    assert Counter(decision for decision in stored if decision in edits) == Counter(edits)
    assert "Traceback" not in log
    assert not any(token in log for token in tokens.values())


def test_store_threads_save_each_decision_once(store_url):
    with ReviewStore(store_url) as store:
        store.upgrade()
        dataset_id = store.add_dataset(make_chat_dataset(RECORDS), "load.jsonl").id
        saved: list[Decision] = []
        conflicts: list[Conflict] = []
        failures: list[BaseException] = []
        lock = threading.Lock()
        barrier = threading.Barrier(SESSIONS)

        def review_as(reviewer: str, seed: int) -> None:
            rng = random.Random(seed)
            try:
                barrier.wait(timeout=WAIT_SECONDS)
                index = store.reserve_next(dataset_id, reviewer)
                for action in range(ACTIONS_PER_SESSION):
                    if rng.random() < 0.3:
                        index = rng.randrange(CONTESTED_RECORDS)
                    seen = store.latest_review(dataset_id, index)
                    status = rng.choice(["Accepted", "Rejected"])
                    edited = f"{reviewer} {action}" if rng.random() < 0.3 else None
                    result = store.save_review(
                        dataset_id,
                        index,
                        reviewer,
                        Review(status=status, edited_output=edited),
                        expected_version=0 if seen is None else seen.version,
                    )
                    with lock:
                        if isinstance(result, Conflict):
                            conflicts.append(result)
                        else:
                            saved.append((reviewer, index, status, edited))
                    index = store.reserve_next(dataset_id, reviewer, after=index)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                failures.append(error)

        threads = [threading.Thread(target=review_as, args=(f"reviewer-{number:02d}", number)) for number in range(SESSIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

        history = store.history(dataset_id)

    assert failures == []
    assert not any(thread.is_alive() for thread in threads)
    assert len(saved) + len(conflicts) == SESSIONS * ACTIONS_PER_SESSION
    assert Counter((stored.reviewer, stored.index, stored.review.status, stored.review.edited_output) for stored in history) == Counter(saved)
    versions_by_record: dict[int, list[int]] = {}
    for stored in history:
        versions_by_record.setdefault(stored.index, []).append(stored.version)
    assert all(sorted(versions) == list(range(1, len(versions) + 1)) for versions in versions_by_record.values())
