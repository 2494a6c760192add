"""The interface every trace format implements, and a base for formats with one record per item.

A format has three jobs. ``check`` looks at a document cheaply and reports how
many of its items look like this format, or what it found missing. ``read``
turns the document into records and problems. ``write`` turns reviews into
changes to the document's items, so that export can rebuild the file in its
own layout.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from traces.documents import Change, Document, Item, TableRowError
from traces.edits import edit_of, store_text_in_content
from traces.model import Message, Record, Review, Status
from traces.parts import split_output, type_name
from traces.problems import Problem, RecordError, describe_found

# Detection looks at no more than this many items of a file.
SAMPLE_SIZE = 20

UNSTORED_HINT = "use the normalized or fine-tuning export to keep it"


def explain_unstored(cause: str) -> str:
    """Say why an edited output was left out of the original-format export."""
    return f"the edited output was not written because {cause}; {UNSTORED_HINT}"


@dataclass(frozen=True)
class Match:
    """A document's fit to a format: the number of sampled items that look right."""

    score: int
    # Description of the fields the format looked for and did not find, shown
    # when no format matches.
    missing: str


@dataclass
class ReadResult:
    """Records read from a document, the problems found, and what the writer needs."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # One entry per record, opaque to everything but the format's own write().
    sources: list[Any] = field(default_factory=list)
    # Items that are not records by design, counted by kind ("chain run": 3).
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class WriteResult:
    """Changes that store reviews in the document, and edits that had no place to go."""

    changes: list[Change] = field(default_factory=list)
    unstored: list[Problem] = field(default_factory=list)


class SkipItem(Exception):
    """An item that is valid but not a record by design, such as a chain run."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class TraceFormat:
    """A trace file format: detection, reading and writing reviews back."""

    name: str = ""
    # What one record looks like, for problem messages: 'an object with "messages"'.
    expected: str = "a JSON object"

    def check(self, document: Document) -> Match:
        raise NotImplementedError

    def read(self, document: Document) -> ReadResult:
        raise NotImplementedError

    def write(
        self,
        document: Document,
        sources: Sequence[Any],
        records: Sequence[Record],
        reviews: Sequence[Review],
    ) -> WriteResult:
        raise NotImplementedError


class IdAllocator:
    """Hands out record ids that are unique within a file."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def claim(self, candidate: str) -> str:
        """Return ``candidate``, or ``candidate#2``, ``#3`` ... when it was taken already."""
        unique = candidate
        count = 1
        while unique in self.used:
            count += 1
            unique = f"{candidate}#{count}"
        self.used.add(unique)
        return unique


def make_json_safe(value: Any) -> Any:
    """Return a value that json.dumps writes as strict JSON: NaN and infinities become strings."""
    try:
        # The C encoder checks the common case, a value without them, much faster.
        json.dumps(value, allow_nan=False)
    except ValueError:
        return replace_non_finite(value)
    return value


def replace_non_finite(value: Any) -> Any:
    """Return a copy of a JSON value with NaN and infinities written as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(key): replace_non_finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_non_finite(item) for item in value]
    return value


def tool_list(value: Any) -> list[dict[str, Any]]:
    """Return tool definitions from a list, or from a JSON string that contains a list; [] otherwise."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [make_json_safe(tool) for tool in value if isinstance(tool, dict)]


def pick_id(value: Any, index: int) -> str:
    """Return the source's own id when it is a non-empty string or a number, else "record-<index>"."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"record-{index}"


def build_record(
    record_id: str,
    conversation: Sequence[Message],
    metadata: dict[str, Any],
    tools: list[dict[str, Any]] | None = None,
    status: Status = "Pending",
) -> Record:
    """Build a record, taking the conversation's final assistant turn as the output."""
    messages, output = split_output(conversation)
    return Record(
        id=record_id,
        messages=messages,
        output=output,
        metadata=make_json_safe(
            {key: value for key, value in metadata.items() if value is not None}
        ),
        tools=tools or [],
        review=Review(status=status),
    )


def problem_for_item(item: Item, expected: str) -> Problem | None:
    """Return the problem of an item that is not an object (or a broken table row), else None."""
    if isinstance(item.value, TableRowError):
        return Problem(item.location, item.value.column, item.value.message)
    if not isinstance(item.value, dict):
        return Problem(item.location, None, f"{describe_found(item.value)}; expected {expected}")
    return None


def count_skipped(skipped: dict[str, int], kind: str) -> None:
    skipped[kind] = skipped.get(kind, 0) + 1


class ItemFormat(TraceFormat):
    """A format where each item of the document (line, list element, row) is one record."""

    # What check() reports when no item matches.
    missing: str = ""
    # Whether the format has review fields (status, note, labels) that write() updates.
    stores_review: bool = False

    def items(self, document: Document) -> list[Item]:
        return document.items()

    def matches(self, value: dict[str, Any]) -> bool:
        raise NotImplementedError

    def convert(self, value: dict[str, Any], index: int) -> Record:
        """Convert one item; raise RecordError for a bad one or SkipItem for one that is no record."""
        raise NotImplementedError

    def output_message(self, value: dict[str, Any]) -> dict[str, Any] | None:
        """Return the raw output message inside an item, which write() edits in place."""
        return None

    def store_review(self, value: dict[str, Any], review: Review) -> None:
        """Write the review fields into an item; only formats with stores_review implement it."""

    def check(self, document: Document) -> Match:
        sample = [item.value for item in self.items(document) if isinstance(item.value, dict)]
        score = sum(1 for value in sample[:SAMPLE_SIZE] if self.matches(value))
        return Match(score, self.missing)

    def read(self, document: Document) -> ReadResult:
        result = ReadResult(problems=list(document.line_problems))
        ids = IdAllocator()

        for item in self.items(document):
            problem = problem_for_item(item, self.expected)
            if problem is not None:
                result.problems.append(problem)
                continue
            try:
                record = self.convert(item.value, item.index)
            except RecordError as error:
                result.problems.append(Problem(item.location, error.field, error.message))
                continue
            except SkipItem as skip:
                count_skipped(result.skipped, skip.kind)
                continue

            record.id = ids.claim(record.id)
            result.records.append(record)
            result.sources.append(item)

        return result

    def write(
        self,
        document: Document,
        sources: Sequence[Any],
        records: Sequence[Record],
        reviews: Sequence[Review],
    ) -> WriteResult:
        result = WriteResult()

        for item, record, review in zip(sources, records, reviews):
            edit = edit_of(record, review)
            review_changed = self.stores_review and pick_stored_fields(review) != pick_stored_fields(
                record.review
            )
            if edit is None and not review_changed:
                continue

            value = copy.deepcopy(item.value)
            if review_changed:
                self.store_review(value, review)
            if edit is not None:
                reason = self.store_edit(value, record, edit)
                if reason is not None:
                    result.unstored.append(Problem(item.location, None, reason))

            if value != item.value:
                result.changes.append(Change(item, (), value))

        return result

    def store_edit(self, value: dict[str, Any], record: Record, edit: str) -> str | None:
        """Write an edited output into a copied item; return why it could not be stored, or None."""
        message = self.output_message(value) if record.output is not None else None
        if message is None:
            return explain_unstored("the record has no output message")
        if not store_text_in_content(message, edit):
            found = type_name(message.get("content"))
            return explain_unstored(f"the output content is {found}")
        return None


def pick_stored_fields(review: Review) -> tuple[str, str, list[str]]:
    """Return the review fields that a file can store: status, note and labels."""
    return review.status, review.note, review.labels


def last_message(messages: Any) -> dict[str, Any] | None:
    """Return the last message of a raw list when it is an object, else None."""
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return messages[-1]
    return None
