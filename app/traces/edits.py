"""Applying an edited output to normalized messages and to raw chat messages.

Every format follows one rule. The edited text replaces the output's text
parts: the first text part takes the new text and later ones are removed. An
output that has tool calls but no text gets the text placed before its calls.
"""

from __future__ import annotations

from typing import Any

from traces.model import Message, Part, Record, Review, TextPart, ToolCallPart
from traces.parts import TEXT_BLOCK_TYPES, TOOL_USE_BLOCK_TYPES, get_block_type


def edit_of(record: Record, review: Review) -> str | None:
    """Return the review's edited output when it differs from the record's output text, else None."""
    if review.edited_output is None or review.edited_output == record.output_text:
        return None
    return review.edited_output


def replace_output_text(message: Message, text: str) -> Message:
    """Return a copy of the message whose text parts are replaced by ``text``."""
    parts: list[Part] = []
    placed = False
    for part in message.parts:
        if isinstance(part, TextPart):
            if not placed and text:
                parts.append(TextPart(text=text))
            placed = True
            continue
        parts.append(part)

    if not placed and text:
        position = next(
            (index for index, part in enumerate(parts) if isinstance(part, ToolCallPart)),
            len(parts),
        )
        parts.insert(position, TextPart(text=text))

    return message.model_copy(update={"parts": parts})


def is_text_block(block: Any) -> bool:
    """Tell whether a content-list item holds plain text (a text block or a bare string)."""
    if isinstance(block, str):
        return True
    return (
        isinstance(block, dict)
        and get_block_type(block) in TEXT_BLOCK_TYPES
        and isinstance(block.get("text"), str)
    )


def store_text_in_content(message: dict[str, Any], text: str, key: str = "content") -> bool:
    """Write ``text`` into a raw chat message's content in place; return False when it cannot.

    A string, null or missing content becomes the text. In a list of parts or
    blocks, the first text block takes the text and later ones are dropped. A
    list without a text block gets a new one before the first tool_use block.
    Content of any other type (a number, an object) is left alone.
    """
    content = message.get(key)
    if content is None or isinstance(content, str):
        message[key] = text
        return True
    if not isinstance(content, list):
        return False

    blocks: list[Any] = []
    placed = False
    for block in content:
        if not is_text_block(block):
            blocks.append(block)
            continue
        if not placed and text:
            if isinstance(block, str):
                blocks.append(text)
            else:
                blocks.append({**block, "text": text})
        placed = True

    if not placed and text:
        position = next(
            (
                index
                for index, block in enumerate(blocks)
                if get_block_type(block) in TOOL_USE_BLOCK_TYPES
            ),
            len(blocks),
        )
        blocks.insert(position, {"type": "text", "text": text})

    message[key] = blocks
    return True
