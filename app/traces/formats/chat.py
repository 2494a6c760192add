"""Chat-message formats: OpenAI chat and fine-tuning, Anthropic Messages, ShareGPT, SWE-agent.

All four store a conversation per item. OpenAI and Anthropic items share one
converter (parts.convert_chat_message reads both content families) and differ
only in how they are detected; ShareGPT has its own turn shape; SWE-agent keeps
an OpenAI-style ``history`` inside each trajectory file.
"""

from __future__ import annotations

import json
from typing import Any

from traces.formats.base import (
    ItemFormat,
    build_record,
    explain_unstored,
    last_message,
    pick_id,
    tool_list,
)
from traces.model import Message, Part, Record, TextPart, ToolCallPart, ToolResultPart
from traces.parts import (
    convert_chat_messages,
    convert_content,
    encode_arguments,
    get_block_type,
    make_other,
    system_message,
)
from traces.problems import RecordError, describe_found, join_field

# Content block types that only the Anthropic Messages API uses.
ANTHROPIC_BLOCK_TYPES = frozenset({"tool_use", "tool_result", "thinking", "redacted_thinking"})


def has_anthropic_markers(value: dict[str, Any]) -> bool:
    """Tell whether an item with ``messages`` has a sign of the Anthropic Messages shape."""
    if "system" in value:
        return True

    tools = value.get("tools")
    if isinstance(tools, list) and any(
        isinstance(tool, dict) and "input_schema" in tool for tool in tools
    ):
        return True

    for message in value.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            if get_block_type(block) in ANTHROPIC_BLOCK_TYPES:
                return True
            if block.get("type") == "image" and "source" in block:
                return True
    return False


def assistant_output(messages: Any) -> dict[str, Any] | None:
    """Return the last raw message when it is an assistant turn."""
    message = last_message(messages)
    if message is not None and message.get("role") == "assistant":
        return message
    return None


class ChatFormat(ItemFormat):
    """OpenAI chat or Anthropic Messages items: ``{system?, messages, tools?, ...}``."""

    def __init__(self, name: str, *, anthropic: bool) -> None:
        self.name = name
        self.anthropic = anthropic
        if anthropic:
            self.expected = 'an object with "messages" (a list of messages) and optionally "system"'
            self.missing = (
                'no object with a "messages" list and a top-level "system" or Anthropic '
                "content blocks (tool_use, tool_result, thinking)"
            )
        else:
            self.expected = 'an object with "messages" (a list of messages)'
            self.missing = 'no object with a "messages" list'

    def matches(self, value: dict[str, Any]) -> bool:
        if not isinstance(value.get("messages"), list):
            return False
        return has_anthropic_markers(value) if self.anthropic else True

    def convert(self, value: dict[str, Any], index: int) -> Record:
        conversation = system_message(value.get("system"))
        conversation += convert_chat_messages(value.get("messages"), "messages")

        metadata = {
            key: item for key, item in value.items() if key not in ("messages", "system", "tools")
        }
        record_id = pick_id(value.get("id", value.get("custom_id")), index)
        tools = tool_list(value.get("tools")) or tool_list(value.get("functions"))
        return build_record(record_id, conversation, metadata, tools)

    def output_message(self, value: dict[str, Any]) -> dict[str, Any] | None:
        return assistant_output(value.get("messages"))


class SweAgentFormat(ItemFormat):
    """SWE-agent trajectories: ``{history, trajectory, info, environment, replay_config}``."""

    name = "swe-agent"
    expected = 'a trajectory object with "history" (a list of messages)'
    missing = 'no object with a "history" list of messages'

    def matches(self, value: dict[str, Any]) -> bool:
        history = value.get("history")
        if not isinstance(history, list):
            return False
        if "trajectory" in value or "info" in value:
            return True
        return any(isinstance(message, dict) and "agent" in message for message in history[:5])

    def convert(self, value: dict[str, Any], index: int) -> Record:
        conversation = convert_chat_messages(value.get("history"), "history")

        info = value.get("info") if isinstance(value.get("info"), dict) else {}
        trajectory = value.get("trajectory")
        instance_id = find_instance_id(value.get("replay_config"))
        metadata = {
            "instance_id": instance_id,
            "environment": value.get("environment"),
            "exit_status": info.get("exit_status"),
            "submission": info.get("submission"),
            "model_stats": info.get("model_stats"),
            "trajectory_steps": len(trajectory) if isinstance(trajectory, list) else None,
        }
        return build_record(pick_id(instance_id, index), conversation, metadata)

    def output_message(self, value: dict[str, Any]) -> dict[str, Any] | None:
        return assistant_output(value.get("history"))


def find_instance_id(replay_config: Any) -> str | None:
    """Return the task id from a replay_config (older SWE-agent versions store it as JSON text)."""
    if isinstance(replay_config, str):
        try:
            replay_config = json.loads(replay_config)
        except ValueError:
            return None
    if not isinstance(replay_config, dict):
        return None
    statement = replay_config.get("problem_statement")
    if isinstance(statement, dict) and isinstance(statement.get("id"), str):
        return statement["id"]
    return None


# ShareGPT speaker names (the "from" field) and the roles they become.
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}
EXPECTED_SPEAKERS = '"human", "gpt", "system", "function_call" or "observation"'


class ShareGptFormat(ItemFormat):
    """ShareGPT ``{conversations: [{from, value}], system?, tools?}`` and KTO ``{messages, label}``."""

    name = "sharegpt"
    expected = 'an object with "conversations" (a list of {"from", "value"} turns)'
    missing = 'no object with a "conversations" list, or with "messages" and a true/false "label"'

    def matches(self, value: dict[str, Any]) -> bool:
        if isinstance(value.get("conversations"), list):
            return True
        return isinstance(value.get("messages"), list) and isinstance(value.get("label"), bool)

    def convert(self, value: dict[str, Any], index: int) -> Record:
        conversation: list[Message] = []
        if isinstance(value.get("system"), str) and value["system"]:
            conversation.append(Message(role="system", parts=[TextPart(text=value["system"])]))

        if "conversations" in value:
            conversation += convert_turns(value["conversations"])
        else:
            conversation += convert_chat_messages(value.get("messages"), "messages")

        metadata = {
            key: item
            for key, item in value.items()
            if key not in ("conversations", "messages", "system", "tools")
        }
        tools = tool_list(value.get("tools"))
        raw_tools = value.get("tools")
        if not tools and isinstance(raw_tools, str) and raw_tools.strip() not in ("", "[]"):
            # Kept where the reviewer can see it, because it is not a JSON list of tools.
            metadata["tools_unparsed"] = raw_tools
        return build_record(pick_id(value.get("id"), index), conversation, metadata, tools)

    def store_edit(self, value: dict[str, Any], record: Record, edit: str) -> str | None:
        if "conversations" not in value:
            return super().store_edit(value, record, edit)

        turn = last_message(value["conversations"])
        speaker = turn.get("from") if turn is not None else None
        if turn is None or record.output is None:
            return explain_unstored("the record has no output turn")
        if speaker == "function_call":
            return explain_unstored(
                "the final turn is a function_call, which has no field for text"
            )
        turn["value"] = edit
        return None

    def output_message(self, value: dict[str, Any]) -> dict[str, Any] | None:
        return assistant_output(value.get("messages"))


def convert_turns(turns: Any) -> list[Message]:
    """Convert ShareGPT turns to messages; observations are named after the call before them."""
    if not isinstance(turns, list):
        raise RecordError("conversations", f"{describe_found(turns)}; expected a list of turns")

    messages: list[Message] = []
    last_call_name: str | None = None
    for index, turn in enumerate(turns):
        field = join_field("conversations", index)
        if not isinstance(turn, dict):
            raise RecordError(
                field, f'{describe_found(turn)}; expected a turn object with "from" and "value"'
            )
        speaker = turn.get("from")
        if not isinstance(speaker, str):
            found = "missing" if "from" not in turn else describe_found(speaker)
            raise RecordError(
                join_field(field, "from"), f"{found}; expected one of {EXPECTED_SPEAKERS}"
            )

        text = turn.get("value")
        role = SHAREGPT_ROLES.get(speaker, speaker)
        parts: list[Part]
        if speaker == "function_call":
            parts = convert_function_call(text)
            names = [part.name for part in parts if isinstance(part, ToolCallPart)]
            last_call_name = names[-1] if names else None
        elif role == "tool":
            content = text if isinstance(text, str) else encode_arguments(text)
            parts = [ToolResultPart(name=last_call_name, content=content)]
        else:
            parts = convert_content(text)
        messages.append(Message(role=role, parts=parts))

    return messages


def convert_function_call(text: Any) -> list[Part]:
    """Convert a function_call turn's value: JSON text of {"name", "arguments"}, or of a list of them."""
    value = text
    if isinstance(text, str):
        try:
            value = json.loads(text)
        except ValueError:
            return [make_other('function_call value is not JSON with "name" and "arguments"', text)]

    calls = value if isinstance(value, list) else [value]
    parts: list[Part] = []
    for call in calls:
        if isinstance(call, dict) and isinstance(call.get("name"), str):
            parts.append(
                ToolCallPart(
                    name=call["name"], arguments=encode_arguments(call.get("arguments", {}))
                )
            )
        else:
            parts.append(
                make_other('function_call value is not JSON with "name" and "arguments"', call)
            )
    return parts
