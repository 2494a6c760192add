import json
from pathlib import Path
from typing import Any

import pytest

from review_data import Dataset, export_dataset, load_dataset, parse_dataset
from review_state import STORAGE_SCHEMA, RecordReview, ReviewState, StoredStateError


def make_row(status: str, content: str | None) -> dict[str, Any]:
    return {
        "child_run": {
            "inputs": [{"role": "user", "content": "Question?"}],
            "output": {"role": "assistant", "content": content},
            "funcs": [],
            "run_id": None,
        },
        "status": status,
    }


@pytest.fixture
def dataset() -> Dataset:
    """Three records: one already Accepted, one Pending with null content, one Rejected."""
    rows = [
        make_row("Accepted", "First answer"),
        make_row("Pending", None),
        make_row("Rejected", "Third answer"),
    ]
    return parse_dataset(json.dumps(rows).encode("utf-8"), "runs.json")


@pytest.fixture
def state(dataset: Dataset) -> ReviewState:
    return ReviewState.from_dataset(dataset)


ORIGINALS = (
    RecordReview("Accepted", "First answer"),
    RecordReview("Pending", ""),
    RecordReview("Rejected", "Third answer"),
)


def move_past_end(state: ReviewState) -> ReviewState:
    for _ in range(state.total):
        state = state.go_next()
    return state


# --- Creation ----------------------------------------------------------------


def test_from_dataset_originals(state: ReviewState) -> None:
    assert state.originals == ORIGINALS


def test_from_dataset_reviews_equal_originals(state: ReviewState) -> None:
    assert state.reviews == ORIGINALS


def test_from_dataset_starts_at_first(state: ReviewState) -> None:
    assert state.position == 0
    assert state.total == 3
    assert state.is_done is False
    assert state.current == ORIGINALS[0]


def test_from_dataset_sample_file(shared_data_dir: Path) -> None:
    dataset = load_dataset(shared_data_dir / "langfree-langsmith" / "sample_data.c4d7f32.json")

    state = ReviewState.from_dataset(dataset)

    assert state.total == 4
    statuses = [review.status for review in state.reviews]
    assert statuses == ["Accepted", "Accepted", "Accepted", "Pending"]
    assert state.reviews[0].output.startswith("The `traceable` decorator")


@pytest.mark.parametrize(
    ("reviews", "position", "fragment"),
    [
        pytest.param(ORIGINALS[:2], 0, "2 reviews for 3 original records", id="length-mismatch"),
        pytest.param(ORIGINALS, -1, "position -1 is outside 0..3", id="position-negative"),
        pytest.param(ORIGINALS, 4, "position 4 is outside 0..3", id="position-past-end"),
    ],
)
def test_review_state_invalid(
    reviews: tuple[RecordReview, ...], position: int, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        ReviewState(originals=ORIGINALS, reviews=reviews, position=position)


# --- Transitions -------------------------------------------------------------


def test_accept_saves_output(state: ReviewState) -> None:
    accepted = state.go_next().accept("Edited second answer")

    assert accepted.reviews[1] == RecordReview("Accepted", "Edited second answer")


def test_accept_moves_next(state: ReviewState) -> None:
    assert state.accept("First answer").position == 1


def test_accept_keeps_other_records(state: ReviewState) -> None:
    accepted = state.go_next().accept("Edited")

    assert accepted.reviews[0] == ORIGINALS[0]
    assert accepted.reviews[2] == ORIGINALS[2]


def test_accept_keeps_originals(state: ReviewState) -> None:
    assert state.accept("Edited").originals == ORIGINALS


def test_accept_does_not_mutate(state: ReviewState) -> None:
    state.accept("Edited")

    assert state.reviews == ORIGINALS
    assert state.position == 0


def test_accept_last_record_is_done(state: ReviewState) -> None:
    last = state.go_next().go_next()

    done = last.accept("Third answer")

    assert done.position == 3
    assert done.is_done is True
    assert done.current is None


def test_reject_keeps_output(state: ReviewState) -> None:
    rejected = state.reject()

    assert rejected.reviews[0] == RecordReview("Rejected", "First answer")
    assert rejected.position == 1


def test_reject_keeps_edited_output(state: ReviewState) -> None:
    edited = state.accept("Edited first answer").go_back()

    rejected = edited.reject()

    assert rejected.reviews[0] == RecordReview("Rejected", "Edited first answer")


def test_reset_restores_original_output(state: ReviewState) -> None:
    edited = state.accept("Edited first answer").go_back()

    reset = edited.reset()

    assert reset.reviews[0] == RecordReview("Pending", "First answer")


def test_reset_keeps_position(state: ReviewState) -> None:
    second = state.go_next()

    assert second.reset().position == 1


def test_reset_null_content_gives_empty_output(state: ReviewState) -> None:
    second = state.go_next().accept("Now written").go_back()

    assert second.reset().reviews[1] == RecordReview("Pending", "")


@pytest.mark.parametrize(
    ("action", "apply"),
    [
        ("accept", lambda state: state.accept("Text")),
        ("reject", lambda state: state.reject()),
        ("reset", lambda state: state.reset()),
    ],
)
def test_action_when_done_raises(state: ReviewState, action: str, apply: Any) -> None:
    done = move_past_end(state)

    expected = f"Cannot {action}: position 3 is past the last of 3 records"
    with pytest.raises(ValueError, match=expected):
        apply(done)


def test_go_next_moves(state: ReviewState) -> None:
    assert state.go_next().position == 1


def test_go_next_clamps_at_done(state: ReviewState) -> None:
    done = move_past_end(state)

    assert done.go_next().position == 3


def test_go_next_keeps_reviews(state: ReviewState) -> None:
    edited = state.accept("Edited")

    assert edited.go_next().reviews == edited.reviews


def test_go_back_moves(state: ReviewState) -> None:
    assert state.go_next().go_next().go_back().position == 1


def test_go_back_clamps_at_first(state: ReviewState) -> None:
    assert state.go_back().position == 0


def test_go_back_from_done(state: ReviewState) -> None:
    back = move_past_end(state).go_back()

    assert back.is_done is False
    assert back.current == ORIGINALS[2]


# --- Counts ------------------------------------------------------------------


def test_counts_from_file(state: ReviewState) -> None:
    assert state.counts() == {"Pending": 1, "Accepted": 1, "Rejected": 1}


def test_counts_key_order(state: ReviewState) -> None:
    assert list(state.counts()) == ["Pending", "Accepted", "Rejected"]


def test_counts_after_review(state: ReviewState) -> None:
    reviewed = state.reject().accept("Second").reset()

    assert reviewed.counts() == {"Pending": 1, "Accepted": 1, "Rejected": 1}
    assert reviewed.reviews[2].status == "Pending"


def test_counts_zero_kept(state: ReviewState) -> None:
    all_accepted = state.accept("A").accept("B").accept("C")

    assert all_accepted.counts() == {"Pending": 0, "Accepted": 3, "Rejected": 0}


# --- Storage -----------------------------------------------------------------


def test_to_storage_unchanged(state: ReviewState) -> None:
    assert state.to_storage() == {"schema": STORAGE_SCHEMA, "position": 0, "records": {}}


def test_to_storage_only_changed_records(state: ReviewState) -> None:
    # Accepting record 0 with its original output leaves it equal to the file.
    reviewed = state.accept("First answer").accept("Second answer")

    assert reviewed.to_storage() == {
        "schema": 1,
        "position": 2,
        "records": {"1": {"status": "Accepted", "output": "Second answer"}},
    }


def test_to_storage_is_json(state: ReviewState) -> None:
    stored = state.reject().accept("Ünïcödé 🦜").to_storage()

    assert json.loads(json.dumps(stored)) == stored


def test_restore_round_trip(state: ReviewState) -> None:
    reviewed = state.reject().accept("Edited 漢字").go_next()
    stored = json.loads(json.dumps(reviewed.to_storage()))

    restored = state.restore(stored)

    assert restored == reviewed


def test_restore_unchanged_round_trip(state: ReviewState) -> None:
    assert state.restore(state.to_storage()) == state


def test_restore_resets_unlisted_records(state: ReviewState) -> None:
    edited = state.reject().reject()
    stored = {"schema": 1, "position": 0, "records": {"1": {"status": "Accepted", "output": "X"}}}

    restored = edited.restore(stored)

    assert restored.reviews == (ORIGINALS[0], RecordReview("Accepted", "X"), ORIGINALS[2])


@pytest.mark.parametrize(("position", "expected"), [(-5, 0), (3, 3), (99, 3)])
def test_restore_clamps_position(state: ReviewState, position: int, expected: int) -> None:
    restored = state.restore({"schema": 1, "position": position, "records": {}})

    assert restored.position == expected


FOREIGN_STATES = [
    pytest.param([1, 2], ["found list", "expected an object"], id="not-object"),
    pytest.param(
        {"position": 0, "records": {}},
        ["schema null", "expected 1"],
        id="schema-missing",
    ),
    pytest.param(
        {"schema": 2, "position": 0, "records": {}},
        ["schema 2", "expected 1"],
        id="schema-newer",
    ),
    pytest.param(
        {"schema": "1", "position": 0, "records": {}},
        ['schema "1"', "expected 1"],
        id="schema-string",
    ),
    pytest.param(
        {"schema": True, "position": 0, "records": {}},
        ["schema true", "expected 1"],
        id="schema-bool",
    ),
    pytest.param(
        {"schema": 1, "records": {}},
        ["position null", "expected an integer"],
        id="position-missing",
    ),
    pytest.param(
        {"schema": 1, "position": "2", "records": {}},
        ['position "2"', "expected an integer"],
        id="position-string",
    ),
    pytest.param(
        {"schema": 1, "position": 1.5, "records": {}},
        ["position 1.5", "expected an integer"],
        id="position-float",
    ),
    pytest.param(
        {"schema": 1, "position": 0},
        ["records null", "record indices to reviews"],
        id="records-missing",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": [{"status": "Accepted", "output": ""}]},
        ["records [", "record indices to reviews"],
        id="records-list",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"3": {"status": "Accepted", "output": ""}}},
        ["record 3 is out of range", "from 0 to 2"],
        id="index-past-end",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"-1": {"status": "Accepted", "output": ""}}},
        ["record key '-1'", 'decimal string such as "0"'],
        id="index-negative",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"first": {"status": "Accepted", "output": ""}}},
        ["record key 'first'", "expected a record index"],
        id="index-name",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"0": "Accepted"}},
        ['record 0 is "Accepted"', 'expected an object with "status" and "output"'],
        id="review-string",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"0": {"status": "Done", "output": ""}}},
        ['record 0 has status "Done"', 'expected one of "Pending", "Accepted", "Rejected"'],
        id="status-unknown",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"0": {"output": ""}}},
        ["record 0 has status null"],
        id="status-missing",
    ),
    pytest.param(
        {"schema": 1, "position": 0, "records": {"0": {"status": "Accepted", "output": 5}}},
        ["record 0 has output 5", "expected a string"],
        id="output-number",
    ),
]


@pytest.mark.parametrize(("stored", "fragments"), FOREIGN_STATES)
def test_restore_rejects_foreign_state(
    state: ReviewState, stored: Any, fragments: list[str]
) -> None:
    with pytest.raises(StoredStateError) as caught:
        state.restore(stored)

    message = str(caught.value)
    assert message.startswith("Invalid stored review state")
    for fragment in fragments:
        assert fragment in message


def test_stored_state_error_is_value_error() -> None:
    assert issubclass(StoredStateError, ValueError)


# --- Export of a review ------------------------------------------------------


def test_review_state_export(dataset: Dataset) -> None:
    state = ReviewState.from_dataset(dataset).reject().go_next().accept("Final third")
    reviews = [(review.status, review.output) for review in state.reviews]

    exported = json.loads(export_dataset(dataset, reviews))

    assert [row["status"] for row in exported] == ["Rejected", "Pending", "Accepted"]
    assert exported[1]["child_run"]["output"]["content"] is None
    assert exported[2]["child_run"]["output"]["content"] == "Final third"
