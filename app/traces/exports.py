"""Exports of a reviewed dataset: the original file, OpenAI fine-tuning JSONL, normalized JSONL.

Every export takes the dataset and one Review per record, in record order.

``export_original`` writes the file in the format and layout it came in. With
default reviews (each record's own ``review``) it returns the original bytes.
Otherwise only what a review changed is rebuilt:

- JSONL, in any format (openai-chat and claude-code files are usually JSONL):
  unchanged lines are copied byte for byte. A changed line is serialized again
  in the json.dumps style found for that line.
- JSON and pandas tables (langsmith-rows, langsmith-runs, sharegpt, swe-agent,
  anthropic, langfuse, otel-genai): the file is serialized again with the
  json.dumps settings found for it (indent, separators, ASCII escaping, and the
  escaped "/" of pandas). A file written by Python's json.dumps or by pandas'
  ``to_json`` then stays byte-equal outside the edited fields. Every real
  sample file of these formats is of this kind.
- Only JSON-equal: JSON whose layout no such setting reproduces, such as files
  from other tools (sorted keys, other number formatting), numbers written as
  ``1e5``, or pandas tables with floats that pandas prints differently from
  Python (``0.0000001`` against ``1e-07``). Such files are written with indent
  2 and non-ASCII text kept. A key repeated in one object keeps its last value.
- otel-genai keeps messages as JSON text inside a span attribute. An edited
  attribute is encoded again in the style found for that text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from traces.edits import edit_of, replace_output_text
from traces.json_style import escape_lone_surrogates
from traces.model import Message, Record, Review, TextPart, ToolCallPart, ToolResultPart
from traces.problems import Problem
from traces.readers import DatasetSource, LoadedDataset

# Roles that OpenAI fine-tuning accepts, and what other roles become.
FINETUNE_ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}


def check_review_count(dataset: LoadedDataset, reviews: Sequence[Review]) -> None:
    """Raise ValueError unless there is exactly one review per record."""
    if len(reviews) != len(dataset.records):
        raise ValueError(
            f"Cannot export {dataset.name}: got {len(reviews)} reviews for "
            f"{len(dataset.records)} records; expected one review per record"
        )


def apply_review(record: Record, review: Review) -> Record:
    """Return a copy of the record with the review set and an edited output applied.

    The edit replaces the output's text parts, and goes before the tool calls
    when the output has none. A record without an output gets an assistant
    output holding the edit.
    """
    update: dict[str, Any] = {"review": review.model_copy(deep=True)}
    edit = edit_of(record, review)
    if edit is not None:
        if record.output is not None:
            update["output"] = replace_output_text(record.output, edit)
        else:
            update["output"] = Message(role="assistant", parts=[TextPart(text=edit)])
    return record.model_copy(update=update)


def write_original(
    dataset: LoadedDataset, reviews: Sequence[Review]
) -> tuple[bytes, list[Problem]]:
    """Build the original-format file and list the edits that the format had no place for."""
    check_review_count(dataset, reviews)
    source: DatasetSource = dataset.source
    result = source.trace_format.write(
        source.document, source.record_sources, dataset.records, reviews
    )
    return source.document.render(result.changes), result.unstored


def export_original(dataset: LoadedDataset, reviews: Sequence[Review]) -> bytes:
    """Write the dataset in the format and layout it came in, with the reviews applied.

    Edited outputs are written where the format stores the final assistant
    text. The status is written only where the format has a status field (the
    demo's run rows); other formats keep their own fields and gain none. Records
    the reader rejected are written back unchanged. Edits with no place in the
    format are left out; list_unstored_edits names them.
    """
    data, _ = write_original(dataset, reviews)
    return data


def list_unstored_edits(dataset: LoadedDataset, reviews: Sequence[Review]) -> list[Problem]:
    """List the edited outputs that export_original cannot store in the file's format.

    An example is a ShareGPT record whose final turn is a function_call: the
    turn has no field for text.
    """
    _, unstored = write_original(dataset, reviews)
    return unstored


def export_normalized_jsonl(dataset: LoadedDataset, reviews: Sequence[Review]) -> bytes:
    """Write one normalized record per line, with its review; the output stays as read.

    The corrected text is in ``review.edited_output``, so both the original and
    the correction are kept.
    """
    check_review_count(dataset, reviews)
    lines = []
    for record, review in zip(dataset.records, reviews):
        reviewed = record.model_copy(update={"review": review.model_copy(deep=True)})
        lines.append(escape_lone_surrogates(json.dumps(reviewed.model_dump(mode="json"), ensure_ascii=False)) + "\n")
    return "".join(lines).encode("utf-8")


def export_openai_finetune(dataset: LoadedDataset, reviews: Sequence[Review]) -> bytes:
    """Write OpenAI chat fine-tuning JSONL: one line per Accepted record.

    Each line is ``{"messages": [...], "tools": [...]}`` (tools only when the
    record has them). The final assistant message carries the corrected text
    and its tool calls. Tool calls get ids where the source had none, and each
    tool result becomes a "tool" message with the id of its call. Reasoning parts and
    fallback parts (images, unknown blocks) are left out, because the record
    keeps only a preview of them. A tool result without a matching call becomes
    a user message.
    """
    check_review_count(dataset, reviews)
    lines = []
    for record, review in zip(dataset.records, reviews):
        if review.status != "Accepted":
            continue
        reviewed = apply_review(record, review)
        conversation = list(reviewed.messages)
        if reviewed.output is not None:
            conversation.append(reviewed.output)

        line: dict[str, Any] = {"messages": to_openai_messages(conversation)}
        tools = to_openai_tools(record.tools)
        if tools:
            line["tools"] = tools
        lines.append(escape_lone_surrogates(json.dumps(line, ensure_ascii=False)) + "\n")
    return "".join(lines).encode("utf-8")


def to_openai_messages(conversation: Sequence[Message]) -> list[dict[str, Any]]:
    """Convert normalized messages to OpenAI chat messages with paired tool calls and results."""
    result: list[dict[str, Any]] = []
    # Calls without a result yet, and every call id written so far.
    open_calls: list[str] = []
    written_calls: set[str] = set()
    made_ids = 0

    def make_call_id() -> str:
        nonlocal made_ids
        made_ids += 1
        while f"call_{made_ids}" in written_calls:
            made_ids += 1
        return f"call_{made_ids}"

    for message in conversation:
        role = FINETUNE_ROLES.get(message.role, "user")
        text = "\n\n".join(part.text for part in message.parts if isinstance(part, TextPart))
        calls = [part for part in message.parts if isinstance(part, ToolCallPart)]
        results = [part for part in message.parts if isinstance(part, ToolResultPart)]

        for tool_result in results:
            call_id = tool_result.call_id
            if call_id is None and open_calls:
                call_id = open_calls[0]
            if call_id not in written_calls:
                result.append({"role": "user", "content": tool_result.content})
                continue
            if call_id in open_calls:
                open_calls.remove(call_id)
            result.append({"role": "tool", "tool_call_id": call_id, "content": tool_result.content})

        if role == "assistant":
            converted: dict[str, Any] = {
                "role": "assistant",
                "content": text if text or not calls else None,
            }
            if calls:
                converted["tool_calls"] = []
                for call in calls:
                    call_id = call.id or make_call_id()
                    open_calls.append(call_id)
                    written_calls.add(call_id)
                    converted["tool_calls"].append(
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments},
                        }
                    )
        elif role == "tool":
            if results:
                continue
            call_id = open_calls.pop(0) if open_calls else None
            if call_id is None:
                converted = {"role": "user", "content": text}
            else:
                converted = {"role": "tool", "tool_call_id": call_id, "content": text}
        else:
            if results and not text:
                continue
            converted = {"role": role, "content": text}

        if message.name and converted["role"] in ("system", "user", "assistant"):
            converted["name"] = message.name
        result.append(converted)

    return result


def to_openai_tools(tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert tool definitions (OpenAI, legacy functions, Anthropic) to OpenAI's ``tools`` shape."""
    converted: list[dict[str, Any]] = []
    for tool in tools:
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            converted.append(tool)
            continue
        if not isinstance(tool.get("name"), str):
            continue
        function: dict[str, Any] = {"name": tool["name"]}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        parameters = tool.get("parameters", tool.get("input_schema"))
        function["parameters"] = (
            parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}
        )
        converted.append({"type": "function", "function": function})
    return converted
