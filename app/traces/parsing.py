"""Decoding a trace file's bytes into a Document: one JSON value, or JSONL with one value per line."""

from __future__ import annotations

import codecs
import json

from traces.documents import Document, Line
from traces.problems import DatasetFormatError, Problem

# File name endings that are read as JSONL even when the file is one JSON value.
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")

EXPECTED_FILE = "a JSON value (list, object or pandas table) or JSONL with one JSON object per line"


def decode_text(data: bytes, name: str) -> tuple[str, bool]:
    """Decode UTF-8 bytes, with or without a byte order mark; return the text and whether it had one."""
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8) :]

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad_byte = data[error.start]
        reason = (
            f"not UTF-8 text: invalid byte 0x{bad_byte:02x} at offset {error.start}; "
            "expected JSON or JSONL encoded as UTF-8, so save the file again as UTF-8"
        )
        raise DatasetFormatError(name, reason) from error

    if not text.strip():
        raise DatasetFormatError(name, f"the file is empty; expected {EXPECTED_FILE}")
    return text, bom


def parse_document(data: bytes, name: str) -> Document:
    """Decode a file as one JSON value or as JSONL, raising DatasetFormatError when it is neither."""
    text, bom = decode_text(data, name)

    if name.lower().endswith(JSONL_SUFFIXES):
        document = parse_jsonl(data, name, text, bom)
        if any(line.valid for line in document.lines):
            return document

    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        # Several values, or one bad line among good ones, means JSONL.
        document = parse_jsonl(data, name, text, bom)
        if any(line.valid and isinstance(line.value, dict) for line in document.lines):
            return document
        reason = (
            f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}; "
            f"expected {EXPECTED_FILE}"
        )
        raise DatasetFormatError(name, reason) from error

    newline = "\r\n" if "\r\n" in text else "\n"
    core = text.replace("\r\n", "\n") if newline == "\r\n" else text
    stripped = core.rstrip()
    return Document(
        name=name,
        data=data,
        kind="json",
        bom=bom,
        root=root,
        suffix=core[len(stripped) :].replace("\n", newline),
        newline=newline,
    )


def parse_jsonl(data: bytes, name: str, text: str, bom: bool) -> Document:
    """Split text into lines and parse each non-blank line as one JSON value."""
    lines: list[Line] = []
    problems: list[Problem] = []

    pieces = text.split("\n")
    for index, piece in enumerate(pieces):
        is_last = index == len(pieces) - 1
        if is_last and piece == "":
            break
        ending = "" if is_last else "\n"
        if piece.endswith("\r"):
            piece, ending = piece[:-1], "\r" + ending
        line = Line(number=index + 1, text=piece, ending=ending)
        lines.append(line)

        # Blank lines are not records, so they are skipped without a problem.
        if not piece.strip():
            continue
        try:
            line.value = json.loads(piece)
            line.valid = True
        except json.JSONDecodeError as error:
            problems.append(Problem(f"line {line.number}", None, describe_bad_line(piece, error)))

    return Document(
        name=name, data=data, kind="jsonl", bom=bom, lines=lines, line_problems=problems
    )


def describe_bad_line(text: str, error: json.JSONDecodeError) -> str:
    """Explain why a JSONL line is not valid JSON."""
    trimmed = text.rstrip()
    if trimmed.endswith(","):
        try:
            json.loads(trimmed[:-1])
        except json.JSONDecodeError:
            pass
        else:
            return (
                "not valid JSON: a trailing comma follows the value; "
                "expected one JSON object per line, without a comma"
            )
    return f"not valid JSON: {error.msg} at column {error.colno}; expected one JSON object per line"
