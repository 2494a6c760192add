"""Conversion of message content from the common chat shapes to normalized parts.

OpenAI content parts and Anthropic content blocks share the ``{"type": "text",
"text": ...}`` form, so one converter reads both families. Anything it does not
know becomes an OtherPart with a short preview instead of an error, so one odd
message never hides the rest of a record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from traces.model import (
    Message,
    OtherPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from traces.problems import RecordError, describe_found, join_field

# OtherPart.raw keeps at most this many characters of a value.
MAX_PREVIEW_CHARS = 200

# Block types that carry plain text in OpenAI chat, the OpenAI Responses API and Anthropic.
TEXT_BLOCK_TYPES = frozenset({"text", "input_text", "output_text"})
TOOL_USE_BLOCK_TYPES = frozenset({"tool_use", "server_tool_use"})


def type_name(value: Any) -> str:
    """Name a JSON value's type with an article, as used in notes: "a number", "an object"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return type(value).__name__


def describe_size(characters: int) -> str:
    """Format a size in characters as "812 characters", "45.3 kB" or "5.0 MB"."""
    if characters < 10_000:
        return f"{characters:,} characters"
    if characters < 1_000_000:
        return f"{characters / 1000:.1f} kB"
    return f"{characters / 1_000_000:.1f} MB"


def make_other(note: str, value: Any) -> OtherPart:
    """Build an OtherPart with a short preview of ``value``; the note gains the size when it is cut."""
    if isinstance(value, str):
        raw = value
    else:
        try:
            raw = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            raw = repr(value)

    if len(raw) > MAX_PREVIEW_CHARS:
        note = f"{note}; {describe_size(len(raw))}, preview shortened"
        raw = raw[:MAX_PREVIEW_CHARS] + "..."
    return OtherPart(note=note, raw=raw)


def encode_arguments(value: Any) -> str:
    """Return tool-call arguments as text: a string as given, anything else JSON-encoded."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def describe_image(block: dict[str, Any]) -> str:
    """Describe an Anthropic image block or an OpenAI image_url part without its data."""
    source = block.get("source")
    if isinstance(source, dict):
        media = source.get("media_type", "unknown type")
        if source.get("type") == "base64" and isinstance(source.get("data"), str):
            size = describe_size(len(source["data"]) * 3 // 4)
            return f"image ({media}, base64, about {size} decoded)"
        return f"image ({media}, {source.get('type', 'unknown')} source)"

    image_url = block.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if isinstance(url, str) and url.startswith("data:"):
        header = url[5 : url.find(",")] if "," in url else url[5:40]
        return f"image (data URL {header}, {describe_size(len(url))})"
    if isinstance(url, str):
        return f"image ({url[:80]})"
    return "image"


def get_block_type(block: Any) -> str | None:
    """Return a block's "type" when the block is an object and the type a string, else None."""
    if isinstance(block, dict) and isinstance(block.get("type"), str):
        return block["type"]
    return None


def convert_content(content: Any) -> list[Part]:
    """Convert message content (string, null, list of parts or blocks, or anything else) to parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)] if content else []
    if isinstance(content, list):
        parts: list[Part] = []
        for block in content:
            parts.extend(convert_block(block))
        return parts
    return [
        make_other(
            f"content is {type_name(content)}, not text or a list of content blocks", content
        )
    ]


def convert_block(block: Any) -> list[Part]:
    """Convert one item of a content list to parts."""
    if isinstance(block, str):
        # Not a block, but readable text, so it is shown as text.
        return [TextPart(text=block)] if block else []
    if not isinstance(block, dict):
        return [make_other(f"content item is {type_name(block)}, not a content block", block)]

    block_type = get_block_type(block)
    if block_type in TEXT_BLOCK_TYPES and isinstance(block.get("text"), str):
        return [TextPart(text=block["text"])] if block["text"] else []
    if block_type == "refusal" and isinstance(block.get("refusal"), str):
        return [TextPart(text=block["refusal"])]
    if block_type == "thinking" and isinstance(block.get("thinking"), str):
        return [ReasoningPart(text=block["thinking"])]
    if block_type == "reasoning" and isinstance(block.get("text"), str):
        return [ReasoningPart(text=block["text"])]
    if block_type == "redacted_thinking":
        return [make_other("redacted thinking (encrypted by the provider)", block.get("data", ""))]
    if block_type in TOOL_USE_BLOCK_TYPES and isinstance(block.get("name"), str):
        call_id = block.get("id") if isinstance(block.get("id"), str) else None
        arguments = encode_arguments(block.get("input", {}))
        return [ToolCallPart(id=call_id, name=block["name"], arguments=arguments)]
    if block_type == "tool_result":
        call_id = block.get("tool_use_id") if isinstance(block.get("tool_use_id"), str) else None
        content = tool_result_text(block.get("content"))
        return [
            ToolResultPart(call_id=call_id, content=content, is_error=block.get("is_error") is True)
        ]
    if block_type in ("image", "image_url"):
        return [make_other(describe_image(block), block)]

    label = (
        f'content block of type "{block_type}"'
        if isinstance(block_type, str)
        else "content block without a type"
    )
    return [make_other(label, block)]


def tool_result_text(content: Any) -> str:
    """Return a tool result's content as text; non-text blocks are named in brackets."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces: list[str] = []
        for part in convert_content(content):
            if isinstance(part, TextPart):
                pieces.append(part.text)
            elif isinstance(part, OtherPart):
                pieces.append(f"[{part.note}]")
            elif isinstance(part, ToolResultPart):
                pieces.append(part.content)
            elif isinstance(part, ReasoningPart):
                pieces.append(part.text)
            else:
                pieces.append(f"[tool call {part.name}({part.arguments})]")
        return "\n\n".join(pieces)
    return json.dumps(content, ensure_ascii=False)


def convert_tool_call(raw: Any) -> Part:
    """Convert an OpenAI tool call (or a LangChain one with ``args``) to a part."""
    if isinstance(raw, dict):
        function = raw.get("function")
        call_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            arguments = encode_arguments(function.get("arguments", ""))
            return ToolCallPart(id=call_id, name=function["name"], arguments=arguments)
        if isinstance(raw.get("name"), str) and "args" in raw:
            return ToolCallPart(
                id=call_id, name=raw["name"], arguments=encode_arguments(raw["args"])
            )
    return make_other("tool call without a function name", raw)


def optional_string(raw: dict[str, Any], key: str) -> str | None:
    """Return ``raw[key]`` when it is a string, else None."""
    value = raw.get(key)
    return value if isinstance(value, str) else None


def convert_chat_message(raw: Any, field: str) -> Message:
    """Convert an OpenAI-style chat message, which may hold Anthropic blocks, to a Message.

    Raises RecordError, naming ``field``, when the message is not an object or
    has no string role. Every other oddity becomes an OtherPart.
    """
    if not isinstance(raw, dict):
        raise RecordError(
            field, f'{describe_found(raw)}; expected a message object with "role" and "content"'
        )
    role = raw.get("role")
    if not isinstance(role, str):
        found = "missing" if role is None and "role" not in raw else describe_found(role)
        raise RecordError(join_field(field, "role"), f'{found}; expected a string such as "user"')

    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning"):
        if isinstance(raw.get(key), str) and raw[key]:
            parts.append(ReasoningPart(text=raw[key]))

    if role in ("tool", "function"):
        call_id = optional_string(raw, "tool_call_id")
        call_ids = raw.get("tool_call_ids")
        if (
            call_id is None
            and isinstance(call_ids, list)
            and call_ids
            and isinstance(call_ids[0], str)
        ):
            call_id = call_ids[0]
        content = tool_result_text(raw.get("content"))
        parts.append(
            ToolResultPart(call_id=call_id, name=optional_string(raw, "name"), content=content)
        )
        return Message(role=role, parts=parts, name=optional_string(raw, "name"))

    parts.extend(convert_content(raw.get("content")))

    function_call = raw.get("function_call")
    if function_call is not None:
        parts.append(convert_tool_call({"function": function_call}))

    tool_calls = raw.get("tool_calls")
    if isinstance(tool_calls, list):
        parts.extend(convert_tool_call(call) for call in tool_calls)
    elif tool_calls is not None:
        parts.append(make_other(f"tool_calls is {type_name(tool_calls)}, not a list", tool_calls))

    return Message(role=role, parts=parts, name=optional_string(raw, "name"))


def convert_chat_messages(raw: Any, field: str) -> list[Message]:
    """Convert a list of chat messages, raising RecordError when ``raw`` is not a list."""
    if not isinstance(raw, list):
        found = "missing" if raw is None else describe_found(raw)
        raise RecordError(field, f"{found}; expected a list of messages")
    return [
        convert_chat_message(message, join_field(field, index)) for index, message in enumerate(raw)
    ]


def split_output(messages: Sequence[Message]) -> tuple[list[Message], Message | None]:
    """Split off the final message as the output when it is an assistant turn."""
    if messages and messages[-1].role == "assistant":
        return list(messages[:-1]), messages[-1]
    return list(messages), None


def system_message(system: Any) -> list[Message]:
    """Convert a separate system prompt (string or blocks) to a leading message, if there is one."""
    if system is None or system == "" or system == []:
        return []
    return [Message(role="system", parts=convert_content(system))]
