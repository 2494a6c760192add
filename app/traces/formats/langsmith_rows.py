"""LangSmith run rows, the table the original review demo used.

Each row is one LLM call with ``child_run = {inputs, output, funcs, run_id}``
and a review ``status``. Other fields are run metadata. This is the only format
with a status field, so it is the only one whose export writes the review:
``status`` always, and ``note`` and ``labels`` next to it once a record has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from traces.documents import Change, Document, is_columns_table
from traces.formats.base import ItemFormat, WriteResult, make_json_safe, pick_id, tool_list
from traces.model import STATUSES, Record, Review
from traces.parts import convert_chat_message, convert_chat_messages
from traces.problems import RecordError, describe_found

EXPECTED_CHILD_RUN = 'an object with "inputs" (a list of messages) and "output" (a message)'
EXPECTED_STATUS = "one of " + ", ".join(f'"{status}"' for status in STATUSES)
# Row fields that contain the review rather than run metadata.
REVIEW_FIELDS = ("status", "note", "labels")


class LangSmithRowsFormat(ItemFormat):
    """Rows of the review demo: ``{child_run: {inputs, output, funcs, run_id}, status, ...}``."""

    name = "langsmith-rows"
    expected = 'an object with "child_run" and "status"'
    missing = 'no object with a "child_run" field'
    stores_review = True

    def matches(self, value: dict[str, Any]) -> bool:
        return "child_run" in value

    def convert(self, value: dict[str, Any], index: int) -> Record:
        child_run = value.get("child_run")
        if not isinstance(child_run, dict):
            found = "missing" if "child_run" not in value else describe_found(child_run)
            raise RecordError("child_run", f"{found}; expected {EXPECTED_CHILD_RUN}")

        messages = convert_chat_messages(child_run.get("inputs"), "child_run.inputs")
        if "output" not in child_run:
            raise RecordError(
                "child_run.output", 'missing; expected a message object with "role" and "content"'
            )
        output = convert_chat_message(child_run["output"], "child_run.output")

        status = read_status(value)
        note = read_note(value)
        labels = read_labels(value)

        run_id = child_run.get("run_id")
        metadata: dict[str, Any] = {"run_id": run_id} if run_id is not None else {}
        metadata.update(
            (key, item)
            for key, item in value.items()
            if key != "child_run" and key not in REVIEW_FIELDS
        )
        tools = tool_list(child_run.get("funcs")) or tool_list(value.get("function_defs"))

        return Record(
            id=pick_id(run_id if run_id is not None else value.get("child_run_id"), index),
            messages=messages,
            output=output,
            metadata=make_json_safe(metadata),
            tools=tools,
            review=Review(status=status, note=note, labels=labels),
        )

    def output_message(self, value: dict[str, Any]) -> dict[str, Any] | None:
        return value["child_run"]["output"]

    def store_review(self, value: dict[str, Any], review: Review) -> None:
        # Each field is written only when the review changed what the row means, so that a missing
        # field, a null or a repeated label the reviewer did not touch stays as the file has it.
        if review.status != read_status(value):
            value["status"] = review.status
        if review.note != read_note(value):
            value["note"] = review.note
        labels = drop_repeated_labels(review.labels)
        if labels != read_labels(value):
            value["labels"] = labels

    def write(
        self,
        document: Document,
        sources: Sequence[Any],
        records: Sequence[Record],
        reviews: Sequence[Review],
    ) -> WriteResult:
        result = super().write(document, sources, records, reviews)

        # A review column that a pandas table lacks is added in full, because a
        # table row without a cell in some column cannot be read back.
        table = document.root if document.kind == "json" else None
        if not is_columns_table(table):
            return result
        added = {
            column
            for change in result.changes
            for column in REVIEW_FIELDS
            if column not in table and column in change.value
        }
        # Every row gets a cell, the rows the reader rejected too (with the default review), and
        # the cells go first so that the new column lists them in the table's row order.
        reviews_by_row = {item.row_label: review for item, review in zip(sources, reviews)}
        filled = [
            Change(item, (column,), getattr(reviews_by_row.get(item.row_label, Review()), column))
            for column in sorted(added)
            for item in document.items()
        ]
        result.changes[:0] = filled
        return result


def drop_repeated_labels(labels: Sequence[str]) -> list[str]:
    """Return the labels without repeats, in their first order."""
    return list(dict.fromkeys(labels))


def read_status(value: dict[str, Any]) -> str:
    """Return a row's review status, "Pending" when it has none; raise RecordError for another value."""
    status = value.get("status", "Pending")
    if status not in STATUSES:
        raise RecordError("status", f"{describe_found(status)}; expected {EXPECTED_STATUS}")
    return status


def read_note(value: dict[str, Any]) -> str:
    """Return a row's note, "" for a missing or null one; raise RecordError for a non-string."""
    note = value.get("note")
    if note is None:
        return ""
    if not isinstance(note, str):
        raise RecordError("note", f"{describe_found(note)}; expected a string")
    return note


def read_labels(value: dict[str, Any]) -> list[str]:
    """Return a row's labels without repeats, [] for missing or null; raise RecordError for bad ones."""
    labels = value.get("labels")
    if labels is None:
        return []
    if not isinstance(labels, list):
        raise RecordError("labels", f"{describe_found(labels)}; expected a list of strings")
    for position, label in enumerate(labels):
        if not isinstance(label, str):
            raise RecordError(f"labels[{position}]", f"{describe_found(label)}; expected a string")
    return drop_repeated_labels(labels)
