import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from traces import (
    FORMATS,
    LoadedDataset,
    Message,
    OtherPart,
    ReasoningPart,
    Record,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    load_dataset_bytes,
    load_dataset_file,
)

from traces_samples import (
    ANTHROPIC_REQUEST,
    FLAT_SPANS,
    LANGCHAIN_RUNS,
    LANGFUSE_OBSERVATIONS,
    REAL_FILES,
    make_otlp_export,
    make_structured_otlp_export,
)


def all_messages(record: Record) -> list[Message]:
    return record.messages + ([record.output] if record.output is not None else [])


def count_tool_calls(dataset: LoadedDataset) -> int:
    return sum(
        1
        for record in dataset.records
        for message in all_messages(record)
        for part in message.parts
        if isinstance(part, ToolCallPart)
    )


def load_json(value: Any, name: str = "data.json", **options: Any) -> LoadedDataset:
    return load_dataset_bytes(
        json.dumps(value, ensure_ascii=False).encode("utf-8"), name, **options
    )


def load_real(shared_data_dir: Path, relative_path: str) -> LoadedDataset:
    return load_dataset_file(shared_data_dir / relative_path)


# --- Real files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative_path", "format_name", "records", "tool_calls", "problems"), REAL_FILES
)
def test_load_dataset_file_real_counts(
    shared_data_dir: Path,
    relative_path: str,
    format_name: str,
    records: int,
    tool_calls: int,
    problems: int,
) -> None:
    dataset = load_real(shared_data_dir, relative_path)

    assert dataset.format == format_name
    assert len(dataset.records) == records
    assert count_tool_calls(dataset) == tool_calls
    assert len(dataset.problems) == problems


def test_real_files_table_covers_every_data_file(shared_data_dir: Path) -> None:
    data_files = {
        str(path.relative_to(shared_data_dir))
        for path in shared_data_dir.rglob("*")
        if path.is_file() and path.suffix in (".json", ".jsonl", ".traj")
    }

    assert data_files == {row[0] for row in REAL_FILES}


@pytest.mark.parametrize("relative_path", [row[0] for row in REAL_FILES])
def test_load_dataset_file_real_ids_unique(shared_data_dir: Path, relative_path: str) -> None:
    dataset = load_real(shared_data_dir, relative_path)
    ids = [record.id for record in dataset.records]

    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("relative_path", [row[0] for row in REAL_FILES])
def test_load_dataset_file_real_metadata_json_safe(
    shared_data_dir: Path, relative_path: str
) -> None:
    dataset = load_real(shared_data_dir, relative_path)

    for record in dataset.records:
        json.dumps(record.model_dump(mode="json"), allow_nan=False)


def test_load_dataset_file_dataset_id_is_sha256(shared_data_dir: Path) -> None:
    path = shared_data_dir / "langfree-langsmith/sample_data.json"

    dataset = load_dataset_file(path)

    assert dataset.dataset_id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert dataset.name == "sample_data.json"


def test_langsmith_rows_statuses_and_messages(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "langfree-langsmith/sample_data.c4d7f32.json")
    record = dataset.records[0]

    assert [r.review.status for r in dataset.records] == [
        "Accepted",
        "Accepted",
        "Accepted",
        "Pending",
    ]
    assert record.id == "a05e1668-57b4-4e4d-99d9-1f8578ddba5d"
    assert [message.role for message in record.messages] == ["system", "system", "user"]
    assert record.messages[2].text == "How do I use a traceable decorator?"
    assert record.output_text.startswith("The `traceable` decorator")
    assert record.metadata["total_tokens"] == 5848
    assert record.metadata["warnings"] == ["Last Step Not ChatOpenAI"]


def test_langsmith_runs_patch_merged_into_post(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "langsmith-sdk/langsmith_py_wrap_openai_.json")
    record = dataset.records[0]

    assert record.id == "d0d84d31-923d-4cb5-94a8-40a0a0087578"
    assert record.messages[0].text == "howdy"
    assert record.output_text == "Howdy! How can I assist you today?"
    assert record.metadata["model"] == "gpt-4o-mini"
    assert record.metadata["finish_reason"] == "stop"
    assert record.metadata["usage"]["total_tokens"] == 18
    assert record.metadata["end_time"] == "2024-10-11T20:58:24.417106+00:00"


def test_openai_finetune_tool_call_without_content(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "foundry-toolcall/stock_toolcall_validation.jsonl")
    output = dataset.records[0].output

    assert output is not None
    assert output.role == "assistant"
    assert output.parts == [
        ToolCallPart(
            id="call_1",
            name="get_last_nday_stock_price",
            arguments='{"symbol": "GS", "period": "1d"}',
        )
    ]
    assert len(dataset.records[0].tools) == 2


def test_openai_legacy_function_call() -> None:
    conversation = {
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "w", "arguments": "{}"},
            },
            {"role": "function", "name": "w", "content": "Rain"},
            {"role": "assistant", "content": [{"type": "text", "text": "It rains."}]},
        ]
    }

    record = load_json([conversation]).records[0]

    assert record.messages[1].parts == [ToolCallPart(name="w", arguments="{}")]
    assert record.messages[2].parts == [ToolResultPart(name="w", content="Rain")]
    assert record.output_text == "It rains."


def test_sharegpt_function_call_and_observation(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "llama-factory/glaive_toolcall_en_demo.json")
    record = dataset.records[0]
    call = record.messages[3].parts[0]
    result = record.messages[4].parts[0]

    assert [message.role for message in record.messages[:5]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
    ]
    assert isinstance(call, ToolCallPart)
    assert call.name == "search_recipes"
    assert call.parsed_arguments() == (True, {"ingredients": ["chicken", "bell peppers", "rice"]})
    assert isinstance(result, ToolResultPart)
    assert result.name == "search_recipes"
    assert record.tools[0]["name"] == "search_recipes"


def test_sharegpt_chinese_text_kept(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "llama-factory/glaive_toolcall_zh_demo.json")
    raw = json.loads(
        (shared_data_dir / "llama-factory/glaive_toolcall_zh_demo.json").read_text(encoding="utf-8")
    )

    assert dataset.records[0].messages[0].text == raw[0]["conversations"][0]["value"]


def test_sharegpt_kto_label_stays_in_metadata(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "llama-factory/kto_en_demo.json")
    labels = [record.metadata["label"] for record in dataset.records]

    assert labels.count(True) == 150
    assert labels.count(False) == 150
    assert {record.review.status for record in dataset.records} == {"Pending"}


def test_claude_code_sessions_in_file_order(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "claude-code-log/edge_cases.jsonl")
    first, second = dataset.records

    assert first.id == "edge_cases"
    assert second.id == "todowrite_session"
    assert first.metadata["skipped_events"] == {"summary": 1}
    assert first.metadata["event_count"] == 11
    assert first.messages[-1].text == "wow error"
    assert first.output is None
    assert second.messages == []
    assert second.output is not None
    assert second.output.parts[0].kind == "tool_call"


def test_claude_code_malformed_lines_reported(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "claude-code-log/edge_cases.jsonl")

    assert [(problem.location, problem.field) for problem in dataset.problems] == [
        ("line 10", "message.content"),
        ("line 11", "message"),
        ("line 13", None),
        ("line 14", "type"),
        ("line 15", None),
        ("line 16", None),
    ]
    assert dataset.problems[2].message.startswith('found "massive error"; expected')


def test_claude_code_special_characters_kept(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "claude-code-log/edge_cases.jsonl")
    texts = [message.text for message in dataset.records[0].messages]

    assert any(
        "café, naïve, résumé, 中文, العربية, русский, 🎉 emojis 🚀 and symbols ∑∆√π∞" in text
        for text in texts
    )


def test_claude_code_meta_and_system_events_counted() -> None:
    lines = [
        {
            "type": "user",
            "sessionId": "s",
            "isMeta": True,
            "message": {"role": "user", "content": "Caveat"},
        },
        {"type": "system", "sessionId": "s", "content": "Compacted"},
        {"type": "user", "sessionId": "s", "message": {"role": "user", "content": "Hi"}},
        {
            "type": "assistant",
            "sessionId": "s",
            "message": {"role": "assistant", "content": "Hello"},
        },
        {"type": "summary", "summary": "Greeting", "leafUuid": "unknown"},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()

    record = load_dataset_bytes(data, "session.jsonl").records[0]

    assert record.metadata["skipped_events"] == {"meta": 1, "system": 1, "summary": 1}
    assert record.metadata["summaries"] == ["Greeting"]
    assert [message.text for message in record.messages] == ["Hi"]
    assert record.output_text == "Hello"


def test_claude_code_tool_result_paired(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "claude-code-log/representative_messages.jsonl")
    messages = dataset.records[0].messages
    call = messages[3].parts[0]
    result = messages[4].parts[0]

    assert isinstance(call, ToolCallPart)
    assert isinstance(result, ToolResultPart)
    assert result.call_id == call.id
    assert dataset.records[0].metadata["skipped_events"] == {"summary": 1}


def test_swe_agent_tool_call_ids_list(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "swe-agent/function_calling_simple.traj")
    messages = dataset.records[0].messages
    call = messages[2].parts[-1]
    result = messages[3].parts[0]

    assert isinstance(call, ToolCallPart)
    assert call.name == "find_file"
    assert isinstance(result, ToolResultPart)
    assert result.call_id == call.id == "call_PbWErNIge3YTrli3fiVvmIid"


def test_swe_agent_metadata(shared_data_dir: Path) -> None:
    dataset = load_real(shared_data_dir, "swe-agent/marshmallow-code__marshmallow-1867.traj")
    record = dataset.records[0]

    assert record.id == "marshmallow-code__marshmallow-1867"
    assert record.metadata["exit_status"] == "submitted"
    assert record.metadata["trajectory_steps"] == 11
    assert record.metadata["submission"].startswith("\r\ndiff --git")


# --- Formats without real files: small fixtures of the documented shapes ------


def test_anthropic_blocks_converted() -> None:
    dataset = load_json([ANTHROPIC_REQUEST])
    record = dataset.records[0]
    thinking, call = record.messages[2].parts
    result = record.messages[3].parts[0]

    assert dataset.format == "anthropic"
    assert record.messages[0] == Message(role="system", parts=[TextPart(text="Answer briefly.")])
    assert thinking == ReasoningPart(text="I should call the tool.")
    assert call == ToolCallPart(id="toolu_1", name="get_weather", arguments='{"city": "Paris"}')
    assert result == ToolResultPart(call_id="toolu_1", content="Rain", is_error=True)
    assert record.output_text == "It rains."
    assert isinstance(record.output.parts[0], OtherPart)
    assert record.metadata == {"model": "claude-sonnet-4-5", "max_tokens": 1024}


def test_langfuse_generations_become_records() -> None:
    dataset = load_json({"data": LANGFUSE_OBSERVATIONS, "meta": {"page": 1}})

    assert dataset.format == "langfuse"
    assert [record.id for record in dataset.records] == ["obs-1", "obs-3"]
    assert dataset.skipped == {"SPAN observation": 1}
    assert dataset.records[0].output_text == "Hello!"
    assert dataset.records[0].metadata["usage"] == {"input": 5, "output": 2, "total": 7}
    assert dataset.records[1].messages[0].text == "Summarize"
    assert dataset.records[1].output_text == "Short."


def test_otel_semantic_convention_messages() -> None:
    dataset = load_json(make_otlp_export(), "spans.json")
    record = dataset.records[0]

    assert dataset.format == "otel-genai"
    assert dataset.skipped == {"span without gen_ai attributes": 1}
    assert record.id == "eee19b7ec3c1b174"
    assert [message.role for message in record.messages] == ["system", "user", "assistant", "tool"]
    assert record.messages[2].parts[0] == ToolCallPart(
        id="call_1", name="get_weather", arguments='{"city": "Paris"}'
    )
    assert record.messages[3].parts[0] == ToolResultPart(call_id="call_1", content="rainy, 57°F")
    assert record.output_text == "It is rainy."
    assert record.metadata["gen_ai.usage.input_tokens"] == 42
    assert record.metadata["finish_reason"] == "stop"


def test_otel_structured_attribute_values() -> None:
    dataset = load_json(make_structured_otlp_export(), "spans.json")

    assert dataset.records[0].output_text == "It is rainy."
    assert dataset.records[0].metadata["finish_reason"] == "stop"


def test_otel_flattened_attributes() -> None:
    dataset = load_json(FLAT_SPANS, "flat.json")
    record = dataset.records[0]

    assert dataset.format == "otel-genai"
    assert record.id == "0x0001"
    assert [message.text for message in record.messages] == ["Be brief.", "Weather?"]
    assert record.output is not None
    assert record.output.parts == [
        ToolCallPart(id="call_9", name="get_weather", arguments='{"city": "Oslo"}')
    ]
    assert record.metadata["finish_reason"] == "tool_calls"


def test_otel_jsonl_of_exports() -> None:
    lines = json.dumps(make_otlp_export()) + "\n" + json.dumps(make_otlp_export()) + "\n"

    dataset = load_dataset_bytes(lines.encode(), "spans.jsonl")

    assert dataset.format == "otel-genai"
    assert [record.id for record in dataset.records] == ["eee19b7ec3c1b174", "eee19b7ec3c1b174#2"]


def test_langsmith_runs_langchain_messages() -> None:
    dataset = load_json(LANGCHAIN_RUNS, "runs.json")
    record = dataset.records[0]

    assert dataset.format == "langsmith-runs"
    assert dataset.skipped == {"chain run": 1}
    assert [message.role for message in record.messages] == ["system", "user"]
    assert record.output is not None
    assert record.output.parts == [
        ToolCallPart(id="call_7", name="get_weather", arguments='{"city": "Oslo"}')
    ]


# --- Detection -----------------------------------------------------------------


def test_formats_lists_every_name() -> None:
    assert FORMATS == (
        "langsmith-rows",
        "langsmith-runs",
        "openai-chat",
        "anthropic",
        "sharegpt",
        "claude-code",
        "swe-agent",
        "langfuse",
        "otel-genai",
    )


DETECTION_CASES = [
    pytest.param([{"messages": [{"role": "user", "content": "Hi"}]}], "openai-chat", id="openai"),
    pytest.param(
        [{"system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}]}],
        "anthropic",
        id="anthropic-system",
    ),
    pytest.param(
        [{"conversations": [{"from": "human", "value": "Hi"}]}], "sharegpt", id="sharegpt"
    ),
    pytest.param(
        [{"messages": [{"role": "user", "content": "Hi"}], "label": False}], "sharegpt", id="kto"
    ),
    pytest.param(
        {"history": [{"role": "user", "content": "Hi", "agent": "main"}]},
        "swe-agent",
        id="swe-agent",
    ),
    pytest.param(
        [{"child_run": {"inputs": [], "output": {"role": "assistant", "content": "x"}}}],
        "langsmith-rows",
        id="rows",
    ),
    pytest.param(
        {"post": [{"id": "r1", "run_type": "llm", "inputs": {"messages": []}, "outputs": {}}]},
        "langsmith-runs",
        id="ingest",
    ),
]


@pytest.mark.parametrize(("value", "expected"), DETECTION_CASES)
def test_load_dataset_bytes_detects_format(value: Any, expected: str) -> None:
    assert load_json(value).format == expected


def test_load_dataset_bytes_format_overrides_detection() -> None:
    kto = [
        {
            "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
            "label": True,
        }
    ]

    dataset = load_json(kto, format="openai-chat")

    assert dataset.format == "openai-chat"
    assert dataset.records[0].metadata == {"label": True}


def test_load_dataset_bytes_unknown_format() -> None:
    with pytest.raises(ValueError) as caught:
        load_json([{"messages": []}], format="csv")

    assert "Unknown trace format 'csv'" in str(caught.value)
    assert '"openai-chat"' in str(caught.value)


# --- Model ---------------------------------------------------------------------

ARGUMENT_CASES = [
    pytest.param('{"city": "Paris"}', (True, {"city": "Paris"}), id="object"),
    pytest.param("[1, 2]", (True, [1, 2]), id="list"),
    pytest.param("{bad json", (False, "{bad json"), id="invalid"),
    pytest.param(
        '"{\\"city\\": \\"Paris\\"}"', (False, '"{\\"city\\": \\"Paris\\"}"'), id="string-literal"
    ),
    pytest.param("", (False, ""), id="empty"),
]


@pytest.mark.parametrize(("arguments", "expected"), ARGUMENT_CASES)
def test_tool_call_parsed_arguments(arguments: str, expected: tuple[bool, Any]) -> None:
    part = ToolCallPart(name="f", arguments=arguments)

    assert part.parsed_arguments() == expected


def test_message_text_joins_text_parts() -> None:
    message = Message(
        role="assistant",
        parts=[TextPart(text="One"), ToolCallPart(name="f", arguments="{}"), TextPart(text="Two")],
    )

    assert message.text == "One\n\nTwo"


def test_record_output_text_without_output() -> None:
    record = Record(id="r", messages=[], output=None, metadata={})

    assert record.output_text == ""
    assert record.review.status == "Pending"
