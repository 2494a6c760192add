"""Finding the json.dumps settings that reproduce a JSON text, so edits keep a file's layout."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


# A surrogate code point on its own: Python keeps one read from a "\ud800" escape, and UTF-8
# cannot encode it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_lone_surrogates(text: str) -> str:
    """Return JSON text with each lone surrogate written as its \\u escape, so it encodes as UTF-8.

    Outside strings JSON has no such characters, so only string content changes, and reading the
    text back gives the same string.
    """
    return LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


@dataclass(frozen=True)
class JsonStyle:
    """The json.dumps settings of a text, and whether they reproduce it exactly."""

    indent: int | str | None = 2
    ensure_ascii: bool = False
    separators: tuple[str, str] = (",", ": ")
    # pandas' DataFrame.to_json() writes "/" as "\/".
    escape_slash: bool = False
    exact: bool = False

    def dumps(self, value: Any) -> str:
        """Serialize a value in this style."""
        text = json.dumps(
            value, indent=self.indent, ensure_ascii=self.ensure_ascii, separators=self.separators
        )
        if self.escape_slash:
            # Outside strings, json.dumps writes no "/", so this only touches string content.
            text = text.replace("/", "\\/")
        return escape_lone_surrogates(text)


def detect_style(text: str, value: Any) -> JsonStyle:
    """Find json.dumps settings that turn ``value`` back into ``text`` (trimmed).

    Returns a style with ``exact=False`` (indent 2, non-ASCII kept) when none of
    the common settings reproduces the text, for example for files written by
    other JSON libraries. An all-ASCII text gets ``ensure_ascii=True``, so that
    the file stays ASCII after an edit.
    """
    text = text.strip()
    first_break = text.find("\n")
    if first_break == -1:
        indents: list[int | str | None] = [None]
    else:
        second_line = text[first_break + 1 :]
        indent_text = second_line[: len(second_line) - len(second_line.lstrip(" \t"))]
        indents = [indent_text if "\t" in indent_text else len(indent_text)]

    ascii_first = (True, False) if text.isascii() else (False, True)
    escape_slash = "\\/" in text

    for indent in indents:
        if indent is None:
            separator_options = [(", ", ": "), (",", ":")]
        else:
            separator_options = [(",", ": ")]
        for separators in separator_options:
            for ensure_ascii in ascii_first:
                style = JsonStyle(indent, ensure_ascii, separators, escape_slash, exact=True)
                if style.dumps(value) == text:
                    return style

    return JsonStyle(exact=False)
