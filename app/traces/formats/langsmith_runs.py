"""LangSmith runs: a list of run objects, or an ingest payload ``{post: [run], patch: [run]}``.

A patch updates the posted run with its id, and each run of type "llm" becomes
a record. Inputs are OpenAI-style or LangChain-serialized messages, and outputs
an OpenAI completion, LangChain generations or an Anthropic message.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from traces.documents import Change, Document, Item
from traces.edits import edit_of, store_text_in_content
from traces.formats.base import (
    SAMPLE_SIZE,
    IdAllocator,
    Match,
    ReadResult,
    TraceFormat,
    WriteResult,
    count_skipped,
    explain_unstored,
    make_json_safe,
    pick_id,
    problem_for_item,
    tool_list,
)
from traces.model import Message, Record, Review, TextPart
from traces.parts import (
    convert_chat_message,
    convert_chat_messages,
    make_other,
    system_message,
)
from traces.problems import Problem, RecordError, describe_found


@dataclass
class RunSource:
    """A run merged from its post and patches, with the items that hold it in the file."""

    item: Item
    merged: dict[str, Any]
    # The item whose "outputs" field the merged run uses, where an edit is written.
    outputs_item: Item
    patch_items: list[Item] = field(default_factory=list)


class LangSmithRunsFormat(TraceFormat):
    """LangSmith runs: a list of run objects, or an ingest payload ``{post: [run], patch: [run]}``."""

    name = "langsmith-runs"
    expected = 'a run object with "id", "run_type", "inputs" and "outputs"'
    missing = 'no run with "run_type" and "inputs", and no {"post": [...], "patch": [...]} payload'

    def split_items(self, document: Document) -> tuple[list[Item], list[Item]]:
        """Return the posted runs and the patches; a plain run list has no patches."""
        root = document.root if document.kind == "json" else None
        if not is_ingest_payload(root):
            return document.items(), []

        file_item = Item("file", 0, root)
        lists: dict[str, list[Item]] = {"post": [], "patch": []}
        index = 0
        for key, items in lists.items():
            runs = root.get(key)
            for position in range(len(runs) if isinstance(runs, list) else 0):
                items.append(file_item.child(f"{key} record {position}", index, key, position))
                index += 1
        return lists["post"], lists["patch"]

    def check(self, document: Document) -> Match:
        posts, patches = self.split_items(document)
        sample = [item.value for item in posts + patches if isinstance(item.value, dict)][
            :SAMPLE_SIZE
        ]
        if patches or is_ingest_payload(document.root if document.kind == "json" else None):
            score = len(sample)
        else:
            score = sum(
                1
                for value in sample
                if "run_type" in value and ("inputs" in value or "outputs" in value)
            )
        return Match(score, self.missing)

    def read(self, document: Document) -> ReadResult:
        result = ReadResult(problems=list(document.line_problems))
        posts, patches = self.split_items(document)
        runs = collect_runs(posts, patches, result.problems, self.expected)
        ids = IdAllocator()

        for index, source in enumerate(runs):
            run_type = source.merged.get("run_type")
            if not isinstance(run_type, str):
                found = "missing" if run_type is None else describe_found(run_type)
                message = f'{found}; expected "llm", "chain", "tool" or another LangSmith run type'
                result.problems.append(Problem(source.item.location, "run_type", message))
                continue
            if run_type != "llm":
                count_skipped(result.skipped, f"{run_type} run")
                continue
            try:
                record = convert_run(source.merged, index)
            except RecordError as error:
                result.problems.append(Problem(source.item.location, error.field, error.message))
                continue
            record.id = ids.claim(record.id)
            result.records.append(record)
            result.sources.append(source)

        return result

    def write(
        self,
        document: Document,
        sources: Sequence[Any],
        records: Sequence[Record],
        reviews: Sequence[Review],
    ) -> WriteResult:
        result = WriteResult()
        for source, record, review in zip(sources, records, reviews):
            edit = edit_of(record, review)
            if edit is None:
                continue
            outputs = copy.deepcopy(source.outputs_item.value.get("outputs"))
            if (
                record.output is None
                or not isinstance(outputs, dict)
                or not store_run_output(outputs, edit)
            ):
                reason = explain_unstored("the run's outputs have no text field")
                result.unstored.append(Problem(source.outputs_item.location, "outputs", reason))
                continue
            result.changes.append(Change(source.outputs_item, ("outputs",), outputs))
        return result


def is_ingest_payload(root: Any) -> bool:
    """Tell whether a JSON value is an ingest payload: an object with a "post" or "patch" list."""
    if not isinstance(root, dict) or "run_type" in root:
        return False
    return any(isinstance(root.get(key), list) for key in ("post", "patch"))


def collect_runs(
    posts: list[Item], patches: list[Item], problems: list[Problem], expected: str
) -> list[RunSource]:
    """Merge each patch into the posted run with the same id, keeping the posts' order."""
    runs: dict[str, RunSource] = {}
    for item in posts:
        problem = problem_for_item(item, expected)
        if problem is not None:
            problems.append(problem)
            continue
        run_id = item.value.get("id")
        key = run_id if isinstance(run_id, str) else f"#{item.index}"
        runs[key] = RunSource(item=item, merged=dict(item.value), outputs_item=item)

    for item in patches:
        problem = problem_for_item(item, expected)
        if problem is not None:
            problems.append(problem)
            continue
        run_id = item.value.get("id")
        source = runs.get(run_id) if isinstance(run_id, str) else None
        if source is None:
            message = (
                f'{describe_found(run_id)}; expected the id of a run in "post", '
                "because a patch updates a posted run"
            )
            problems.append(Problem(item.location, "id", message))
            continue
        source.merged.update(item.value)
        source.patch_items.append(item)
        if "outputs" in item.value:
            source.outputs_item = item

    return list(runs.values())


# LangChain message classes and "type" names, and the chat roles they stand for.
LANGCHAIN_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "function",
}


def langchain_to_openai(raw: Any) -> Any:
    """Return a LangChain-serialized message in OpenAI shape; other values are returned unchanged.

    Reads the constructor form ``{"lc": 1, "id": [..., "AIMessage"], "kwargs": {...}}``
    and the dict form ``{"type": "ai", "data": {...}}`` or ``{"type": "ai", "content": ...}``.
    """
    if not isinstance(raw, dict) or "role" in raw:
        return raw

    if (
        raw.get("lc") == 1
        and isinstance(raw.get("kwargs"), dict)
        and isinstance(raw.get("id"), list)
    ):
        fields = raw["kwargs"]
        class_name = str(raw["id"][-1]) if raw["id"] else ""
        kind = class_name.removesuffix("MessageChunk").removesuffix("Message").lower()
    elif isinstance(raw.get("type"), str) and ("data" in raw or "content" in raw):
        fields = raw["data"] if isinstance(raw.get("data"), dict) else raw
        kind = raw["type"]
    else:
        return raw

    role = fields.get("role") if kind == "chat" else LANGCHAIN_ROLES.get(kind.lower(), kind.lower())
    message: dict[str, Any] = {"role": role, "content": fields.get("content")}
    for key in ("name", "tool_call_id"):
        if isinstance(fields.get(key), str):
            message[key] = fields[key]

    extra = (
        fields.get("additional_kwargs") if isinstance(fields.get("additional_kwargs"), dict) else {}
    )
    if fields.get("tool_calls"):
        message["tool_calls"] = fields["tool_calls"]
    elif extra.get("tool_calls"):
        message["tool_calls"] = extra["tool_calls"]
    if extra.get("function_call"):
        message["function_call"] = extra["function_call"]
    return message


def convert_run_inputs(inputs: Any) -> list[Message]:
    """Convert a run's inputs (chat messages, LangChain messages or prompts) to messages."""
    if inputs is None:
        return []
    if not isinstance(inputs, dict):
        return [Message(role="user", parts=[make_other("inputs is not an object", inputs)])]

    messages = system_message(inputs.get("system"))
    raw_messages = inputs.get("messages")
    if (
        isinstance(raw_messages, list)
        and raw_messages
        and all(isinstance(batch, list) for batch in raw_messages)
    ):
        # LangChain chat models log a batch: a list of conversations. Reviews cover the first.
        raw_messages = raw_messages[0]

    if isinstance(raw_messages, list):
        converted = [langchain_to_openai(message) for message in raw_messages]
        return messages + convert_chat_messages(converted, "inputs.messages")

    prompts = inputs.get("prompts")
    if isinstance(prompts, list):
        return messages + [
            Message(role="user", parts=[TextPart(text=str(prompt))]) for prompt in prompts
        ]
    for key in ("prompt", "input"):
        if isinstance(inputs.get(key), str):
            return messages + [Message(role="user", parts=[TextPart(text=inputs[key])])]

    return messages + [
        Message(role="user", parts=[make_other("inputs without messages or prompts", inputs)])
    ]


def first_generation(outputs: dict[str, Any]) -> dict[str, Any] | None:
    """Return the first generation of ``outputs.generations``, which may be nested one list deeper."""
    generations = outputs.get("generations")
    while isinstance(generations, list) and generations:
        generations = generations[0]
    return generations if isinstance(generations, dict) else None


def first_choice_message(outputs: dict[str, Any]) -> dict[str, Any] | None:
    """Return ``outputs.choices[0].message`` when it is an object."""
    choices = outputs.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict):
            return message
    return None


def convert_run_outputs(outputs: Any) -> Message | None:
    """Convert a run's outputs (OpenAI completion, LangChain generation, Anthropic message)."""
    if not isinstance(outputs, dict) or not outputs:
        return None

    message = first_choice_message(outputs)
    if message is not None:
        return convert_chat_message(
            {**message, "role": message.get("role") or "assistant"}, "outputs.choices[0].message"
        )

    generation = first_generation(outputs)
    if generation is not None:
        raw = langchain_to_openai(generation.get("message"))
        if isinstance(raw, dict) and raw.get("role"):
            return convert_chat_message(raw, "outputs.generations[0].message")
        if isinstance(generation.get("text"), str):
            return Message(role="assistant", parts=[TextPart(text=generation["text"])])

    if "content" in outputs and outputs.get("role", "assistant") == "assistant":
        return convert_chat_message({**outputs, "role": "assistant"}, "outputs")
    if isinstance(outputs.get("output"), str):
        return Message(role="assistant", parts=[TextPart(text=outputs["output"])])
    return Message(
        role="assistant", parts=[make_other("outputs in a shape without a message", outputs)]
    )


def store_run_output(outputs: dict[str, Any], edit: str) -> bool:
    """Write an edited output into a copy of a run's outputs; False when they have no text field."""
    message = first_choice_message(outputs)
    if message is not None:
        return store_text_in_content(message, edit)

    generation = first_generation(outputs)
    if generation is not None:
        stored = False
        if isinstance(generation.get("text"), str):
            generation["text"] = edit
            stored = True
        raw = generation.get("message")
        if isinstance(raw, dict):
            fields = raw.get("kwargs") or raw.get("data") or raw
            if isinstance(fields, dict) and "content" in fields:
                stored = store_text_in_content(fields, edit) or stored
        return stored

    if "content" in outputs:
        return store_text_in_content(outputs, edit)
    if isinstance(outputs.get("output"), str):
        outputs["output"] = edit
        return True
    return False


def convert_run(run: dict[str, Any], index: int) -> Record:
    """Convert a merged llm run to a record."""
    inputs = run.get("inputs")
    outputs = run.get("outputs") if isinstance(run.get("outputs"), dict) else {}
    extra = run.get("extra") if isinstance(run.get("extra"), dict) else {}
    run_metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    inputs_dict = inputs if isinstance(inputs, dict) else {}

    choices = outputs.get("choices")
    first_choice = (
        choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    )
    llm_output = outputs.get("llm_output") if isinstance(outputs.get("llm_output"), dict) else {}
    metadata = {
        "name": run.get("name"),
        "run_type": run.get("run_type"),
        "trace_id": run.get("trace_id"),
        "parent_run_id": run.get("parent_run_id"),
        "start_time": run.get("start_time"),
        "end_time": run.get("end_time"),
        "error": run.get("error"),
        "model": inputs_dict.get("model")
        or run_metadata.get("ls_model_name")
        or outputs.get("model"),
        "provider": run_metadata.get("ls_provider"),
        "usage": outputs.get("usage_metadata")
        or outputs.get("usage")
        or llm_output.get("token_usage"),
        "finish_reason": first_choice.get("finish_reason"),
        "tags": run.get("tags") or None,
        "session_name": run.get("session_name"),
    }

    invocation = (
        extra.get("invocation_params") if isinstance(extra.get("invocation_params"), dict) else {}
    )
    tools = tool_list(inputs_dict.get("tools")) or tool_list(inputs_dict.get("functions"))
    tools = tools or tool_list(invocation.get("tools"))

    return Record(
        id=pick_id(run.get("id"), index),
        messages=convert_run_inputs(inputs),
        output=convert_run_outputs(outputs),
        metadata=make_json_safe(
            {key: value for key, value in metadata.items() if value is not None}
        ),
        tools=tools,
    )
