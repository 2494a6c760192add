"""Review progress over a dataset: per-record status and edited output, and the current position.

Every method returns a new ReviewState, so the app can keep one in a reactive
value and replace it on each action. ``to_storage`` and ``restore`` convert the
state to and from a JSON-compatible dict that the app saves in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from review_data import STATUSES, Dataset, Status, output_text, shorten_value

# Version of the dict written by to_storage. Raise it when that format changes,
# so restore rejects state saved in the old format.
STORAGE_SCHEMA = 1

RECORD_KEY_PATTERN = re.compile(r"[0-9]+")


def is_integer(value: Any) -> bool:
    """Check for an int that is not a bool, since JSON true would otherwise pass as 1."""
    return isinstance(value, int) and not isinstance(value, bool)


class StoredStateError(ValueError):
    """Stored review state that cannot be read or was saved in another schema."""


@dataclass(frozen=True)
class RecordReview:
    """The review of one record: its status and its output text."""

    status: Status
    output: str


@dataclass(frozen=True)
class ReviewState:
    """Review progress over all records of one dataset."""

    # Status and output of each record as the file has them.
    originals: tuple[RecordReview, ...]
    reviews: tuple[RecordReview, ...]
    # Index of the current record. It equals the number of records once the
    # reviewer has moved past the last one.
    position: int

    def __post_init__(self) -> None:
        if len(self.reviews) != len(self.originals):
            raise ValueError(
                f"Invalid review state: {len(self.reviews)} reviews for "
                f"{len(self.originals)} original records; expected one review per record"
            )
        if not 0 <= self.position <= len(self.reviews):
            raise ValueError(
                f"Invalid review state: position {self.position} is outside "
                f"0..{len(self.reviews)}"
            )

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> ReviewState:
        """Start a review at the first record, with each status and output as the file has it."""
        originals = tuple(
            RecordReview(row.status, output_text(row.child_run.output)) for row in dataset.rows
        )
        return cls(originals=originals, reviews=originals, position=0)

    @property
    def total(self) -> int:
        """Number of records."""
        return len(self.reviews)

    @property
    def is_done(self) -> bool:
        """Whether the position is past the last record."""
        return self.position >= self.total

    @property
    def current(self) -> RecordReview | None:
        """Review of the record at the current position, or None when the review is done."""
        if self.is_done:
            return None
        return self.reviews[self.position]

    def accept(self, output: str) -> ReviewState:
        """Mark the current record Accepted with the given output and move to the next record."""
        self._require_current("accept")
        return self._replace_current(RecordReview("Accepted", output), self.position + 1)

    def reject(self) -> ReviewState:
        """Mark the current record Rejected, keeping its output, and move to the next record."""
        current = self._require_current("reject")
        return self._replace_current(RecordReview("Rejected", current.output), self.position + 1)

    def reset(self) -> ReviewState:
        """Set the current record back to Pending with the output from the file, staying on it."""
        self._require_current("reset")
        original = self.originals[self.position]
        return self._replace_current(RecordReview("Pending", original.output), self.position)

    def go_next(self) -> ReviewState:
        """Move to the next record, or stay when the review is done."""
        return replace(self, position=min(self.position + 1, self.total))

    def go_back(self) -> ReviewState:
        """Move to the previous record, or stay on the first one."""
        return replace(self, position=max(self.position - 1, 0))

    def counts(self) -> dict[Status, int]:
        """Count the records in each status, with every status as a key in STATUSES order."""
        counts: dict[Status, int] = {status: 0 for status in STATUSES}
        for review in self.reviews:
            counts[review.status] += 1
        return counts

    def to_storage(self) -> dict[str, Any]:
        """Convert the state to a JSON-compatible dict of the records changed from the file."""
        records = {
            str(index): {"status": review.status, "output": review.output}
            for index, (review, original) in enumerate(zip(self.reviews, self.originals))
            if review != original
        }
        return {"schema": STORAGE_SCHEMA, "position": self.position, "records": records}

    def restore(self, stored: Mapping[str, Any]) -> ReviewState:
        """Apply a dict written by to_storage to the records from the file.

        Records missing from ``stored`` get their status and output from the
        file. A position outside 0..total is clamped into it. Raises
        StoredStateError when ``stored`` has another schema or invalid contents.
        """
        if not isinstance(stored, Mapping):
            raise StoredStateError(
                f"Invalid stored review state: found {type(stored).__name__}; expected an object"
            )

        schema = stored.get("schema")
        if not is_integer(schema) or schema != STORAGE_SCHEMA:
            raise StoredStateError(
                f"Invalid stored review state: schema {shorten_value(schema)}; "
                f"expected {STORAGE_SCHEMA}"
            )

        position = stored.get("position")
        if not is_integer(position):
            raise StoredStateError(
                f"Invalid stored review state: position {shorten_value(position)}; "
                "expected an integer"
            )

        records = stored.get("records")
        if not isinstance(records, Mapping):
            raise StoredStateError(
                f"Invalid stored review state: records {shorten_value(records)}; "
                "expected an object that maps record indices to reviews"
            )

        reviews = list(self.originals)
        for key, value in records.items():
            index = self._parse_record_key(key)
            reviews[index] = self._parse_record_review(key, value)

        clamped_position = min(max(position, 0), self.total)
        return replace(self, reviews=tuple(reviews), position=clamped_position)

    # --- Helpers -------------------------------------------------------------

    def _require_current(self, action: str) -> RecordReview:
        """Return the current review, raising ValueError when the review is done."""
        current = self.current
        if current is None:
            raise ValueError(
                f"Cannot {action}: position {self.position} is past the last of "
                f"{self.total} records; go back to a record first"
            )
        return current

    def _replace_current(self, review: RecordReview, position: int) -> ReviewState:
        """Return a state with the current record's review replaced and the position set."""
        reviews = list(self.reviews)
        reviews[self.position] = review
        return replace(self, reviews=tuple(reviews), position=position)

    def _parse_record_key(self, key: Any) -> int:
        """Check a stored record key and return it as a record index."""
        if not isinstance(key, str) or not RECORD_KEY_PATTERN.fullmatch(key):
            raise StoredStateError(
                f"Invalid stored review state: record key {key!r}; expected a record index "
                'as a decimal string such as "0"'
            )

        index = int(key)
        if index >= self.total:
            raise StoredStateError(
                f"Invalid stored review state: record {index} is out of range; "
                f"expected an index from 0 to {self.total - 1}"
            )
        return index

    def _parse_record_review(self, key: str, value: Any) -> RecordReview:
        """Check a stored record review and return it as a RecordReview."""
        if not isinstance(value, Mapping):
            raise StoredStateError(
                f"Invalid stored review state: record {key} is {shorten_value(value)}; "
                'expected an object with "status" and "output"'
            )

        status = value.get("status")
        if status not in STATUSES:
            expected = ", ".join(f'"{name}"' for name in STATUSES)
            raise StoredStateError(
                f"Invalid stored review state: record {key} has status {shorten_value(status)}; "
                f"expected one of {expected}"
            )

        output = value.get("output")
        if not isinstance(output, str):
            raise StoredStateError(
                f"Invalid stored review state: record {key} has output {shorten_value(output)}; "
                "expected a string"
            )

        return RecordReview(status, output)
