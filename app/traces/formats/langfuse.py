"""Langfuse observations: each GENERATION observation becomes a record.

An observation is ``{id, traceId, type, name, model, modelParameters, input,
output, usage, metadata, startTime, endTime, ...}``. ``input`` and ``output``
are free-form JSON, usually OpenAI-shaped messages, sometimes a plain string or
an application object. Files hold a list of observations, JSONL, one
observation, or the public API's ``{data: [...], meta: {...}}`` response.
"""

from __future__ import annotations

from typing import Any

from traces.documents import Document, Item
from traces.edits import store_text_in_content
from traces.formats.base import (
    ItemFormat,
    SkipItem,
    explain_unstored,
    make_json_safe,
    pick_id,
    tool_list,
)
from traces.formats.langsmith_runs import first_choice_message
from traces.model import Message, Record, TextPart
from traces.parts import (
    convert_chat_message,
    convert_chat_messages,
    convert_content,
    make_other,
    system_message,
)

# Observation types that Langfuse defines; only GENERATION records a model call.
OBSERVATION_TYPES = frozenset(
    {
        "GENERATION",
        "SPAN",
        "EVENT",
        "AGENT",
        "TOOL",
        "CHAIN",
        "RETRIEVER",
        "EVALUATOR",
        "EMBEDDING",
        "GUARDRAIL",
    }
)

METADATA_KEYS = (
    "id",
    "traceId",
    "parentObservationId",
    "name",
    "model",
    "modelParameters",
    "usage",
    "usageDetails",
    "costDetails",
    "startTime",
    "endTime",
    "completionStartTime",
    "level",
    "statusMessage",
    "promptName",
    "metadata",
)


def is_message_list(value: Any) -> bool:
    """Tell whether a value is a non-empty list of objects that all have a "role"."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and "role" in item for item in value)
    )


def convert_free_input(value: Any) -> list[Message]:
    """Convert a free-form generation input to messages."""
    if value is None:
        return []
    if isinstance(value, str):
        return [Message(role="user", parts=[TextPart(text=value)])]
    if is_message_list(value):
        return convert_chat_messages(value, "input")
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            return system_message(value.get("system")) + convert_chat_messages(
                value["messages"], "input.messages"
            )
        if "role" in value:
            return [convert_chat_message(value, "input")]
    return [
        Message(
            role="user",
            parts=(
                convert_content(value)
                if isinstance(value, list)
                else [make_other("input object", value)]
            ),
        )
    ]


def convert_free_output(value: Any) -> Message | None:
    """Convert a free-form generation output to the output message."""
    if value is None:
        return None
    if isinstance(value, str):
        return Message(role="assistant", parts=[TextPart(text=value)])
    if isinstance(value, dict):
        message = first_choice_message(value)
        if message is not None:
            return convert_chat_message(
                {**message, "role": message.get("role") or "assistant"}, "output.choices[0].message"
            )
        if "role" in value or "content" in value:
            return convert_chat_message(
                {**value, "role": value.get("role") or "assistant"}, "output"
            )
    if is_message_list(value):
        return convert_chat_message(value[-1], f"output[{len(value) - 1}]")
    return Message(
        role="assistant", parts=[make_other("output in a shape without a message", value)]
    )


def output_message(output: Any) -> dict[str, Any] | None:
    """Return the raw message inside a free-form output where an edit can be written."""
    if isinstance(output, dict):
        message = first_choice_message(output)
        if message is not None:
            return message
        if "role" in output or "content" in output:
            return output
    if is_message_list(output):
        return output[-1]
    return None


class LangfuseFormat(ItemFormat):
    """Langfuse observations exported from the UI or the public API."""

    name = "langfuse"
    expected = 'an observation object with "type", "input" and "output"'
    missing = 'no observation with "type", "traceId" and "input" or "output"'

    def items(self, document: Document) -> list[Item]:
        root = document.root if document.kind == "json" else None
        if isinstance(root, dict) and isinstance(root.get("data"), list):
            file_item = Item("file", 0, root)
            return [
                file_item.child(f"record {index}", index, "data", index)
                for index in range(len(root["data"]))
            ]
        return document.items()

    def matches(self, value: dict[str, Any]) -> bool:
        observation_type = value.get("type")
        return (
            isinstance(observation_type, str)
            and observation_type.upper() in OBSERVATION_TYPES
            and ("traceId" in value or "trace_id" in value)
            and ("input" in value or "output" in value)
        )

    def convert(self, value: dict[str, Any], index: int) -> Record:
        observation_type = value.get("type")
        if not isinstance(observation_type, str) or observation_type.upper() != "GENERATION":
            raise SkipItem(f"{observation_type} observation")

        input_value = value.get("input")
        metadata = {key: value.get(key) for key in METADATA_KEYS}
        metadata["traceId"] = metadata["traceId"] or value.get("trace_id")
        tools = tool_list(input_value.get("tools")) if isinstance(input_value, dict) else []

        return Record(
            id=pick_id(value.get("id"), index),
            messages=convert_free_input(input_value),
            output=convert_free_output(value.get("output")),
            metadata=make_json_safe(
                {key: item for key, item in metadata.items() if item is not None}
            ),
            tools=tools,
        )

    def store_edit(self, value: dict[str, Any], record: Record, edit: str) -> str | None:
        output = value.get("output")
        if isinstance(output, str):
            value["output"] = edit
            return None

        message = output_message(output)
        if message is None or not store_text_in_content(message, edit):
            return explain_unstored("the observation's output has no text field")
        return None
