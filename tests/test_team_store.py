"""ReviewStore on SQLite and PostgreSQL: schema, datasets, versions, conflicts, the queue, exports."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from team_databases import BACKENDS, database_url, make_chat_dataset

from sqlalchemy import inspect, text

from team import Conflict, ReviewStore, SchemaError, StoredReview, StoreError
from team import schema
from traces import Review, load_dataset_bytes

RECORDS = 6
DATA = make_chat_dataset(RECORDS)
ACCEPTED = Review(status="Accepted")
REJECTED = Review(status="Rejected")


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url) -> Iterator[ReviewStore]:
    with ReviewStore(store_url) as opened:
        opened.upgrade()
        yield opened


@pytest.fixture
def dataset_id(store) -> str:
    return store.add_dataset(DATA, "chat.jsonl").id


def save(store: ReviewStore, dataset_id: str, index: int, reviewer: str, review: Review, expected: int, **options):
    return store.save_review(dataset_id, index, reviewer, review, expected_version=expected, **options)


# Schema.


def test_schema_upgrade_from_empty(store_url):
    with ReviewStore(store_url) as store:
        assert store.schema_version() == 0
        assert store.upgrade() == (0, schema.LATEST_VERSION)
        assert store.schema_version() == schema.LATEST_VERSION


def test_schema_upgrade_twice_changes_nothing(store):
    assert store.upgrade() == (schema.LATEST_VERSION, schema.LATEST_VERSION)


def test_schema_upgrade_builds_every_column(store):
    inspector = inspect(store.engine)
    for table in schema.metadata.sorted_tables:
        stored = {column["name"] for column in inspector.get_columns(table.name)}
        assert stored == {column.name for column in table.columns}, table.name


def test_check_schema_missing_tables(store_url):
    with ReviewStore(store_url) as store:
        with pytest.raises(SchemaError, match="no team review tables"):
            store.check_schema()


def test_check_schema_newer_version(store):
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE schema_version SET version = :version"), {"version": schema.LATEST_VERSION + 1})
    with pytest.raises(SchemaError, match="newer than"):
        store.check_schema()
    with pytest.raises(SchemaError, match="newer than"):
        store.upgrade()


# Datasets.


def test_add_dataset_records_file(store):
    info = store.add_dataset(DATA, "chat.jsonl")
    assert info.id == load_dataset_bytes(DATA, "chat.jsonl").dataset_id
    assert info.format == "openai-chat"
    assert info.record_count == RECORDS
    assert info.loaded_at.tzinfo is not None


def test_add_dataset_same_bytes_once(store):
    first = store.add_dataset(DATA, "chat.jsonl")
    second = store.add_dataset(DATA, "copy.jsonl")
    assert second.id == first.id
    assert len(store.list_datasets()) == 1


def test_load_dataset_rebuilds_records(store, dataset_id):
    fresh = ReviewStore(store.url)
    try:
        loaded = fresh.load_dataset(dataset_id)
    finally:
        fresh.close()
    assert [record.output_text for record in loaded.records] == [f"Answer {index}" for index in range(RECORDS)]


def test_add_dataset_unknown_format(store):
    with pytest.raises(ValueError, match="Unknown trace format"):
        store.add_dataset(DATA, "chat.jsonl", format="no-such-format")


def test_resolve_dataset_id_prefix(store, dataset_id):
    assert store.resolve_dataset_id(dataset_id[:8]) == dataset_id
    with pytest.raises(StoreError, match="no dataset id starts with"):
        store.resolve_dataset_id("zz")


# Saving with versions.


def test_save_review_numbers_versions(store, dataset_id):
    first = save(store, dataset_id, 2, "alice", ACCEPTED, 0)
    second = save(store, dataset_id, 2, "bob", REJECTED, first.version)
    assert isinstance(first, StoredReview)
    assert first.version == 1
    assert second.version == 2
    assert store.latest_reviews(dataset_id)[2].reviewer == "bob"


def test_save_review_stale_version_conflicts(store, dataset_id):
    save(store, dataset_id, 1, "alice", Review(status="Accepted", edited_output="Fixed", note="ok"), 0)
    result = save(store, dataset_id, 1, "bob", REJECTED, 0)
    assert isinstance(result, Conflict)
    assert result.expected_version == 0
    assert result.current.reviewer == "alice"
    assert result.current.review.edited_output == "Fixed"
    assert result.current.version == 1


def test_save_review_conflict_writes_nothing(store, dataset_id):
    save(store, dataset_id, 1, "alice", ACCEPTED, 0)
    save(store, dataset_id, 1, "bob", REJECTED, 0)
    assert [stored.reviewer for stored in store.history(dataset_id)] == ["alice"]
    assert store.latest_reviews(dataset_id)[1].review.status == "Accepted"


def test_save_review_expected_version_missing(store, dataset_id):
    result = save(store, dataset_id, 0, "alice", ACCEPTED, 3)
    assert isinstance(result, Conflict)
    assert result.current is None


def test_save_review_keeps_fields(store, dataset_id):
    review = Review(status="Rejected", edited_output="Corrected\nanswer ✓", labels=["tone", "facts"], note="Too long")
    save(store, dataset_id, 4, "alice", review, 0)
    stored = store.latest_review(dataset_id, 4)
    assert stored.review == review
    assert stored.decided_at.tzinfo == UTC


def test_save_review_independent_reviewers(store, dataset_id):
    first = save(store, dataset_id, 0, "alice", ACCEPTED, 0, reviews_per_record=2)
    second = save(store, dataset_id, 0, "bob", REJECTED, 0, reviews_per_record=2)
    assert isinstance(second, StoredReview)
    assert second.version == first.version + 1


def test_save_review_independent_same_reviewer_conflicts(store, dataset_id):
    save(store, dataset_id, 0, "alice", ACCEPTED, 0, reviews_per_record=2)
    save(store, dataset_id, 0, "bob", REJECTED, 0, reviews_per_record=2)
    result = save(store, dataset_id, 0, "alice", REJECTED, 0, reviews_per_record=2)
    assert isinstance(result, Conflict)
    assert result.current.reviewer == "alice"


@pytest.mark.parametrize(
    ("index", "reviewer", "expected", "message"),
    [
        (RECORDS, "alice", 0, "outside 0..5"),
        (-1, "alice", 0, "outside 0..5"),
        (0, "", 0, "is empty"),
        (0, "   ", 0, "is empty"),
        (0, "x" * 201, 0, "expected at most 200"),
        (0, "alice", -1, "expected version -1 is invalid"),
    ],
)
def test_save_review_invalid_request(store, dataset_id, index, reviewer, expected, message):
    with pytest.raises(StoreError, match=message):
        save(store, dataset_id, index, reviewer, ACCEPTED, expected)


def test_save_review_unknown_dataset(store):
    with pytest.raises(StoreError, match="not in the database"):
        save(store, "f" * 64, 0, "alice", ACCEPTED, 0)


def test_reviewer_reviews_newest_own(store, dataset_id):
    first = save(store, dataset_id, 3, "alice", ACCEPTED, 0)
    second = save(store, dataset_id, 3, "bob", REJECTED, first.version)
    save(store, dataset_id, 3, "alice", Review(status="Accepted", note="again"), second.version)
    own = store.reviewer_reviews(dataset_id, "alice")
    assert list(own) == [3]
    assert own[3].review.note == "again"
    assert store.reviewer_reviews(dataset_id, "bob")[3].review.status == "Rejected"


def test_decisions_one_per_reviewer(store, dataset_id):
    first = save(store, dataset_id, 0, "alice", REJECTED, 0)
    second = save(store, dataset_id, 0, "alice", ACCEPTED, first.version)
    save(store, dataset_id, 0, "bob", REJECTED, second.version)
    decided = store.decisions(dataset_id)[0]
    assert [(stored.reviewer, stored.review.status) for stored in decided] == [("alice", "Accepted"), ("bob", "Rejected")]


def test_save_review_concurrent_one_wins(store, dataset_id):
    barrier = threading.Barrier(8)
    results: list[object] = []

    def save_as(reviewer: str) -> None:
        barrier.wait()
        results.append(save(store, dataset_id, 5, reviewer, ACCEPTED, 0))

    threads = [threading.Thread(target=save_as, args=(f"reviewer-{number}",)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    saved = [result for result in results if isinstance(result, StoredReview)]
    assert len(results) == 8
    assert len(saved) == 1
    assert len(store.history(dataset_id, 5)) == 1


# The queue.


def test_reserve_next_different_records(store, dataset_id):
    assert store.reserve_next(dataset_id, "alice") == 0
    assert store.reserve_next(dataset_id, "bob") == 1
    assert store.reservations(dataset_id) == {0: ["alice"], 1: ["bob"]}


def test_reserve_next_resumes_held_record(store, dataset_id):
    store.reserve_next(dataset_id, "alice")
    store.reserve_next(dataset_id, "bob")
    assert store.reserve_next(dataset_id, "bob") == 1


def test_reserve_next_after_moves_and_releases(store, dataset_id):
    store.reserve_next(dataset_id, "alice")
    assert store.reserve_next(dataset_id, "alice", after=0) == 1
    assert store.reservations(dataset_id) == {1: ["alice"]}


def test_reserve_next_wraps_around(store, dataset_id):
    assert store.reserve_next(dataset_id, "alice", after=4) == 5
    assert store.reserve_next(dataset_id, "alice", after=5) == 0


def test_reserve_next_skips_decided(store, dataset_id):
    save(store, dataset_id, 0, "carol", ACCEPTED, 0)
    save(store, dataset_id, 1, "carol", REJECTED, 0)
    assert store.reserve_next(dataset_id, "alice") == 2


def test_reserve_next_reopens_reset_record(store, dataset_id):
    first = save(store, dataset_id, 0, "carol", ACCEPTED, 0)
    save(store, dataset_id, 0, "carol", Review(status="Pending"), first.version)
    assert store.reserve_next(dataset_id, "alice") == 0


def test_reserve_next_none_left(store, dataset_id):
    for index in range(RECORDS - 1):
        save(store, dataset_id, index, "carol", ACCEPTED, 0)
    assert store.reserve_next(dataset_id, "bob") == RECORDS - 1
    assert store.reserve_next(dataset_id, "alice") is None


def test_reserve_next_none_keeps_held(store, dataset_id):
    for index in range(RECORDS - 1):
        save(store, dataset_id, index, "carol", ACCEPTED, 0)
    assert store.reserve_next(dataset_id, "alice") == RECORDS - 1
    assert store.reserve_next(dataset_id, "alice", after=RECORDS - 1) == RECORDS - 1
    assert store.reservations(dataset_id) == {RECORDS - 1: ["alice"]}


def test_reserve_next_expired_reservation(store, dataset_id):
    start = datetime.now(UTC)
    store.reserve_next(dataset_id, "alice", now=start)
    later = start + store.reservation_ttl + timedelta(seconds=1)
    assert store.reserve_next(dataset_id, "bob", now=later) == 0


def test_reserve_next_save_renews_reservation(store, dataset_id):
    start = datetime.now(UTC)
    store.reserve_next(dataset_id, "alice", now=start)
    halfway = start + store.reservation_ttl / 2
    save(store, dataset_id, 0, "alice", Review(note="reading"), 0, now=halfway)
    after_first_expiry = start + store.reservation_ttl + timedelta(seconds=1)
    assert store.reserve_next(dataset_id, "bob", now=after_first_expiry) == 1


def test_release_frees_record(store, dataset_id):
    store.reserve_next(dataset_id, "alice")
    assert store.release(dataset_id, "alice") == 1
    assert store.reserve_next(dataset_id, "bob") == 0


def test_reserve_next_several_reviews_share_record(store, dataset_id):
    assert store.reserve_next(dataset_id, "alice", reviews_per_record=2) == 0
    assert store.reserve_next(dataset_id, "bob", reviews_per_record=2) == 0
    assert store.reserve_next(dataset_id, "carol", reviews_per_record=2) == 1


def test_reserve_next_never_same_record_twice(store, dataset_id):
    store.reserve_next(dataset_id, "alice", reviews_per_record=2)
    save(store, dataset_id, 0, "alice", ACCEPTED, 0, reviews_per_record=2)
    assert store.reserve_next(dataset_id, "alice", after=0, reviews_per_record=2) == 1
    assert store.reserve_next(dataset_id, "alice", after=5, reviews_per_record=2) == 1


def test_reserve_next_done_after_n_reviewers(store, dataset_id):
    save(store, dataset_id, 0, "alice", ACCEPTED, 0, reviews_per_record=2)
    assert store.reserve_next(dataset_id, "carol", reviews_per_record=2) == 0
    store.release(dataset_id, "carol")
    save(store, dataset_id, 0, "bob", REJECTED, 0, reviews_per_record=2)
    assert store.reserve_next(dataset_id, "carol", reviews_per_record=2) == 1


def test_reserve_next_held_slots_count(store, dataset_id):
    save(store, dataset_id, 0, "alice", ACCEPTED, 0, reviews_per_record=2)
    assert store.reserve_next(dataset_id, "bob", reviews_per_record=2) == 0
    assert store.reserve_next(dataset_id, "carol", reviews_per_record=2) == 1


def test_reserve_next_concurrent_distinct(store, dataset_id):
    barrier = threading.Barrier(RECORDS)
    results: dict[str, int | None] = {}

    def reserve_as(reviewer: str) -> None:
        barrier.wait()
        results[reviewer] = store.reserve_next(dataset_id, reviewer)

    threads = [threading.Thread(target=reserve_as, args=(f"reviewer-{number}",)) for number in range(RECORDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == RECORDS
    assert sorted(results.values()) == list(range(RECORDS))


def test_reserve_next_invalid_reviews_per_record(store, dataset_id):
    with pytest.raises(StoreError, match="reviews per record 0 is invalid"):
        store.reserve_next(dataset_id, "alice", reviews_per_record=0)


# Agreement.


def test_agreement_pairs_and_records(store, dataset_id):
    # alice and bob agree on records 0-2 and disagree on 3; carol decides record 0 only.
    plan = {
        "alice": ["Accepted", "Accepted", "Rejected", "Accepted"],
        "bob": ["Accepted", "Accepted", "Rejected", "Rejected"],
    }
    for reviewer, statuses in plan.items():
        for index, status in enumerate(statuses):
            save(store, dataset_id, index, reviewer, Review(status=status), 0, reviews_per_record=3)
    save(store, dataset_id, 0, "carol", REJECTED, 0, reviews_per_record=3)

    report = store.agreement(dataset_id)
    pair = next(pair for pair in report.pairs if (pair.first, pair.second) == ("alice", "bob"))
    # 2x2 table: both Accepted 2, alice A / bob R 1, both Rejected 1. p_o = 3/4; alice accepts 3/4,
    # bob 2/4, so p_e = 3/4*2/4 + 1/4*2/4 = 1/2 and kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2.
    assert pair.records == 4
    assert pair.observed == pytest.approx(0.75)
    assert pair.kappa == pytest.approx(0.5)
    assert report.records[0].accepted == 2
    assert report.records[0].rejected == 1
    assert report.records[0].agreement == pytest.approx(1 / 3)


# Exports.


def test_export_original_applies_latest(store, dataset_id):
    first = save(store, dataset_id, 0, "alice", Review(status="Accepted", edited_output="Better 0"), 0)
    save(store, dataset_id, 0, "bob", Review(status="Accepted", edited_output="Best 0"), first.version)
    name, data = store.export(dataset_id, "original")
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert name == "chat.curated.jsonl"
    assert lines[0]["messages"][-1]["content"] == "Best 0"
    assert lines[1]["messages"][-1]["content"] == "Answer 1"


def test_export_openai_accepted_only(store, dataset_id):
    save(store, dataset_id, 1, "alice", ACCEPTED, 0)
    save(store, dataset_id, 2, "bob", REJECTED, 0)
    _, data = store.export(dataset_id, "openai")
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert len(lines) == 1
    assert lines[0]["messages"][0]["content"] == "Question 1"


def test_export_normalized_names_reviewers(store, dataset_id):
    save(store, dataset_id, 3, "alice", ACCEPTED, 0, reviews_per_record=2)
    save(store, dataset_id, 3, "bob", Review(status="Rejected", note="wrong"), 0, reviews_per_record=2)
    _, data = store.export(dataset_id, "normalized")
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    team_review = lines[3]["team_review"]
    assert len(lines) == RECORDS
    assert [decision["reviewer"] for decision in team_review["decisions"]] == ["alice", "bob"]
    assert team_review["decisions"][1]["note"] == "wrong"
    assert datetime.fromisoformat(team_review["decisions"][0]["decided_at"]).tzinfo is not None
    assert team_review["chosen"]["reviewer"] == "bob"
    assert lines[3]["review"]["status"] == "Rejected"
    assert lines[0]["team_review"]["decisions"] == []


def test_export_majority_rule(store, dataset_id):
    for reviewer, status in [("alice", "Accepted"), ("bob", "Accepted"), ("carol", "Rejected")]:
        save(store, dataset_id, 0, reviewer, Review(status=status), 0, reviews_per_record=3)
    _, latest = store.export(dataset_id, "normalized", rule="latest")
    _, majority = store.export(dataset_id, "normalized", rule="majority")
    assert json.loads(latest.decode().splitlines()[0])["review"]["status"] == "Rejected"
    assert json.loads(majority.decode().splitlines()[0])["review"]["status"] == "Accepted"
