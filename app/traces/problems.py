"""Problems found while reading a trace file, and the error for an unusable file.

A Problem describes one bad line or record: the readers skip it, load the rest,
and keep the Problem so the app can show what was left out. DatasetFormatError
is raised only when the file as a whole cannot be used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Problems beyond this many are counted in one closing line of an error message.
MAX_LISTED_PROBLEMS = 20

# Bad values are cut to about this many characters in messages.
MAX_FOUND_CHARS = 60


@dataclass(frozen=True)
class Problem:
    """One bad line or record in a trace file.

    ``location`` is "line 7" (1-based) in a JSONL file, "record 3" (0-based
    index into a JSON list, or the index label of a pandas table), a location
    such as "post record 0" or "span 2" in files that nest records, or "file".
    ``field`` is a dotted path inside that record, or None for the record itself.
    """

    location: str
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.location}, field {self.field}: {self.message}"
        return f"{self.location}: {self.message}"


class RecordError(Exception):
    """A record that a reader cannot convert; the reader turns it into a Problem."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class DatasetFormatError(ValueError):
    """A trace file that cannot be used as a whole.

    ``str(error)`` names the file and the reason. When no format matched, it
    lists every format tried and what each found missing (``tried``). When a
    format matched but no record could be read, it lists the problems.
    """

    def __init__(
        self,
        name: str,
        reason: str,
        *,
        tried: Mapping[str, str] | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.name = name
        self.reason = reason
        self.tried = dict(tried or {})
        self.problems = list(problems)
        super().__init__(format_error(name, reason, self.tried, self.problems))


def format_error(
    name: str, reason: str, tried: Mapping[str, str], problems: Sequence[Problem]
) -> str:
    """Format a file-level error as a header line and indented detail lines."""
    lines = [f"Cannot read {name}: {reason}"]

    if tried:
        lines.append("Formats tried:")
        for format_name, missing in tried.items():
            lines.append(f"  {format_name}: {missing}")

    for problem in problems[:MAX_LISTED_PROBLEMS]:
        lines.append(f"  {problem}")
    hidden = len(problems) - MAX_LISTED_PROBLEMS
    if hidden > 0:
        lines.append(f"  ... and {hidden} more problem{'' if hidden == 1 else 's'}")

    return "\n".join(lines)


def shorten(value: Any, limit: int = MAX_FOUND_CHARS) -> str:
    """Format a parsed JSON value as JSON text cut to about ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)

    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def describe_found(value: Any) -> str:
    """Describe a bad value for a message: "found 42", "found an empty list" and so on."""
    if isinstance(value, list) and not value:
        return "found an empty list"
    if isinstance(value, dict) and not value:
        return "found an empty object"
    return f"found {shorten(value)}"


def join_field(*parts: str | int | None) -> str:
    """Join field names and list indices as a dotted path such as ``messages[2].content``."""
    text = ""
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif text and not part.startswith("["):
            text += "." + part
        else:
            text += part
    return text
