"""OpenTelemetry GenAI spans: each span with gen_ai messages becomes a record.

Spans come as OTLP JSON (``{resourceSpans: [{scopeSpans: [{spans: [...]}]}]}``,
whose attributes are ``[{key, value: {stringValue: ...}}]`` lists), one per file
or one per JSONL line, or as plain span objects whose ``attributes`` is an
object. Messages are read from the current semantic conventions
(``gen_ai.input.messages`` / ``gen_ai.output.messages``, JSON text of
``{role, parts: [...]}``) or from the older flattened attributes
``gen_ai.prompt.N.*`` and ``gen_ai.completion.N.*``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from traces.documents import Document, Item
from traces.json_style import JsonStyle, detect_style
from traces.formats.base import (
    ItemFormat,
    SkipItem,
    explain_unstored,
    make_json_safe,
    pick_id,
    tool_list,
)
from traces.model import (
    Message,
    Part,
    ReasoningPart,
    Record,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from traces.parts import convert_content, encode_arguments, make_other
from traces.problems import RecordError, describe_found, join_field

INPUT_KEY = "gen_ai.input.messages"
OUTPUT_KEY = "gen_ai.output.messages"
SYSTEM_KEY = "gen_ai.system_instructions"
TOOLS_KEY = "gen_ai.tool.definitions"
FLAT_KEY = re.compile(r"gen_ai\.(prompt|completion)\.(\d+)\.(.+)")

# Attribute value fields of OTLP JSON, and how to read them.
ANY_VALUE_FIELDS = (
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
)


def decode_any_value(value: Any) -> Any:
    """Decode an OTLP JSON AnyValue such as ``{"intValue": "12"}``."""
    if not isinstance(value, dict):
        return value
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "arrayValue" in value:
        values = (
            value["arrayValue"].get("values", []) if isinstance(value["arrayValue"], dict) else []
        )
        return [decode_any_value(item) for item in values]
    if "kvlistValue" in value:
        entries = (
            value["kvlistValue"].get("values", []) if isinstance(value["kvlistValue"], dict) else []
        )
        return {
            entry.get("key"): decode_any_value(entry.get("value"))
            for entry in entries
            if isinstance(entry, dict)
        }
    for key in ANY_VALUE_FIELDS:
        if key in value:
            return value[key]
    return None


def read_attributes(span: dict[str, Any]) -> dict[str, Any]:
    """Return a span's attributes as a plain object, from either attribute layout."""
    attributes = span.get("attributes")
    if isinstance(attributes, dict):
        return attributes
    if isinstance(attributes, list):
        return {
            entry["key"]: decode_any_value(entry.get("value"))
            for entry in attributes
            if isinstance(entry, dict) and isinstance(entry.get("key"), str)
        }
    return {}


def encode_any_value(value: Any) -> dict[str, Any]:
    """Encode a plain value as an OTLP JSON AnyValue, the inverse of decode_any_value."""
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        # OTLP JSON writes 64-bit integers as strings.
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [encode_any_value(item) for item in value]}}
    if isinstance(value, dict):
        entries = [{"key": key, "value": encode_any_value(item)} for key, item in value.items()]
        return {"kvlistValue": {"values": entries}}
    return {}


def write_attribute(span: dict[str, Any], key: str, value: Any) -> None:
    """Set an attribute in place, in the layout the span already uses."""
    attributes = span.get("attributes")
    if isinstance(attributes, list):
        for entry in attributes:
            if isinstance(entry, dict) and entry.get("key") == key:
                entry["value"] = encode_any_value(value)
                return
        attributes.append({"key": key, "value": encode_any_value(value)})
    else:
        span.setdefault("attributes", {})[key] = value


def parse_json_attribute(value: Any) -> Any:
    """Parse an attribute whose value is JSON text; other values are returned unchanged."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def convert_part(part: Any) -> Part:
    """Convert one semantic-convention message part."""
    if not isinstance(part, dict):
        return (
            TextPart(text=part)
            if isinstance(part, str)
            else make_other("message part is not an object", part)
        )

    part_type = part.get("type")
    content = part.get("content")
    if part_type == "text" and isinstance(content, str):
        return TextPart(text=content)
    if part_type == "reasoning" and isinstance(content, str):
        return ReasoningPart(text=content)
    if part_type == "tool_call" and isinstance(part.get("name"), str):
        call_id = part.get("id") if isinstance(part.get("id"), str) else None
        return ToolCallPart(
            id=call_id, name=part["name"], arguments=encode_arguments(part.get("arguments", {}))
        )
    if part_type == "tool_call_response":
        call_id = part.get("id") if isinstance(part.get("id"), str) else None
        response = part.get("response")
        return ToolResultPart(
            call_id=call_id,
            content=response if isinstance(response, str) else encode_arguments(response),
        )
    return make_other(f'message part of type "{part_type}"', part)


def convert_message(raw: Any, field: str) -> Message:
    """Convert a semantic-convention message ``{role, parts, name?}``."""
    if not isinstance(raw, dict):
        raise RecordError(
            field, f'{describe_found(raw)}; expected a message object with "role" and "parts"'
        )
    role = raw.get("role")
    if not isinstance(role, str):
        found = "missing" if "role" not in raw else describe_found(role)
        raise RecordError(join_field(field, "role"), f'{found}; expected a string such as "user"')

    parts_value = raw.get("parts")
    if isinstance(parts_value, list):
        parts = [convert_part(part) for part in parts_value]
    else:
        parts = convert_content(raw.get("content"))
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    return Message(role=role, parts=parts, name=name)


def convert_message_list(value: Any, key: str) -> list[Message]:
    """Convert the JSON text (or list) of a messages attribute."""
    parsed = parse_json_attribute(value)
    if not isinstance(parsed, list):
        raise RecordError(key, f"{describe_found(value)}; expected JSON text of a list of messages")
    return [
        convert_message(message, join_field(key, index)) for index, message in enumerate(parsed)
    ]


def collect_flat_messages(attributes: dict[str, Any], kind: str) -> list[Message]:
    """Build messages from flattened ``gen_ai.prompt.N.*`` or ``gen_ai.completion.N.*`` attributes."""
    grouped: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        match = FLAT_KEY.fullmatch(key)
        if match and match.group(1) == kind:
            grouped.setdefault(int(match.group(2)), {})[match.group(3)] = value

    messages: list[Message] = []
    for number in sorted(grouped):
        fields = grouped[number]
        role = (
            fields.get("role")
            if isinstance(fields.get("role"), str)
            else ("assistant" if kind == "completion" else "user")
        )
        content = fields.get("content")
        parts: list[Part]
        if role == "tool":
            text = content if isinstance(content, str) else encode_arguments(content)
            parts = [ToolResultPart(call_id=fields.get("tool_call_id"), content=text)]
        else:
            parts = convert_content(content)

        calls: dict[int, dict[str, Any]] = {}
        for name, value in fields.items():
            call_match = re.fullmatch(r"tool_calls\.(\d+)\.(\w+)", name)
            if call_match:
                calls.setdefault(int(call_match.group(1)), {})[call_match.group(2)] = value
        for position in sorted(calls):
            call = calls[position]
            call_id = call.get("id") if isinstance(call.get("id"), str) else None
            parts.append(
                ToolCallPart(
                    id=call_id,
                    name=str(call.get("name", "")),
                    arguments=encode_arguments(call.get("arguments", "")),
                )
            )
        messages.append(Message(role=role, parts=parts))
    return messages


class OtelGenAiFormat(ItemFormat):
    """OpenTelemetry spans that follow the GenAI semantic conventions."""

    name = "otel-genai"
    expected = 'a span object with "attributes"'
    missing = 'no span with gen_ai.* attributes, and no OTLP "resourceSpans"'

    def items(self, document: Document) -> list[Item]:
        spans: list[Item] = []
        for item in document.items():
            value = item.value
            if not (isinstance(value, dict) and isinstance(value.get("resourceSpans"), list)):
                spans.append(item)
                continue
            prefix = "span" if item.location == "file" else f"{item.location} span"
            number = 0
            for resource_index, resource in enumerate(value["resourceSpans"]):
                scope_key = (
                    "scopeSpans"
                    if isinstance(resource, dict) and "scopeSpans" in resource
                    else "instrumentationLibrarySpans"
                )
                scopes = resource.get(scope_key) if isinstance(resource, dict) else None
                for scope_index, scope in enumerate(scopes if isinstance(scopes, list) else []):
                    span_list = scope.get("spans") if isinstance(scope, dict) else None
                    for span_index in range(len(span_list) if isinstance(span_list, list) else 0):
                        path = (
                            "resourceSpans",
                            resource_index,
                            scope_key,
                            scope_index,
                            "spans",
                            span_index,
                        )
                        spans.append(item.child(f"{prefix} {number}", len(spans), *path))
                        number += 1
        return spans

    def matches(self, value: dict[str, Any]) -> bool:
        return any(key.startswith("gen_ai.") for key in read_attributes(value))

    def convert(self, value: dict[str, Any], index: int) -> Record:
        attributes = read_attributes(value)
        if not any(key.startswith("gen_ai.") for key in attributes):
            raise SkipItem("span without gen_ai attributes")

        messages: list[Message] = []
        if SYSTEM_KEY in attributes:
            system_parts = parse_json_attribute(attributes[SYSTEM_KEY])
            parts = (
                [convert_part(part) for part in system_parts]
                if isinstance(system_parts, list)
                else convert_content(system_parts)
            )
            messages.append(Message(role="system", parts=parts))
        if INPUT_KEY in attributes:
            messages += convert_message_list(attributes[INPUT_KEY], INPUT_KEY)
        else:
            messages += collect_flat_messages(attributes, "prompt")

        if OUTPUT_KEY in attributes:
            choices = convert_message_list(attributes[OUTPUT_KEY], OUTPUT_KEY)
        else:
            choices = collect_flat_messages(attributes, "completion")
        if not messages and not choices:
            raise SkipItem("span without gen_ai messages")

        finish_reason = attributes.get("gen_ai.completion.0.finish_reason")
        raw_choices = parse_json_attribute(attributes.get(OUTPUT_KEY))
        if isinstance(raw_choices, list) and raw_choices and isinstance(raw_choices[0], dict):
            finish_reason = raw_choices[0].get("finish_reason", finish_reason)

        context = value.get("context") if isinstance(value.get("context"), dict) else {}
        span_id = value.get("spanId") or context.get("span_id")
        metadata: dict[str, Any] = {
            "name": value.get("name"),
            "traceId": value.get("traceId") or context.get("trace_id"),
            "spanId": span_id,
            "parentSpanId": value.get("parentSpanId") or value.get("parent_id"),
            "startTime": value.get("startTimeUnixNano") or value.get("start_time"),
            "endTime": value.get("endTimeUnixNano") or value.get("end_time"),
            "status": value.get("status"),
            "finish_reason": finish_reason,
            "choice_count": len(choices) if len(choices) > 1 else None,
        }
        for key, item in attributes.items():
            if (
                key.startswith("gen_ai.")
                and key not in (INPUT_KEY, OUTPUT_KEY, SYSTEM_KEY, TOOLS_KEY)
                and not FLAT_KEY.fullmatch(key)
            ):
                metadata[key] = item

        return Record(
            id=pick_id(span_id, index),
            messages=messages,
            output=choices[0] if choices else None,
            metadata=make_json_safe(
                {key: item for key, item in metadata.items() if item is not None}
            ),
            tools=tool_list(parse_json_attribute(attributes.get(TOOLS_KEY))),
        )

    def store_edit(self, value: dict[str, Any], record: Record, edit: str) -> str | None:
        attributes = read_attributes(value)
        if OUTPUT_KEY in attributes:
            original = attributes[OUTPUT_KEY]
            parsed = parse_json_attribute(original)
            if (
                isinstance(parsed, list)
                and parsed
                and isinstance(parsed[0], dict)
                and isinstance(parsed[0].get("parts"), list)
            ):
                parsed[0]["parts"] = replace_text_parts(parsed[0]["parts"], edit)
                write_attribute(value, OUTPUT_KEY, encode_like(original, parsed))
                return None
        elif any(
            FLAT_KEY.fullmatch(key) and key.startswith("gen_ai.completion.0.") for key in attributes
        ):
            write_attribute(value, "gen_ai.completion.0.content", edit)
            return None
        return explain_unstored("the span has no output message with parts")


def replace_text_parts(parts: list[Any], edit: str) -> list[Any]:
    """Replace a message's text parts; with none, a new one goes before the first tool call."""
    result: list[Any] = []
    placed = False
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "text":
            if not placed and edit:
                result.append({**part, "content": edit})
            placed = True
            continue
        result.append(part)
    if not placed and edit:
        position = next(
            (
                index
                for index, part in enumerate(result)
                if isinstance(part, dict) and part.get("type") == "tool_call"
            ),
            len(result),
        )
        result.insert(position, {"type": "text", "content": edit})
    return result


def encode_like(original: Any, value: Any) -> Any:
    """Encode a value as JSON text in the style of the original attribute text; keep a list a list."""
    if not isinstance(original, str):
        return value
    style = detect_style(original, parse_json_attribute(original))
    if not style.exact:
        style = JsonStyle(indent=None, separators=(", ", ": "))
    return style.dumps(value)
