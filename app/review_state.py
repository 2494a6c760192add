"""Review progress over a dataset: each record's review, the position, and an undo history.

A ReviewState is immutable: every action returns a new state, so the app keeps one in a reactive
value and replaces it. Only the records whose review differs from the file are kept in `changes`,
and the counts per status are updated as records change, so an action costs the same for 4 records
as for 100,000 (apart from copying the changed-records map).

`to_storage`/`restore` convert the state to and from the JSON shape that the page stores in
IndexedDB: one entry per changed record plus the position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from traces.model import Review, Status

STATUSES: tuple[Status, ...] = ("Pending", "Accepted", "Rejected")

# Version of the stored shape. restore() reads this version only; the page migrates older ones.
STORAGE_SCHEMA = 2

# How many decisions can be undone.
UNDO_LIMIT = 50


class StoredStateError(ValueError):
    """Stored review state that cannot be read or belongs to another schema."""


@dataclass(frozen=True)
class UndoStep:
    """The record's review and the position before a decision, kept so that it can be undone."""

    index: int
    review: Review
    position: int


def is_integer(value: Any) -> bool:
    """Check for an int that is not a bool, since JSON true would otherwise pass as 1."""
    return isinstance(value, int) and not isinstance(value, bool)


def count_statuses(reviews: Iterable[Review]) -> dict[Status, int]:
    """Count reviews per status, with every status present."""
    counts = dict.fromkeys(STATUSES, 0)
    for review in reviews:
        counts[review.status] += 1
    return counts


def normalize_newlines(text: str) -> str:
    """Return `text` with CR LF and lone CR turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def count_labels(reviews: Iterable[Review]) -> dict[str, int]:
    """Count reviews per label."""
    counts: dict[str, int] = {}
    for review in reviews:
        for label in review.labels:
            counts[label] = counts.get(label, 0) + 1
    return counts


@dataclass(frozen=True)
class ReviewState:
    """Review progress over all records of one dataset."""

    originals: tuple[Review, ...]
    original_outputs: tuple[str, ...]
    changes: Mapping[int, Review] = field(default_factory=dict)
    # Index of the current record; it equals the number of records past the last one.
    position: int = 0
    counts: Mapping[Status, int] = field(default_factory=dict)
    label_counts: Mapping[str, int] = field(default_factory=dict)
    undo_steps: tuple[UndoStep, ...] = ()

    @classmethod
    def start(cls, originals: Sequence[Review], original_outputs: Sequence[str]) -> ReviewState:
        """Start at the first record, with each review as the file has it."""
        if len(originals) != len(original_outputs):
            raise ValueError(
                f"{len(originals)} reviews for {len(original_outputs)} outputs; expected one each"
            )
        return cls(
            originals=tuple(originals),
            original_outputs=tuple(original_outputs),
            counts=count_statuses(originals),
            label_counts=count_labels(originals),
        )

    @property
    def total(self) -> int:
        return len(self.originals)

    @property
    def is_done(self) -> bool:
        """Whether the position is past the last record."""
        return self.position >= self.total

    def review_at(self, index: int) -> Review:
        """Return the current review of record `index`."""
        return self.changes.get(index, self.originals[index])

    def output_at(self, index: int) -> str:
        """Return the output text of record `index`: the saved edit, else the file's output."""
        edited = self.review_at(index).edited_output
        return self.original_outputs[index] if edited is None else edited

    @property
    def current(self) -> Review | None:
        return None if self.is_done else self.review_at(self.position)

    def is_edited(self, index: int) -> bool:
        """Check whether record `index` has an output that differs from the file's."""
        return self.output_at(index) != self.original_outputs[index]

    # Actions on the current record. Each moves as the review buttons do.

    def accept(self, output: str, *, next_position: int | None = None) -> ReviewState:
        """Accept the current record with `output`, then move to `next_position` (default: +1)."""
        current = self.require_current("accept")
        original = self.original_outputs[self.position]
        # A text area turns CR LF and lone CR into LF, so an untouched output can come back with
        # other line endings. Such a change is not an edit.
        edited = None if normalize_newlines(output) == normalize_newlines(original) else output
        review = current.model_copy(update={"status": "Accepted", "edited_output": edited})
        return self.update(self.position, review, next_position)

    def reject(self, *, next_position: int | None = None) -> ReviewState:
        """Reject the current record, then move to `next_position` (default: +1)."""
        review = self.require_current("reject").model_copy(update={"status": "Rejected"})
        return self.update(self.position, review, next_position)

    def reset(self) -> ReviewState:
        """Set the current record back to Pending with the file's output; notes and labels stay."""
        review = self.require_current("reset").model_copy(update={"status": "Pending", "edited_output": None})
        return self.update(self.position, review, self.position)

    def annotate(self, *, note: str | None = None, labels: Sequence[str] | None = None) -> ReviewState:
        """Set the current record's note or labels without moving."""
        update: dict[str, Any] = {}
        if note is not None:
            update["note"] = note
        if labels is not None:
            update["labels"] = list(dict.fromkeys(labels))
        review = self.require_current("annotate").model_copy(update=update)
        # Notes and labels are not decisions, so they are not added to the undo history.
        return self.apply_review(self.position, review)

    def move_to(self, position: int) -> ReviewState:
        """Move to `position`, clamped to 0..total, changing nothing else."""
        return replace(self, position=min(max(position, 0), self.total))

    def go_next(self) -> ReviewState:
        return self.move_to(self.position + 1)

    def go_back(self) -> ReviewState:
        return self.move_to(self.position - 1)

    def undo(self) -> tuple[ReviewState, int] | None:
        """Undo the last decision; return the new state and the changed record, or None."""
        if not self.undo_steps:
            return None
        step = self.undo_steps[-1]
        # Only the decision is undone: a note or labels written since then stay.
        restored = self.review_at(step.index).model_copy(
            update={"status": step.review.status, "edited_output": step.review.edited_output}
        )
        state = self.apply_review(step.index, restored)
        return replace(state, position=step.position, undo_steps=self.undo_steps[:-1]), step.index

    # Storage.

    def to_storage(self, indices: Iterable[int] | None = None) -> dict[str, Any]:
        """Return the stored shape for `indices` (default: every changed record) and the position."""
        chosen = self.changes.keys() if indices is None else indices
        return {
            "schema": STORAGE_SCHEMA,
            "position": self.position,
            "records": [self.record_to_storage(index) for index in sorted(chosen)],
        }

    def record_to_storage(self, index: int) -> dict[str, Any]:
        review = self.review_at(index)
        return {"index": index, **review.model_dump(mode="json")}

    def restore(self, stored: Mapping[str, Any], *, include_position: bool = True) -> ReviewState:
        """Apply stored records (and the position) on top of this state; raise StoredStateError."""
        if not isinstance(stored, Mapping):
            raise StoredStateError(f"expected an object, found {type(stored).__name__}")
        schema = stored.get("schema")
        if not is_integer(schema) or schema != STORAGE_SCHEMA:
            raise StoredStateError(f"schema {schema!r} is not supported; expected {STORAGE_SCHEMA}")

        records = stored.get("records", [])
        # Shiny hands JSON arrays from the page to the server as tuples.
        if not isinstance(records, (list, tuple)):
            raise StoredStateError(f"records must be a list, found {type(records).__name__}")

        state = self
        for entry in records:
            index, review = self.parse_stored_record(entry)
            state = state.apply_review(index, review)

        if include_position:
            position = stored.get("position", 0)
            if not is_integer(position):
                raise StoredStateError(f"position must be an integer, found {position!r}")
            state = state.move_to(position)
        return replace(state, undo_steps=())

    def merge_remote(self, stored: Mapping[str, Any]) -> ReviewState:
        """Apply records that another tab stored; keep the position and the other records' undo steps.

        An undo step for a record in `stored` is dropped, because undoing it would overwrite
        the other tab's newer decision.
        """
        state = self.restore(stored, include_position=False)
        changed = {entry["index"] for entry in stored.get("records", [])}
        steps = tuple(step for step in self.undo_steps if step.index not in changed)
        return replace(state, undo_steps=steps)

    def parse_stored_record(self, entry: Any) -> tuple[int, Review]:
        if not isinstance(entry, Mapping):
            raise StoredStateError(f"a stored record must be an object, found {entry!r:.60}")
        index = entry.get("index")
        if not is_integer(index) or not 0 <= index < self.total:
            raise StoredStateError(f"record index {index!r} is outside 0..{self.total - 1}")
        fields = {key: value for key, value in entry.items() if key != "index"}
        try:
            review = Review.model_validate(fields)
        except ValueError as error:
            raise StoredStateError(f"record {index} is invalid: {error}") from error

        # Older stores kept the full output of every changed record; an output equal to the
        # file's is no edit.
        if review.edited_output == self.original_outputs[index]:
            review = review.model_copy(update={"edited_output": None})
        return index, review

    # Helpers.

    def require_current(self, action: str) -> Review:
        if self.is_done:
            raise ValueError(
                f"Cannot {action}: position {self.position} is past the last of {self.total} "
                "records; go back to a record first"
            )
        return self.review_at(self.position)

    def apply_review(self, index: int, review: Review) -> ReviewState:
        """Return a state where record `index` has `review`, with the counts kept in step."""
        old = self.review_at(index)
        counts = dict(self.counts)
        counts[old.status] -= 1
        counts[review.status] += 1

        label_counts = dict(self.label_counts)
        for label in old.labels:
            label_counts[label] -= 1
            if label_counts[label] == 0:
                del label_counts[label]
        for label in review.labels:
            label_counts[label] = label_counts.get(label, 0) + 1

        changes = dict(self.changes)
        if review == self.originals[index]:
            changes.pop(index, None)
        else:
            changes[index] = review
        return replace(self, changes=changes, counts=counts, label_counts=label_counts)

    def update(self, index: int, review: Review, next_position: int | None) -> ReviewState:
        step = UndoStep(index=index, review=self.review_at(index), position=self.position)
        state = self.apply_review(index, review)
        position = self.position + 1 if next_position is None else next_position
        undo_steps = (*self.undo_steps, step)[-UNDO_LIMIT:]
        return replace(state.move_to(position), undo_steps=undo_steps)
