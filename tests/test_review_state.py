import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from review_state import (
    STORAGE_SCHEMA,
    UNDO_LIMIT,
    ReviewState,
    StoredStateError,
    count_labels,
    count_statuses,
)
from traces.model import Review

OUTPUTS = ("First answer", "Second answer", "Third answer", "Fourth answer")


def make_originals() -> list[Review]:
    """Return four file reviews (Pending, Accepted, Rejected, Pending), labels on the first two and a note on the third."""
    return [
        Review(status="Pending", labels=["tone"]),
        Review(status="Accepted", labels=["tone", "facts"]),
        Review(status="Rejected", note="off topic"),
        Review(status="Pending"),
    ]


@pytest.fixture
def state() -> ReviewState:
    return ReviewState.start(make_originals(), OUTPUTS)


def start_blank(total: int) -> ReviewState:
    """Return a state over `total` Pending records whose outputs are "output <i>"."""
    return ReviewState.start([Review() for _ in range(total)], [f"output {i}" for i in range(total)])


def recount_changes(state: ReviewState) -> dict[int, Review]:
    """Return the records whose review differs from the file, found by comparing every record."""
    return {
        index: state.review_at(index)
        for index in range(state.total)
        if state.review_at(index) != state.originals[index]
    }


# start()


def test_start_counts_statuses_from_originals(state: ReviewState) -> None:
    assert state.counts == {"Pending": 2, "Accepted": 1, "Rejected": 1}


def test_start_counts_labels_from_originals(state: ReviewState) -> None:
    assert state.label_counts == {"tone": 2, "facts": 1}


def test_start_position_is_first_record(state: ReviewState) -> None:
    assert state.position == 0


def test_start_has_no_changes(state: ReviewState) -> None:
    assert state.changes == {}


def test_start_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="4 reviews for 3 outputs"):
        ReviewState.start(make_originals(), OUTPUTS[:3])


# accept() and reject()


def test_accept_with_edit_stores_edited_output(state: ReviewState) -> None:
    accepted = state.accept("Corrected answer")

    assert accepted.review_at(0).edited_output == "Corrected answer"


def test_accept_with_edit_sets_accepted(state: ReviewState) -> None:
    accepted = state.accept("Corrected answer")

    assert accepted.review_at(0).status == "Accepted"


def test_accept_unchanged_text_stores_no_edit(state: ReviewState) -> None:
    accepted = state.accept(OUTPUTS[0])

    assert accepted.review_at(0).edited_output is None


def test_accept_unchanged_text_clears_earlier_edit(state: ReviewState) -> None:
    edited = state.accept("Corrected answer").go_back()

    accepted = edited.accept(OUTPUTS[0])

    assert accepted.review_at(0).edited_output is None


def test_accept_keeps_labels_and_note(state: ReviewState) -> None:
    annotated = state.annotate(note="check the date", labels=["dates"])

    accepted = annotated.accept(OUTPUTS[0])

    assert accepted.review_at(0).model_dump() == {
        "status": "Accepted",
        "edited_output": None,
        "labels": ["dates"],
        "note": "check the date",
    }


def test_reject_sets_rejected(state: ReviewState) -> None:
    rejected = state.reject()

    assert rejected.review_at(0).status == "Rejected"


@pytest.mark.parametrize(
    ("act", "expected_position"),
    [
        (lambda state: state.accept("edit"), 1),
        (lambda state: state.accept("edit", next_position=3), 3),
        (lambda state: state.accept("edit", next_position=0), 0),
        (lambda state: state.reject(), 1),
        (lambda state: state.reject(next_position=2), 2),
        (lambda state: state.reject(next_position=4), 4),
        (lambda state: state.reject(next_position=99), 4),
    ],
    ids=["accept", "accept-forward", "accept-stay", "reject", "reject-forward", "reject-to-end", "reject-clamped"],
)
def test_accept_reject_move_to_next_position(
    state: ReviewState, act: Callable[[ReviewState], ReviewState], expected_position: int
) -> None:
    assert act(state).position == expected_position


def test_reject_at_last_record_reaches_done(state: ReviewState) -> None:
    rejected = state.move_to(3).reject()

    assert rejected.is_done


def test_reject_leaves_original_state_unchanged(state: ReviewState) -> None:
    state.reject()

    assert state.review_at(0) == make_originals()[0]


# reset()


def test_reset_sets_pending(state: ReviewState) -> None:
    decided = state.move_to(1).accept("Corrected answer", next_position=1)

    reset = decided.reset()

    assert reset.review_at(1).status == "Pending"


def test_reset_clears_edit(state: ReviewState) -> None:
    decided = state.move_to(1).accept("Corrected answer", next_position=1)

    reset = decided.reset()

    assert reset.review_at(1).edited_output is None


def test_reset_keeps_labels(state: ReviewState) -> None:
    decided = state.move_to(1).accept("Corrected answer", next_position=1)

    reset = decided.reset()

    assert reset.review_at(1).labels == ["tone", "facts"]


def test_reset_keeps_note(state: ReviewState) -> None:
    decided = state.move_to(2).annotate(note="recheck").reject(next_position=2)

    reset = decided.reset()

    assert reset.review_at(2).note == "recheck"


def test_reset_stays_on_record(state: ReviewState) -> None:
    reset = state.move_to(2).reset()

    assert reset.position == 2


# annotate()


def test_annotate_sets_note(state: ReviewState) -> None:
    annotated = state.annotate(note="needs a source")

    assert annotated.review_at(0).note == "needs a source"


def test_annotate_sets_labels(state: ReviewState) -> None:
    annotated = state.annotate(labels=["facts", "length"])

    assert annotated.review_at(0).labels == ["facts", "length"]


def test_annotate_note_only_keeps_labels(state: ReviewState) -> None:
    annotated = state.annotate(note="needs a source")

    assert annotated.review_at(0).labels == ["tone"]


def test_annotate_labels_only_keeps_note(state: ReviewState) -> None:
    annotated = state.move_to(2).annotate(labels=["length"])

    assert annotated.review_at(2).note == "off topic"


def test_annotate_keeps_status(state: ReviewState) -> None:
    annotated = state.move_to(1).annotate(note="fine")

    assert annotated.review_at(1).status == "Accepted"


def test_annotate_deduplicates_labels_in_order(state: ReviewState) -> None:
    annotated = state.annotate(labels=["length", "tone", "length", "facts", "tone"])

    assert annotated.review_at(0).labels == ["length", "tone", "facts"]


def test_annotate_counts_deduplicated_labels_once(state: ReviewState) -> None:
    annotated = state.annotate(labels=["length", "length"])

    assert annotated.label_counts == {"length": 1, "tone": 1, "facts": 1}


def test_annotate_does_not_move(state: ReviewState) -> None:
    annotated = state.move_to(2).annotate(note="x", labels=["y"])

    assert annotated.position == 2


def test_annotate_adds_no_undo_step(state: ReviewState) -> None:
    annotated = state.reject(next_position=0).annotate(note="x")

    assert len(annotated.undo_steps) == 1


# move_to(), go_next() and go_back()


@pytest.mark.parametrize(
    ("target", "expected"),
    [(-5, 0), (-1, 0), (0, 0), (2, 2), (4, 4), (5, 4), (1000, 4)],
)
def test_move_to_clamps(state: ReviewState, target: int, expected: int) -> None:
    assert state.move_to(target).position == expected


def test_move_to_changes_no_review(state: ReviewState) -> None:
    assert state.move_to(3).changes == {}


def test_go_next_moves_forward(state: ReviewState) -> None:
    assert state.go_next().position == 1


def test_go_next_stops_past_last(state: ReviewState) -> None:
    assert state.move_to(4).go_next().position == 4


def test_go_back_moves_backward(state: ReviewState) -> None:
    assert state.move_to(3).go_back().position == 2


def test_go_back_stops_at_first(state: ReviewState) -> None:
    assert state.go_back().position == 0


def test_go_next_past_last_is_done(state: ReviewState) -> None:
    assert state.move_to(3).go_next().is_done


def test_current_past_last_is_none(state: ReviewState) -> None:
    assert state.move_to(4).current is None


# Actions past the last record


@pytest.mark.parametrize(
    ("action", "act"),
    [
        pytest.param("accept", lambda state: state.accept("edit"), id="accept"),
        pytest.param("reject", lambda state: state.reject(), id="reject"),
        pytest.param("reset", lambda state: state.reset(), id="reset"),
        pytest.param("annotate", lambda state: state.annotate(note="x"), id="annotate"),
    ],
)
def test_action_past_end_raises(state: ReviewState, action: str, act: Callable[[ReviewState], Any]) -> None:
    with pytest.raises(ValueError, match=f"Cannot {action}: position 4 is past the last of 4 records"):
        act(state.move_to(4))


# Incremental counts


def test_counts_after_accept(state: ReviewState) -> None:
    assert state.accept("edit").counts == {"Pending": 1, "Accepted": 2, "Rejected": 1}


def test_label_counts_drop_zero_entries(state: ReviewState) -> None:
    relabeled = state.move_to(1).annotate(labels=["tone"])

    assert relabeled.label_counts == {"tone": 2}


def test_counts_match_recount_after_random_actions() -> None:
    rng = random.Random(20240611)
    state = ReviewState.start(
        [
            Review(status=rng.choice(["Pending", "Accepted", "Rejected"]), labels=rng.sample(["a", "b", "c"], rng.randint(0, 2)))
            for _ in range(12)
        ],
        [f"output {i}" for i in range(12)],
    )
    actions = ["accept_edit", "accept_same", "reject", "reset", "annotate", "move", "next", "back", "undo"]

    for step in range(500):
        action = rng.choice(actions)

        # Decisions need a current record, so the sequence moves back first when past the end.
        if state.is_done and action in {"accept_edit", "accept_same", "reject", "reset", "annotate"}:
            state = state.move_to(rng.randrange(state.total))

        next_position = rng.choice([None, rng.randrange(state.total + 1)])
        if action == "accept_edit":
            state = state.accept(f"edit {step}", next_position=next_position)
        elif action == "accept_same":
            state = state.accept(state.original_outputs[state.position], next_position=next_position)
        elif action == "reject":
            state = state.reject(next_position=next_position)
        elif action == "reset":
            state = state.reset()
        elif action == "annotate":
            labels = [rng.choice(["a", "b", "c", "d"]) for _ in range(rng.randint(0, 3))]
            state = state.annotate(note=rng.choice([None, "", f"note {step}"]), labels=rng.choice([None, labels]))
        elif action == "move":
            state = state.move_to(rng.randint(-2, state.total + 2))
        elif action == "next":
            state = state.go_next()
        elif action == "back":
            state = state.go_back()
        else:
            undone = state.undo()
            state = state if undone is None else undone[0]

        reviews = [state.review_at(index) for index in range(state.total)]
        assert state.counts == count_statuses(reviews), f"status counts differ after step {step} ({action})"
        assert state.label_counts == count_labels(reviews), f"label counts differ after step {step} ({action})"
        assert dict(state.changes) == recount_changes(state), f"changes differ after step {step} ({action})"


# undo()


def test_undo_with_nothing_returns_none(state: ReviewState) -> None:
    assert state.undo() is None


def test_undo_after_move_only_returns_none(state: ReviewState) -> None:
    assert state.move_to(3).undo() is None


def test_undo_returns_changed_index(state: ReviewState) -> None:
    decided = state.move_to(2).accept("edit")

    _, index = decided.undo()

    assert index == 2


def test_undo_restores_review(state: ReviewState) -> None:
    decided = state.move_to(1).accept("edit")

    undone, _ = decided.undo()

    assert undone.review_at(1) == make_originals()[1]


def test_undo_restores_position(state: ReviewState) -> None:
    decided = state.move_to(1).reject(next_position=3)

    undone, _ = decided.undo()

    assert undone.position == 1


def test_undo_restores_counts(state: ReviewState) -> None:
    decided = state.reject().reject()

    undone, _ = decided.undo()

    assert undone.counts == {"Pending": 1, "Accepted": 1, "Rejected": 2}


def test_undo_reset_restores_decision(state: ReviewState) -> None:
    decided = state.accept("edit", next_position=0).reset()

    undone, _ = decided.undo()

    assert undone.review_at(0).edited_output == "edit"


def test_merge_remote_keeps_other_undo_steps(state: ReviewState) -> None:
    decided = state.accept("first").reject()
    stored = {"schema": 2, "records": [{"index": 1, "status": "Accepted", "note": "other tab"}]}

    merged = decided.merge_remote(stored)
    undone, index = merged.undo()

    assert merged.position == 2
    assert merged.review_at(1).note == "other tab"
    assert index == 0
    assert undone.review_at(0) == make_originals()[0]
    assert undone.undo() is None


def test_merge_remote_keeps_position(state: ReviewState) -> None:
    stored = {"schema": 2, "position": 3, "records": [{"index": 0, "status": "Rejected"}]}

    merged = state.move_to(2).merge_remote(stored)

    assert merged.position == 2
    assert merged.review_at(0).status == "Rejected"


def test_undo_walks_back_twelve_decisions() -> None:
    rng = random.Random(7)
    state = start_blank(8)

    # Keep every state before a decision, to compare each undo against it.
    history = []
    for step in range(12):
        history.append(state)
        if state.is_done:
            state = state.move_to(rng.randrange(state.total))
            history[-1] = state
        if rng.random() < 0.5:
            state = state.accept(f"edit {step}", next_position=rng.randrange(state.total + 1))
        else:
            state = state.reject(next_position=rng.randrange(state.total + 1))

    for before in reversed(history):
        state, index = state.undo()
        assert state.review_at(index) == before.review_at(index), f"review of record {index} differs"
        assert state.position == before.position, f"position differs after undoing record {index}"
        assert dict(state.changes) == dict(before.changes), f"changes differ after undoing record {index}"

    assert state.undo() is None


def test_undo_limit_caps_history() -> None:
    state = start_blank(UNDO_LIMIT + 10)
    for _ in range(UNDO_LIMIT + 5):
        state = state.reject()

    assert len(state.undo_steps) == UNDO_LIMIT


def test_undo_limit_keeps_oldest_decisions() -> None:
    state = start_blank(UNDO_LIMIT + 10)
    for _ in range(UNDO_LIMIT + 5):
        state = state.reject()

    for _ in range(UNDO_LIMIT):
        state, _ = state.undo()

    assert state.counts["Rejected"] == 5


def test_undo_limit_then_nothing_left() -> None:
    state = start_blank(UNDO_LIMIT + 10)
    for _ in range(UNDO_LIMIT + 5):
        state = state.reject()

    for _ in range(UNDO_LIMIT):
        state, _ = state.undo()

    assert state.undo() is None


# changes


def test_changes_contains_decided_record(state: ReviewState) -> None:
    decided = state.reject()

    assert set(decided.changes) == {0}


def test_changes_omits_decision_equal_to_original(state: ReviewState) -> None:
    same = state.move_to(1).accept(OUTPUTS[1])

    assert same.changes == {}


def test_changes_drops_record_reset_to_original(state: ReviewState) -> None:
    decided = state.accept("edit", next_position=0)

    reset = decided.reset()

    assert reset.changes == {}


def test_changes_drops_record_after_undo(state: ReviewState) -> None:
    decided = state.reject()

    undone, _ = decided.undo()

    assert undone.changes == {}


# output_at() and is_edited()


def test_output_at_returns_edit(state: ReviewState) -> None:
    assert state.accept("Corrected answer").output_at(0) == "Corrected answer"


def test_output_at_returns_file_output_without_edit(state: ReviewState) -> None:
    assert state.accept("Corrected answer").output_at(1) == OUTPUTS[1]


def test_is_edited_true_after_edit(state: ReviewState) -> None:
    assert state.accept("Corrected answer").is_edited(0)


def test_is_edited_false_for_unchanged_accept(state: ReviewState) -> None:
    assert not state.accept(OUTPUTS[0]).is_edited(0)


def test_is_edited_false_for_other_record(state: ReviewState) -> None:
    assert not state.accept("Corrected answer").is_edited(1)


# to_storage()


def test_to_storage_default_contains_changes(state: ReviewState) -> None:
    decided = state.move_to(2).accept("edit", next_position=1)

    assert decided.to_storage() == {
        "schema": STORAGE_SCHEMA,
        "position": 1,
        "records": [
            {"index": 2, "status": "Accepted", "edited_output": "edit", "labels": [], "note": "off topic"},
        ],
    }


def test_to_storage_indices_sorted(state: ReviewState) -> None:
    stored = state.reject().to_storage([3, 0])

    assert [record["index"] for record in stored["records"]] == [0, 3]


def test_to_storage_indices_include_unchanged_record(state: ReviewState) -> None:
    stored = state.to_storage([1])

    assert stored["records"] == [
        {"index": 1, "status": "Accepted", "edited_output": None, "labels": ["tone", "facts"], "note": ""},
    ]


def test_to_storage_empty_indices(state: ReviewState) -> None:
    assert state.reject().to_storage([])["records"] == []


# restore()


def make_reviewed(state: ReviewState) -> ReviewState:
    """Return `state` after an edit, a rejection with a note and labels, and a reset, ending at record 2."""
    reviewed = state.accept("Corrected answer")
    reviewed = reviewed.annotate(note="wrong year", labels=["facts", "dates"]).reject()
    reviewed = reviewed.move_to(2).reset()
    return reviewed


def test_restore_round_trip_changes(state: ReviewState) -> None:
    reviewed = make_reviewed(state)

    restored = state.restore(reviewed.to_storage())

    assert dict(restored.changes) == dict(reviewed.changes)


def test_restore_round_trip_labels_and_note(state: ReviewState) -> None:
    reviewed = make_reviewed(state)

    restored = state.restore(reviewed.to_storage())

    assert restored.review_at(1) == Review(status="Rejected", labels=["facts", "dates"], note="wrong year")


def test_restore_round_trip_position(state: ReviewState) -> None:
    reviewed = make_reviewed(state)

    restored = state.restore(reviewed.to_storage())

    assert restored.position == 2


def test_restore_round_trip_counts(state: ReviewState) -> None:
    reviewed = make_reviewed(state)

    restored = state.restore(reviewed.to_storage())

    assert restored.counts == reviewed.counts


def test_restore_round_trip_label_counts(state: ReviewState) -> None:
    reviewed = make_reviewed(state)

    restored = state.restore(reviewed.to_storage())

    assert restored.label_counts == reviewed.label_counts


def test_restore_clears_undo_history(state: ReviewState) -> None:
    reviewed = make_reviewed(state)

    restored = reviewed.restore(reviewed.to_storage())

    assert restored.undo() is None


def test_restore_without_position_keeps_position(state: ReviewState) -> None:
    stored = {"schema": STORAGE_SCHEMA, "position": 0, "records": []}

    restored = state.move_to(3).restore(stored, include_position=False)

    assert restored.position == 3


def test_restore_without_position_ignores_invalid_position(state: ReviewState) -> None:
    stored = {"schema": STORAGE_SCHEMA, "position": "start", "records": []}

    restored = state.move_to(3).restore(stored, include_position=False)

    assert restored.position == 3


def test_restore_clamps_position(state: ReviewState) -> None:
    restored = state.restore({"schema": STORAGE_SCHEMA, "position": 99})

    assert restored.position == 4


def test_restore_missing_records_changes_nothing(state: ReviewState) -> None:
    restored = state.restore({"schema": STORAGE_SCHEMA, "position": 1})

    assert restored.changes == {}


def test_restore_drops_edit_equal_to_file_output(state: ReviewState) -> None:
    stored = {
        "schema": STORAGE_SCHEMA,
        "records": [{"index": 3, "status": "Accepted", "edited_output": OUTPUTS[3]}],
    }

    restored = state.restore(stored)

    assert restored.review_at(3).edited_output is None


def test_restore_record_equal_to_original_is_no_change(state: ReviewState) -> None:
    stored = {
        "schema": STORAGE_SCHEMA,
        "records": [{"index": 3, "status": "Pending", "edited_output": OUTPUTS[3]}],
    }

    restored = state.restore(stored)

    assert restored.changes == {}


def valid_record(**fields: Any) -> dict[str, Any]:
    """Return a stored record of index 0 with `fields` replaced."""
    return {"index": 0, "status": "Accepted", "edited_output": None, "labels": [], "note": "", **fields}


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ([], "expected an object, found list"),
        ("schema 2", "expected an object, found str"),
        ({"schema": 1, "records": []}, "schema 1 is not supported; expected 2"),
        ({"schema": "2", "records": []}, "schema '2' is not supported; expected 2"),
        ({"schema": True, "records": []}, "schema True is not supported"),
        ({"records": []}, "schema None is not supported"),
        ({"schema": 2, "records": {"0": valid_record()}}, "records must be a list, found dict"),
        ({"schema": 2, "records": [5]}, "a stored record must be an object, found 5"),
        ({"schema": 2, "records": [["index", 0]]}, "a stored record must be an object"),
        ({"schema": 2, "records": [valid_record(index=4)]}, "record index 4 is outside 0..3"),
        ({"schema": 2, "records": [valid_record(index=-1)]}, "record index -1 is outside 0..3"),
        ({"schema": 2, "records": [valid_record(index=True)]}, "record index True is outside 0..3"),
        ({"schema": 2, "records": [valid_record(index="1")]}, "record index '1' is outside 0..3"),
        ({"schema": 2, "records": [{"status": "Accepted"}]}, "record index None is outside 0..3"),
        ({"schema": 2, "records": [valid_record(status="Done")]}, "record 0 is invalid"),
        ({"schema": 2, "records": [valid_record(labels="facts")]}, "record 0 is invalid"),
        ({"schema": 2, "records": [valid_record(note=None)]}, "record 0 is invalid"),
        ({"schema": 2, "position": "1", "records": []}, "position must be an integer, found '1'"),
        ({"schema": 2, "position": 1.0, "records": []}, "position must be an integer, found 1.0"),
        ({"schema": 2, "position": False, "records": []}, "position must be an integer, found False"),
        ({"schema": 2, "position": None, "records": []}, "position must be an integer, found None"),
    ],
    ids=[
        "list",
        "string",
        "schema-1",
        "schema-string",
        "schema-bool",
        "schema-missing",
        "records-dict",
        "record-int",
        "record-list",
        "index-too-high",
        "index-negative",
        "index-bool",
        "index-string",
        "index-missing",
        "unknown-status",
        "labels-string",
        "note-null",
        "position-string",
        "position-float",
        "position-bool",
        "position-null",
    ],
)
def test_restore_rejects_invalid(state: ReviewState, stored: Any, message: str) -> None:
    with pytest.raises(StoredStateError, match=re.escape(message)):
        state.restore(stored)


def test_stored_state_error_is_value_error() -> None:
    assert issubclass(StoredStateError, ValueError)
