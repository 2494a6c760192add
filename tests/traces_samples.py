"""Sample trace data shared by the traces tests.

The expected counts for the real files, and small hand-written records in the
documented shapes of the formats that have no real sample file.
"""

import json
from typing import Any

# Expected values were counted by hand from each file: records, tool calls in
# messages and outputs together, and problems (bad lines or records).
REAL_FILES = [
    ("langfree-langsmith/sample_data.json", "langsmith-rows", 4, 0, 0),
    ("langfree-langsmith/sample_data.c4d7f32.json", "langsmith-rows", 4, 0, 0),
    ("foundry-toolcall/stock_toolcall_training.jsonl", "openai-chat", 86, 36, 0),
    ("foundry-toolcall/stock_toolcall_validation.jsonl", "openai-chat", 10, 5, 0),
    ("llama-factory/glaive_toolcall_en_demo.json", "sharegpt", 300, 211, 0),
    ("llama-factory/glaive_toolcall_zh_demo.json", "sharegpt", 300, 216, 0),
    ("llama-factory/kto_en_demo.json", "sharegpt", 300, 0, 0),
    ("claude-code-log/representative_messages.jsonl", "claude-code", 1, 2, 0),
    ("claude-code-log/edge_cases.jsonl", "claude-code", 2, 3, 6),
    ("swe-agent/function_calling_simple.traj", "swe-agent", 1, 5, 0),
    ("swe-agent/marshmallow-code__marshmallow-1867.traj", "swe-agent", 1, 11, 0),
    ("langsmith-sdk/langsmith_py_wrap_openai_.json", "langsmith-runs", 1, 0, 0),
    ("langsmith-sdk/langsmith_py_wrap_openai_reasoning.json", "langsmith-runs", 1, 0, 0),
    ("langsmith-sdk/langsmith_py_wrap_openai_stream.json", "langsmith-runs", 1, 0, 0),
    ("langsmith-sdk/langsmith_py_wrap_openai_stream_no_usage.json", "langsmith-runs", 1, 0, 0),
]


ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": [{"type": "text", "text": "Answer briefly."}],
    "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should call the tool.", "signature": "abc"},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "Rain",
                    "is_error": True,
                }
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "It rains."},
            ],
        },
    ],
}


LANGFUSE_OBSERVATIONS = [
    {
        "id": "obs-1",
        "traceId": "trace-1",
        "type": "GENERATION",
        "name": "answer",
        "model": "gpt-4o-mini",
        "modelParameters": {"temperature": 0},
        "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "output": {"role": "assistant", "content": "Hello!"},
        "usage": {"input": 5, "output": 2, "total": 7},
        "startTime": "2024-05-01T10:00:00Z",
        "endTime": "2024-05-01T10:00:01Z",
    },
    {
        "id": "obs-2",
        "traceId": "trace-1",
        "type": "SPAN",
        "name": "retrieve",
        "input": {"q": "x"},
        "output": None,
    },
    {
        "id": "obs-3",
        "traceId": "trace-1",
        "type": "GENERATION",
        "name": "summary",
        "input": "Summarize",
        "output": "Short.",
    },
]


def otlp_attribute(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


OTEL_INPUT = [
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "parts": [
            {
                "type": "tool_call",
                "id": "call_1",
                "name": "get_weather",
                "arguments": {"city": "Paris"},
            }
        ],
    },
    {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy, 57°F"}],
    },
]
OTEL_OUTPUT = [
    {
        "role": "assistant",
        "parts": [{"type": "text", "content": "It is rainy."}],
        "finish_reason": "stop",
    }
]


def make_otlp_export() -> dict[str, Any]:
    chat_span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "chat gpt-4o",
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "attributes": [
            otlp_attribute("gen_ai.operation.name", "chat"),
            otlp_attribute("gen_ai.request.model", "gpt-4o"),
            otlp_attribute("gen_ai.usage.input_tokens", 42),
            otlp_attribute(
                "gen_ai.system_instructions", json.dumps([{"type": "text", "content": "Be brief."}])
            ),
            otlp_attribute("gen_ai.input.messages", json.dumps(OTEL_INPUT)),
            otlp_attribute("gen_ai.output.messages", json.dumps(OTEL_OUTPUT)),
        ],
    }
    http_span = {
        "traceId": "5b8e",
        "spanId": "aaaa",
        "name": "GET",
        "attributes": [otlp_attribute("http.method", "GET")],
    }
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [{"scope": {"name": "demo"}, "spans": [chat_span, http_span]}],
            }
        ]
    }


def any_value(value: Any) -> dict[str, Any]:
    """Encode a value as an OTLP JSON AnyValue, for spans that store messages in structured form."""
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(item) for item in value]}}
    return {
        "kvlistValue": {
            "values": [{"key": key, "value": any_value(item)} for key, item in value.items()]
        }
    }


def make_structured_otlp_export() -> dict[str, Any]:
    export = make_otlp_export()
    span = export["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"][-1] = {"key": "gen_ai.output.messages", "value": any_value(OTEL_OUTPUT)}
    return export


FLAT_SPANS = [
    {
        "name": "openai.chat",
        "context": {"trace_id": "0x5b8e", "span_id": "0x0001"},
        "attributes": {
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Be brief.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Weather?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": "tool_calls",
            "gen_ai.completion.0.tool_calls.0.id": "call_9",
            "gen_ai.completion.0.tool_calls.0.name": "get_weather",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Oslo"}',
        },
    }
]


LANGCHAIN_RUNS = [
    {
        "id": "run-llm",
        "run_type": "llm",
        "name": "ChatOpenAI",
        "inputs": {
            "messages": [
                [
                    {
                        "lc": 1,
                        "type": "constructor",
                        "id": ["langchain", "schema", "messages", "SystemMessage"],
                        "kwargs": {"content": "Be brief.", "type": "system"},
                    },
                    {
                        "lc": 1,
                        "type": "constructor",
                        "id": ["langchain", "schema", "messages", "HumanMessage"],
                        "kwargs": {"content": "Weather?", "type": "human"},
                    },
                ]
            ]
        },
        "outputs": {
            "generations": [
                [
                    {
                        "text": "",
                        "message": {
                            "lc": 1,
                            "type": "constructor",
                            "id": ["langchain", "schema", "messages", "AIMessage"],
                            "kwargs": {
                                "content": "",
                                "tool_calls": [
                                    {
                                        "name": "get_weather",
                                        "args": {"city": "Oslo"},
                                        "id": "call_7",
                                    }
                                ],
                            },
                        },
                    }
                ]
            ]
        },
    },
    {
        "id": "run-chain",
        "run_type": "chain",
        "name": "AgentExecutor",
        "inputs": {"input": "Weather?"},
        "outputs": {},
    },
]
