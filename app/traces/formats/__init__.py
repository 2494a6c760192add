"""The supported trace formats, in the order the public names are listed."""

from __future__ import annotations

from traces.formats.base import TraceFormat
from traces.formats.chat import ChatFormat, ShareGptFormat, SweAgentFormat
from traces.formats.claude_code import ClaudeCodeFormat
from traces.formats.langfuse import LangfuseFormat
from traces.formats.langsmith_rows import LangSmithRowsFormat
from traces.formats.langsmith_runs import LangSmithRunsFormat
from traces.formats.otel import OtelGenAiFormat

# The format objects hold no state, so one instance of each serves every file.
ALL_FORMATS: tuple[TraceFormat, ...] = (
    LangSmithRowsFormat(),
    LangSmithRunsFormat(),
    ChatFormat("openai-chat", anthropic=False),
    ChatFormat("anthropic", anthropic=True),
    ShareGptFormat(),
    ClaudeCodeFormat(),
    SweAgentFormat(),
    LangfuseFormat(),
    OtelGenAiFormat(),
)

FORMAT_BY_NAME: dict[str, TraceFormat] = {
    trace_format.name: trace_format for trace_format in ALL_FORMATS
}

# Detection breaks ties in this order: a file that fits a specific format also
# fits the generic OpenAI chat check (a KTO record has "messages" too), so the
# specific formats come first and openai-chat last.
DETECTION_ORDER: tuple[str, ...] = (
    "langsmith-rows",
    "langsmith-runs",
    "claude-code",
    "swe-agent",
    "sharegpt",
    "anthropic",
    "langfuse",
    "otel-genai",
    "openai-chat",
)
