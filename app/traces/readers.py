"""Reading trace files of any supported format into normalized records.

``load_dataset_bytes`` decodes the file (JSON, JSONL or a pandas table), picks
the format whose shape check fits the most items (``format=`` skips detection),
and reads it. Bad lines and records become Problems while the rest load; a file
that yields no record at all raises DatasetFormatError.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traces.documents import Document
from traces.parsing import parse_document
from traces.formats import DETECTION_ORDER, FORMAT_BY_NAME, ALL_FORMATS
from traces.formats.base import TraceFormat
from traces.model import Record
from traces.problems import DatasetFormatError, Problem

# Names accepted by ``format=``, such as "openai-chat".
FORMATS: tuple[str, ...] = tuple(trace_format.name for trace_format in ALL_FORMATS)


@dataclass(frozen=True)
class DatasetSource:
    """The document, its format and per-record sources, which export_original needs."""

    document: Document
    trace_format: TraceFormat
    record_sources: tuple[Any, ...]


@dataclass
class LoadedDataset:
    """The records of one trace file, the problems found, and the source for exports."""

    name: str
    # One of FORMATS.
    format: str
    records: list[Record]
    problems: list[Problem]
    # SHA-256 hex digest of the file's bytes, so files with equal bytes get equal ids.
    dataset_id: str
    # Opaque to callers: what the format's exporter needs to rebuild the original file.
    source: Any
    # Items that are not records by design, counted by kind, such as {"chain run": 2}.
    skipped: dict[str, int] = field(default_factory=dict)


def detect_format(document: Document) -> tuple[TraceFormat | None, dict[str, str]]:
    """Return the best-fitting format (None when none fits) and what each format found."""
    best: TraceFormat | None = None
    best_score = 0
    findings: dict[str, str] = {}

    for name in DETECTION_ORDER:
        trace_format = FORMAT_BY_NAME[name]
        match = trace_format.check(document)
        findings[name] = match.missing if match.score == 0 else f"{match.score} matching items"
        if match.score > best_score:
            best, best_score = trace_format, match.score

    return best, {name: findings[name] for name in FORMATS}


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Order problems of a JSONL file by line number; others keep the order they were found in."""

    def line_number(problem: Problem) -> int:
        words = problem.location.split()
        if len(words) >= 2 and words[0] == "line" and words[1].isdigit():
            return int(words[1])
        return 0

    return sorted(problems, key=line_number)


@contextmanager
def pause_garbage_collection() -> Iterator[None]:
    """Pause Python's cycle collector for the block, then restore its previous state.

    Reading a file creates many objects and no reference cycles, yet each
    allocation burst starts a collection that walks every object alive. Pausing it
    made a 20,000-record read three times faster in CPython 3.11.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_dataset_bytes(data: bytes, name: str, *, format: str | None = None) -> LoadedDataset:
    """Read a trace file's bytes; ``name`` is used in messages and ``format`` skips detection.

    Raises ValueError for an unknown ``format`` and DatasetFormatError when the
    file is not JSON or JSONL, matches no format, or yields no record.
    """
    with pause_garbage_collection():
        return read_dataset_bytes(data, name, format=format)


def read_dataset_bytes(data: bytes, name: str, *, format: str | None) -> LoadedDataset:
    if format is not None and format not in FORMAT_BY_NAME:
        expected = ", ".join(f'"{known}"' for known in FORMATS)
        raise ValueError(f"Unknown trace format {format!r}; expected one of {expected}")

    document = parse_document(data, name)

    if format is not None:
        trace_format = FORMAT_BY_NAME[format]
    else:
        detected, findings = detect_format(document)
        if detected is None:
            reason = (
                f"found {document.describe()}, which matches no supported trace format; "
                "expected the shape of one of the formats tried below"
            )
            raise DatasetFormatError(name, reason, tried=findings, problems=document.line_problems)
        trace_format = detected

    result = trace_format.read(document)
    if not result.records:
        reason = f"no record could be read as {trace_format.name}"
        if result.skipped:
            counts = ", ".join(f"{count} {kind}" for kind, count in result.skipped.items())
            reason += f" (skipped, as they hold no model call: {counts})"
        raise DatasetFormatError(name, reason, problems=sort_problems(result.problems))

    return LoadedDataset(
        name=name,
        format=trace_format.name,
        records=result.records,
        problems=sort_problems(result.problems),
        dataset_id=hashlib.sha256(data).hexdigest(),
        source=DatasetSource(document, trace_format, tuple(result.sources)),
        skipped=result.skipped,
    )


def load_dataset_file(path: str | Path, *, format: str | None = None) -> LoadedDataset:
    """Read a trace file from disk with load_dataset_bytes."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        message = f"failed to read the file: {reason}; check the path and its permissions"
        raise DatasetFormatError(str(path), message) from error

    return load_dataset_bytes(data, path.name, format=format)
