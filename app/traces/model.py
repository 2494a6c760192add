"""Normalized trace records that every supported input format converts to.

A record is one conversation under review: the input messages in order, the
output message that the reviewer judges and may correct, metadata that stays
out of the way, and the review itself. Message content is a list of typed parts
(text, tool call, tool result, reasoning, or a readable fallback for anything
else), so the chat view and the exporters never look at a source format.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

Status = Literal["Pending", "Accepted", "Rejected"]
STATUSES: tuple[Status, ...] = ("Pending", "Accepted", "Rejected")


class TextPart(BaseModel):
    """Plain text, kept exactly as the source has it."""

    kind: Literal["text"] = "text"
    text: str


class ToolCallPart(BaseModel):
    """A tool or function call requested by the model."""

    kind: Literal["tool_call"] = "tool_call"
    id: str | None = None
    name: str
    # The arguments text exactly as the source gives it. Formats that store an
    # object (Anthropic tool_use input, ShareGPT function_call) are JSON-encoded
    # with json.dumps(ensure_ascii=False).
    arguments: str

    def parsed_arguments(self) -> tuple[bool, Any]:
        """Parse the arguments: (True, value) for valid JSON, else (False, raw text).

        A JSON string literal such as '"{\\"city\\": \\"Paris\\"}"' counts as
        unparsed, because it is double-encoded text rather than arguments.
        """
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return False, self.arguments

        if isinstance(value, str):
            return False, self.arguments
        return True, value


class ToolResultPart(BaseModel):
    """The result of a tool call, as text."""

    kind: Literal["tool_result"] = "tool_result"
    # The id of the call that produced this result. None when the format has
    # no ids (ShareGPT observations, legacy "function" messages).
    call_id: str | None = None
    name: str | None = None
    content: str
    is_error: bool = False


class ReasoningPart(BaseModel):
    """Model reasoning, shown to the reviewer but not part of the output text."""

    kind: Literal["reasoning"] = "reasoning"
    text: str


class OtherPart(BaseModel):
    """Readable fallback for content that is neither text nor a known block.

    ``note`` describes the content and its size. ``raw`` is a short preview of
    it, never the whole of a large value such as a base64 image.
    """

    kind: Literal["other"] = "other"
    note: str
    raw: str


Part = Annotated[
    TextPart | ToolCallPart | ToolResultPart | ReasoningPart | OtherPart,
    Field(discriminator="kind"),
]


class Message(BaseModel):
    """One chat turn: a role and its content parts in order."""

    role: str
    parts: list[Part]
    name: str | None = None

    @property
    def text(self) -> str:
        """The text parts joined with a blank line."""
        return "\n\n".join(part.text for part in self.parts if isinstance(part, TextPart))


class Review(BaseModel):
    """A reviewer's decision on one record."""

    status: Status = "Pending"
    # The corrected output text; None when the reviewer kept the original.
    edited_output: str | None = None
    labels: list[str] = []
    note: str = ""


class Record(BaseModel):
    """One conversation under review, independent of the file format it came from."""

    # Stable within the file: the source's own id when it has one, else "record-<index>".
    id: str
    # The input conversation in order, the system prompt first when the format
    # stores it in a separate field.
    messages: list[Message]
    # The final assistant turn with any tool calls; None when the conversation
    # does not end with an assistant turn.
    output: Message | None
    # Model, ids, token counts, timestamps and the like, as JSON-safe values.
    metadata: dict[str, Any]
    # Tool definitions, when the format carries them.
    tools: list[dict[str, Any]] = []
    review: Review = Field(default_factory=Review)

    @property
    def output_text(self) -> str:
        """The output's text parts joined, "" when there is no output."""
        if self.output is None:
            return ""
        return self.output.text
