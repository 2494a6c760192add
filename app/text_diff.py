"""Word-level differences between the original output and the reviewer's edit."""

from __future__ import annotations

import difflib
import re
from typing import Literal

Operation = Literal["equal", "insert", "delete"]

# Words and the whitespace between them are separate tokens, so that a diff keeps line breaks and
# spacing exactly and joining the tokens gives back the text.
TOKEN_PATTERN = re.compile(r"\s+|[^\s]+")


def split_words(text: str) -> list[str]:
    """Split `text` into word and whitespace tokens that join back to `text`."""
    return TOKEN_PATTERN.findall(text)


def diff_words(original: str, edited: str) -> list[tuple[Operation, str]]:
    """Return the edit from `original` to `edited` as (operation, text) runs at word level."""
    before = split_words(original)
    after = split_words(edited)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)

    runs: list[tuple[Operation, str]] = []
    for tag, start_a, end_a, start_b, end_b in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("equal", "".join(before[start_a:end_a])))
            continue
        if end_a > start_a:
            runs.append(("delete", "".join(before[start_a:end_a])))
        if end_b > start_b:
            runs.append(("insert", "".join(after[start_b:end_b])))
    return runs
