"""Dataset model, loading, validation and export for the review app.

A dataset is a table of LLM runs, one row per run. Each row has a ``child_run``
(the conversation sent to the model and its final output) and a review
``status``, plus any other fields, which are kept exactly as they are. Two JSON
layouts are read:

- "records": a JSON list of row objects.
- "columns": the layout that pandas ``DataFrame.to_json()`` writes by default, a
  dict of columns where each column maps index labels to values.

This module runs in the browser on Pyodide, so it uses only pydantic and the
standard library.
"""

from __future__ import annotations

import codecs
import copy
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

Status = Literal["Pending", "Accepted", "Rejected"]
STATUSES: tuple[Status, ...] = ("Pending", "Accepted", "Rejected")

Layout = Literal["records", "columns"]

# The top-level forms that parse_dataset accepts, repeated in file-level errors.
EXPECTED_TOP_LEVEL = "a JSON list of rows, or a pandas 'columns' table"

# Errors beyond this many are counted in one closing line, so a file with
# thousands of bad rows still gives a readable message.
MAX_LISTED_PROBLEMS = 20

# Found values are cut to about this many characters in error messages.
MAX_FOUND_CHARS = 60


# --- Data model --------------------------------------------------------------


class FunctionCall(BaseModel):
    """A function call requested by an assistant message."""

    model_config = ConfigDict(extra="allow")

    name: str
    # Usually a JSON-encoded string, as in the OpenAI chat message format. Some
    # exports store the decoded object instead.
    arguments: str | dict[str, Any]


class Message(BaseModel):
    """One chat message: a system prompt, user turn, assistant turn or function result."""

    model_config = ConfigDict(extra="allow")

    role: str
    # None for an assistant message that only carries a function call.
    content: str | None = None
    function_call: FunctionCall | None = None
    # Name of the function whose result a "function" message contains.
    name: str | None = None


class ChildRun(BaseModel):
    """The LLM call under review: the messages sent and the message returned."""

    model_config = ConfigDict(extra="allow")

    inputs: list[Message]
    output: Message
    funcs: Any = None
    run_id: str | None = None


class Row(BaseModel):
    """One dataset row: the run, its review status and any other fields."""

    model_config = ConfigDict(extra="allow")

    child_run: ChildRun
    status: Status = "Pending"


@dataclass(frozen=True)
class Dataset:
    """A validated dataset together with the rows exactly as they were parsed."""

    # File name, used in messages and for the name of the downloaded file.
    name: str
    layout: Layout
    # Rows as parsed from the file. Export copies them and never changes them.
    raw_rows: tuple[dict[str, Any], ...]
    rows: tuple[Row, ...]
    # Index labels in file order, for the columns layout only.
    index_labels: tuple[str, ...] | None
    # SHA-256 hex digest of the file's bytes, so files with equal bytes get equal ids.
    dataset_id: str


# Field names of the models above. A string in a pydantic error location that
# is not one of these names is the tag of a union member (such as "str" for
# FunctionCall.arguments), which is left out of the reported field path.
MODEL_FIELD_NAMES = frozenset(
    name for model in (FunctionCall, Message, ChildRun, Row) for name in model.model_fields
)


# --- Errors ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One validation problem in a dataset file.

    ``record`` is the 0-based row index in the records layout, the index label
    in the columns layout, or None for a problem with the file as a whole.
    ``field`` is a dotted path such as ``child_run.inputs[0].role``, or "" for
    the row or file itself.
    """

    record: int | str | None
    field: str
    message: str


class DatasetError(ValueError):
    """A dataset file that cannot be read or does not match the expected format.

    ``name`` is the file name or path, and ``problems`` lists every problem
    found. ``str(error)`` is one message that lists them.
    """

    def __init__(self, name: str, problems: Sequence[Problem]) -> None:
        self.name = name
        self.problems = list(problems)
        super().__init__(format_problems(name, self.problems))


def format_problems(name: str, problems: Sequence[Problem]) -> str:
    """Format problems as a header line and one indented line per problem."""
    count = len(problems)
    lines = [f"Invalid dataset {name}: {count} problem{'' if count == 1 else 's'}"]

    for problem in problems[:MAX_LISTED_PROBLEMS]:
        lines.append("  " + format_problem(problem))

    hidden = count - MAX_LISTED_PROBLEMS
    if hidden > 0:
        lines.append(f"  ... and {hidden} more problem{'' if hidden == 1 else 's'}")

    return "\n".join(lines)


def format_problem(problem: Problem) -> str:
    """Format one problem as "record R, field F: message"."""
    place: list[str] = []
    if problem.record is not None:
        place.append(f"record {problem.record}")
    if problem.field:
        place.append(f"field {problem.field}")

    if not place:
        return problem.message
    return f"{', '.join(place)}: {problem.message}"


def shorten_value(value: Any) -> str:
    """Format a parsed JSON value as JSON text cut to about MAX_FOUND_CHARS characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)

    if len(text) > MAX_FOUND_CHARS:
        text = text[: MAX_FOUND_CHARS - 3] + "..."
    return text


def describe_found(value: Any) -> str:
    """Describe a bad value for an error message, naming an empty list or object in words."""
    if isinstance(value, list) and not value:
        return "found an empty list"
    if isinstance(value, dict) and not value:
        return "found an empty object"
    return f"found {shorten_value(value)}"


# --- Validating rows ---------------------------------------------------------


def describe_expected(path: Sequence[str | int]) -> str:
    """Describe the value expected at a field path inside a row."""
    if not path:
        return 'an object with "child_run" and "status"'

    last = path[-1]
    parent = path[-2] if len(path) >= 2 else None

    # An error at a list item or at "output" means the message itself is not an object.
    if isinstance(last, int) or last == "output":
        return 'a message object with "role" and "content"'
    if last == "name" and parent == "function_call":
        return 'a string such as "get_weather"'

    expected_by_field = {
        "child_run": 'an object with "inputs" (a list of messages) and "output" (a message)',
        "status": "one of " + ", ".join(f'"{status}"' for status in STATUSES),
        "inputs": "a list of messages",
        "role": 'a string such as "user"',
        "content": "a string or null",
        "function_call": 'an object with "name" and "arguments", or null',
        "arguments": "a JSON string or an object",
        "name": "a string or null",
        "run_id": "a string or null",
    }
    return expected_by_field.get(last, "a valid value")


def format_field_path(path: Sequence[str | int]) -> str:
    """Join a field path as dotted names with list indices in brackets."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += "." + part
        else:
            text = part
    return text


def convert_validation_error(record: int | str, error: ValidationError) -> list[Problem]:
    """Convert pydantic's errors for one row into problems, one per field path."""
    problems: list[Problem] = []
    seen_fields: set[str] = set()

    for detail in error.errors():
        path = [
            part for part in detail["loc"] if isinstance(part, int) or part in MODEL_FIELD_NAMES
        ]
        field = format_field_path(path)

        # A value that matches no member of a union gives one error per member,
        # all at the same field, so only the first is reported.
        if field in seen_fields:
            continue
        seen_fields.add(field)

        if detail["type"] == "missing":
            found = "missing"
        else:
            found = describe_found(detail["input"])
        problems.append(Problem(record, field, f"{found}; expected {describe_expected(path)}"))

    return problems


def validate_rows(
    raw_rows: Sequence[Any], labels: Sequence[str] | None
) -> tuple[list[Row], list[Problem]]:
    """Validate every row and collect the problems of all of them."""
    rows: list[Row] = []
    problems: list[Problem] = []

    for index, raw in enumerate(raw_rows):
        record: int | str = index if labels is None else labels[index]

        if not isinstance(raw, dict):
            message = f'{describe_found(raw)}; expected an object with "child_run" and "status"'
            problems.append(Problem(record, "", message))
            continue

        try:
            rows.append(Row.model_validate(raw))
        except ValidationError as error:
            problems.extend(convert_validation_error(record, error))

    return rows, problems


# --- Reading files -----------------------------------------------------------


def decode_json(data: bytes) -> Any:
    """Decode UTF-8 bytes, with or without a byte order mark, and parse them as JSON."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad_byte = data[error.start]
        message = (
            f"not UTF-8 text: invalid byte 0x{bad_byte:02x} at offset {error.start}; "
            "expected JSON encoded as UTF-8, so save the file again as UTF-8"
        )
        raise ValueError(message) from error

    if not text.strip():
        raise ValueError(f"the file is empty; expected {EXPECTED_TOP_LEVEL}")

    # NOTE: json.loads accepts NaN and Infinity, and export_dataset writes them
    # back unchanged, although strict JSON parsers reject them.
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        message = (
            f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}; "
            f"expected {EXPECTED_TOP_LEVEL}"
        )
        raise ValueError(message) from error


def convert_columns(table: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], list[Problem]]:
    """Convert a pandas "columns" table to rows in the order of the first column's index labels."""
    problems: list[Problem] = []

    for column, cells in table.items():
        if not isinstance(cells, dict):
            message = (
                f"{describe_found(cells)}; expected an object that maps index labels to values "
                f"(the top level must be {EXPECTED_TOP_LEVEL})"
            )
            problems.append(Problem(None, column, message))
    if problems:
        return [], [], problems

    first_column, first_cells = next(iter(table.items()))
    labels = list(first_cells)
    if not labels:
        message = f"the table has no rows; expected {EXPECTED_TOP_LEVEL} with at least one row"
        return [], [], [Problem(None, "", message)]

    # Every column must contain exactly the labels of the first one, because a
    # missing cell cannot be exported again and an extra one would be dropped.
    known_labels = set(labels)
    for column, cells in table.items():
        for label in labels:
            if label not in cells:
                message = (
                    "missing; expected a value for every index label "
                    f'of the first column "{first_column}"'
                )
                problems.append(Problem(label, column, message))
        for label in cells:
            if label not in known_labels:
                message = (
                    "found an extra index label; expected only the labels "
                    f'of the first column "{first_column}"'
                )
                problems.append(Problem(label, column, message))
    if problems:
        return [], labels, problems

    rows = [{column: cells[label] for column, cells in table.items()} for label in labels]
    return rows, labels, []


def parse_dataset(data: bytes, name: str) -> Dataset:
    """Parse and validate a dataset file, raising DatasetError that lists every problem found."""
    try:
        parsed = decode_json(data)
    except ValueError as error:
        raise DatasetError(name, [Problem(None, "", str(error))]) from error

    labels: list[str] | None = None
    layout: Layout
    if isinstance(parsed, list):
        layout = "records"
        raw_rows = parsed
        if not raw_rows:
            message = f"found an empty list; expected {EXPECTED_TOP_LEVEL} with at least one row"
            raise DatasetError(name, [Problem(None, "", message)])
    elif isinstance(parsed, dict):
        layout = "columns"
        if not parsed:
            message = f"found an empty object; expected {EXPECTED_TOP_LEVEL} with at least one row"
            raise DatasetError(name, [Problem(None, "", message)])
        raw_rows, labels, problems = convert_columns(parsed)
        if problems:
            raise DatasetError(name, problems)
    else:
        message = f"found {shorten_value(parsed)} at the top level; expected {EXPECTED_TOP_LEVEL}"
        raise DatasetError(name, [Problem(None, "", message)])

    rows, problems = validate_rows(raw_rows, labels)
    if problems:
        raise DatasetError(name, problems)

    return Dataset(
        name=name,
        layout=layout,
        raw_rows=tuple(raw_rows),
        rows=tuple(rows),
        index_labels=None if labels is None else tuple(labels),
        dataset_id=hashlib.sha256(data).hexdigest(),
    )


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset file and parse it with parse_dataset."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        message = f"failed to read the file: {reason}; check the path and its permissions"
        raise DatasetError(str(path), [Problem(None, "", message)]) from error

    return parse_dataset(data, path.name)


# --- Export ------------------------------------------------------------------


def output_text(message: Message) -> str:
    """Return the text of a message for the output editor, "" when its content is null."""
    return message.content if message.content is not None else ""


def apply_review(dataset: Dataset, index: int, status: Any, output: Any) -> dict[str, Any]:
    """Copy one raw row and write the review's status and, if it was edited, its output into it."""
    if status not in STATUSES:
        expected = ", ".join(f'"{name}"' for name in STATUSES)
        raise ValueError(
            f"Invalid review status {status!r} for record {index}; expected one of {expected}"
        )
    if not isinstance(output, str):
        raise ValueError(
            f"Invalid review output for record {index}: found {type(output).__name__}; "
            "expected a string"
        )

    row = copy.deepcopy(dataset.raw_rows[index])
    row["status"] = status

    # Writing an unchanged output back would turn a null content into "".
    if output != output_text(dataset.rows[index].child_run.output):
        row["child_run"]["output"]["content"] = output

    return row


def export_dataset(dataset: Dataset, reviews: Sequence[tuple[Status, str]]) -> str:
    """Write the dataset as JSON text in its original layout, with the reviews applied.

    ``reviews[i]`` is the ``(status, output)`` pair for row ``i``. Each row gets
    that status, and its output content is replaced only when the text differs
    from the file's. All other fields are written back unchanged.
    """
    if len(reviews) != len(dataset.rows):
        raise ValueError(
            f"Cannot export {dataset.name}: got {len(reviews)} reviews for "
            f"{len(dataset.rows)} records; expected one review per record"
        )

    rows = [
        apply_review(dataset, index, status, output)
        for index, (status, output) in enumerate(reviews)
    ]

    exported: Any
    if dataset.layout == "records":
        exported = rows
    else:
        if dataset.index_labels is None:
            raise ValueError(
                f"Cannot export {dataset.name}: the layout is columns but index_labels is None"
            )
        exported = rows_to_columns(rows, dataset.index_labels)

    return json.dumps(exported, ensure_ascii=False, indent=2)


def rows_to_columns(
    rows: Sequence[dict[str, Any]], labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Build a pandas "columns" table from rows that all have the same fields."""
    columns: dict[str, dict[str, Any]] = {}
    for column in rows[0]:
        columns[column] = {label: row[column] for label, row in zip(labels, rows)}
    return columns
