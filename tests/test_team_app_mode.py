"""Team mode inside the app: configuration, loading, saving with conflicts, and the queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from team_databases import make_chat_dataset

pytest.importorskip("sqlalchemy")

from review_state import ReviewState  # noqa: E402 - after the skip
from team.app_mode import TeamConfig, TeamMode, describe_conflict, read_team_config  # noqa: E402
from team.auth import REVIEWER_SCOPE_KEY  # noqa: E402
from team.store import ReviewStore  # noqa: E402
from traces import Review  # noqa: E402

RECORDS = 5


@pytest.fixture
def mode(tmp_path) -> Iterator[TeamMode]:
    store = ReviewStore(f"sqlite:///{tmp_path / 'review.sqlite'}")
    store.upgrade()
    info = store.add_dataset(make_chat_dataset(RECORDS), "chat.jsonl")
    yield TeamMode(TeamConfig(database_url=store.url, dataset_id=info.id), store)
    store.close()


def independent_mode(mode: TeamMode, reviews_per_record: int) -> TeamMode:
    config = TeamConfig(database_url=mode.store.url, dataset_id=mode.dataset_id, reviews_per_record=reviews_per_record)
    return TeamMode(config, mode.store)


def fresh_state(mode: TeamMode) -> ReviewState:
    records = mode.dataset.records
    return ReviewState.start([record.review for record in records], [record.output_text for record in records])


def open_as(mode: TeamMode, reviewer: str):
    return mode.open_session({REVIEWER_SCOPE_KEY: reviewer})


# Configuration.


def test_read_team_config_unset():
    assert read_team_config({}) is None


def test_read_team_config_values():
    config = read_team_config(
        {
            "LLM_REVIEW_DATABASE_URL": "sqlite:///x.sqlite",
            "LLM_REVIEW_DATASET_ID": "abc",
            "LLM_REVIEW_REVIEWS_PER_RECORD": "3",
            "LLM_REVIEW_RESERVATION_MINUTES": "5",
        }
    )
    assert config.reviews_per_record == 3
    assert config.reservation_ttl.total_seconds() == 300


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LLM_REVIEW_DATABASE_URL": "sqlite:///x.sqlite"}, "LLM_REVIEW_DATASET_ID is not"),
        ({"LLM_REVIEW_DATABASE_URL": "x", "LLM_REVIEW_DATASET_ID": "a", "LLM_REVIEW_REVIEWS_PER_RECORD": "0"}, "REVIEWS_PER_RECORD='0' is invalid"),
        ({"LLM_REVIEW_DATABASE_URL": "x", "LLM_REVIEW_DATASET_ID": "a", "LLM_REVIEW_RESERVATION_MINUTES": "soon"}, "RESERVATION_MINUTES='soon' is invalid"),
    ],
)
def test_read_team_config_invalid(environ, message):
    with pytest.raises(ValueError, match=message):
        read_team_config(environ)


# Sessions.


def test_session_without_reviewer(mode):
    session = mode.open_session({})
    assert session.reviewer is None
    assert "No reviewer is signed in" in session.problem


def test_start_moves_to_reserved_records(mode):
    alice = open_as(mode, "alice").start(fresh_state(mode))
    bob = open_as(mode, "bob").start(fresh_state(mode))
    assert alice.state.position == 0
    assert bob.state.position == 1


def test_start_loads_latest_reviews(mode):
    mode.store.save_review(mode.dataset_id, 3, "carol", Review(status="Rejected", note="off topic"), expected_version=0)
    outcome = open_as(mode, "alice").start(fresh_state(mode))
    assert outcome.state.review_at(3).note == "off topic"
    assert outcome.state.counts["Rejected"] == 1


def test_start_independent_shows_own_only(mode):
    mode.store.save_review(mode.dataset_id, 3, "carol", Review(status="Rejected"), expected_version=0, reviews_per_record=2)
    outcome = open_as(independent_mode(mode, 2), "alice").start(fresh_state(mode))
    assert outcome.state.review_at(3).status == "Pending"


def test_commit_decision_saves_and_moves(mode):
    session = open_as(mode, "alice")
    state = session.start(fresh_state(mode)).state
    outcome = session.commit(state.accept("Better answer"), [0], decision=True)
    stored = mode.store.latest_review(mode.dataset_id, 0)
    assert stored.reviewer == "alice"
    assert stored.review.edited_output == "Better answer"
    assert outcome.state.position == 1
    assert outcome.conflicts == ()


def reject_after_alice_accepts(mode):
    """Return Bob's session and the outcome of his Reject of record 0 after Alice accepted it."""
    alice = open_as(mode, "alice")
    bob = open_as(mode, "bob")
    alice_state = alice.start(fresh_state(mode)).state
    bob_state = bob.start(fresh_state(mode)).state.move_to(0)
    alice.commit(alice_state.accept("Alice's answer"), [0], decision=True)
    return bob, bob.commit(bob_state.reject(), [0], decision=True)


def test_commit_conflict_shows_other_review(mode):
    _, outcome = reject_after_alice_accepts(mode)

    assert len(outcome.conflicts) == 1
    assert outcome.conflicts[0].current.reviewer == "alice"
    assert outcome.state.position == 0
    assert outcome.state.review_at(0).status == "Accepted"
    assert outcome.state.undo_steps == ()
    assert [stored.reviewer for stored in mode.store.history(mode.dataset_id, 0)] == ["alice"]


def test_commit_after_conflict_builds_on_other(mode):
    bob, conflicted = reject_after_alice_accepts(mode)

    again = bob.commit(conflicted.state.reject(), [0], decision=True)
    assert again.conflicts == ()
    assert mode.store.latest_review(mode.dataset_id, 0).reviewer == "bob"


def test_move_refreshes_record(mode):
    alice = open_as(mode, "alice")
    state = alice.start(fresh_state(mode)).state
    mode.store.save_review(mode.dataset_id, 4, "carol", Review(status="Accepted"), expected_version=0)
    moved = alice.commit(state.move_to(4), [], decision=False).state
    assert moved.review_at(4).status == "Accepted"
    assert alice.commit(moved.reject(), [4], decision=True).conflicts == ()


def test_go_next_skips_held_records(mode):
    alice = open_as(mode, "alice")
    bob = open_as(mode, "bob")
    state = alice.start(fresh_state(mode)).state
    bob.start(fresh_state(mode))
    assert alice.go_next(state).state.position == 2


def test_go_next_alone_reports_empty_queue(mode):
    for index in range(1, RECORDS):
        mode.store.save_review(mode.dataset_id, index, "carol", Review(status="Accepted"), expected_version=0)
    alice = open_as(mode, "alice")
    state = alice.start(fresh_state(mode)).state
    outcome = alice.go_next(state)
    assert outcome.queue_empty
    assert outcome.state.position == 0


def test_decision_on_last_open_record_ends_queue(mode):
    for index in range(1, RECORDS):
        mode.store.save_review(mode.dataset_id, index, "carol", Review(status="Accepted"), expected_version=0)
    alice = open_as(mode, "alice")
    state = alice.start(fresh_state(mode)).state
    outcome = alice.commit(state.reject(), [0], decision=True)
    assert outcome.queue_empty
    assert outcome.state.is_done


def test_release_returns_record(mode):
    alice = open_as(mode, "alice")
    alice.start(fresh_state(mode))
    alice.release()
    assert open_as(mode, "bob").start(fresh_state(mode)).state.position == 0


def test_export_uses_team_reviews(mode):
    alice = open_as(mode, "alice")
    state = alice.start(fresh_state(mode)).state
    alice.commit(state.accept("Edited by alice"), [0], decision=True)
    name, text = alice.export("normalized")
    assert name == "chat.reviewed.jsonl"
    assert '"reviewer": "alice"' in text.splitlines()[0]


def test_describe_conflict_names_reviewer(mode):
    mode.store.save_review(mode.dataset_id, 1, "carol", Review(status="Accepted", edited_output="x"), expected_version=0)
    conflict = mode.store.save_review(mode.dataset_id, 1, "dana", Review(status="Rejected"), expected_version=0)
    message = describe_conflict(conflict)
    assert message.startswith("Record 2 was saved by carol at ")
    assert "(Accepted with an edited output)" in message
