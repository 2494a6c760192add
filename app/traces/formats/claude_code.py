"""Claude Code transcripts: JSONL with one event per line, grouped into one record per session.

User and assistant events carry an Anthropic message in ``message``. Claude Code
writes one line per content block of an assistant reply, all with the same
``message.id``, so consecutive lines with one id are joined into one message.
Summary and meta events are not chat turns: they are skipped and counted in the
session's metadata. Lines that are not usable events become problems.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from traces.documents import Change, Document, Item
from traces.edits import edit_of, is_text_block, store_text_in_content
from traces.formats.base import (
    SAMPLE_SIZE,
    IdAllocator,
    Match,
    ReadResult,
    TraceFormat,
    WriteResult,
    build_record,
    count_skipped,
    explain_unstored,
    problem_for_item,
)
from traces.model import Message, Part, Record, Review
from traces.parts import TOOL_USE_BLOCK_TYPES, convert_content, get_block_type
from traces.problems import Problem, describe_found

CHAT_EVENT_TYPES = ("user", "assistant")
EXPECTED_TYPE = 'expected "user", "assistant" or "summary"'


@dataclass
class Event:
    """One user or assistant line of a session."""

    item: Item
    role: str
    parts: list[Part]
    message_id: str | None


@dataclass
class Session:
    """The events of one sessionId in file order, and what was skipped."""

    session_id: str
    events: list[Event] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    summaries: list[str] = field(default_factory=list)


def is_transcript_event(value: dict[str, Any]) -> bool:
    """Tell whether an object looks like a Claude Code transcript line."""
    event_type = value.get("type")
    if event_type in CHAT_EVENT_TYPES:
        return "sessionId" in value and "message" in value
    return event_type == "summary" and "leafUuid" in value


class ClaudeCodeFormat(TraceFormat):
    """Claude Code transcript JSONL."""

    name = "claude-code"
    expected = 'a transcript event object with "type", "sessionId" and "message"'
    missing = 'no line with "type" "user" or "assistant", a "sessionId" and a "message"'

    def check(self, document: Document) -> Match:
        sample = [item.value for item in document.items() if isinstance(item.value, dict)][
            :SAMPLE_SIZE
        ]
        return Match(sum(1 for value in sample if is_transcript_event(value)), self.missing)

    def read(self, document: Document) -> ReadResult:
        result = ReadResult(problems=list(document.line_problems))
        sessions: dict[str, Session] = {}
        session_by_uuid: dict[str, Session] = {}
        summaries: list[Item] = []

        for item in document.items():
            problem = problem_for_item(item, self.expected)
            if problem is None:
                problem = self.add_event(item, sessions, session_by_uuid, summaries, result.skipped)
            if problem is not None:
                result.problems.append(problem)

        # A summary names the last message it covers. One that matches no
        # message is counted in the first session.
        for item in summaries:
            leaf_uuid = item.value.get("leafUuid")
            session = session_by_uuid.get(leaf_uuid) if isinstance(leaf_uuid, str) else None
            if session is None and sessions:
                session = next(iter(sessions.values()))
            if session is None:
                count_skipped(result.skipped, "summary event")
                continue
            count_skipped(session.skipped, "summary")
            if isinstance(item.value.get("summary"), str):
                session.summaries.append(item.value["summary"])

        ids = IdAllocator()
        for session in sessions.values():
            if not session.events:
                for kind, count in session.skipped.items():
                    result.skipped[f"{kind} event"] = result.skipped.get(f"{kind} event", 0) + count
                continue
            record, output_items = build_session_record(session)
            record.id = ids.claim(record.id)
            result.records.append(record)
            result.sources.append(output_items)

        return result

    def add_event(
        self,
        item: Item,
        sessions: dict[str, Session],
        session_by_uuid: dict[str, Session],
        summaries: list[Item],
        skipped: dict[str, int],
    ) -> Problem | None:
        """File one line under its session; return the line's problem, if it has one."""
        value = item.value
        event_type = value.get("type")
        if not isinstance(event_type, str):
            found = "missing" if "type" not in value else describe_found(event_type)
            return Problem(item.location, "type", f"{found}; {EXPECTED_TYPE}")
        if event_type == "summary":
            summaries.append(item)
            return None

        session_id = value.get("sessionId")
        if event_type not in CHAT_EVENT_TYPES:
            # System events, file snapshots and the like carry no chat turn.
            if isinstance(session_id, str):
                count_skipped(
                    sessions.setdefault(session_id, Session(session_id)).skipped, event_type
                )
            else:
                count_skipped(skipped, f"{event_type} event")
            return None
        if not isinstance(session_id, str):
            found = "missing" if "sessionId" not in value else describe_found(session_id)
            return Problem(
                item.location, "sessionId", f"{found}; expected the session id as a string"
            )

        session = sessions.setdefault(session_id, Session(session_id))
        if value.get("isMeta") is True:
            count_skipped(session.skipped, "meta")
            return None

        message = value.get("message")
        if not isinstance(message, dict):
            found = "missing" if "message" not in value else describe_found(message)
            return Problem(
                item.location,
                "message",
                f'{found}; expected a message object with "role" and "content"',
            )
        if "content" not in message:
            return Problem(
                item.location,
                "message.content",
                "missing; expected a string or a list of content blocks",
            )

        role = message["role"] if isinstance(message.get("role"), str) else event_type
        message_id = message.get("id") if isinstance(message.get("id"), str) else None
        session.events.append(Event(item, role, convert_content(message["content"]), message_id))
        if isinstance(value.get("uuid"), str):
            session_by_uuid[value["uuid"]] = session
        return None

    def write(
        self,
        document: Document,
        sources: Sequence[Any],
        records: Sequence[Record],
        reviews: Sequence[Review],
    ) -> WriteResult:
        result = WriteResult()
        for output_items, record, review in zip(sources, records, reviews):
            edit = edit_of(record, review)
            if edit is None:
                continue
            if not output_items:
                reason = explain_unstored("the session has no output message")
                result.unstored.append(Problem(f"session {record.id}", None, reason))
                continue
            changes = store_session_edit(output_items, edit)
            if changes is None:
                reason = explain_unstored("the output message content is not text or a block list")
                result.unstored.append(Problem(f"session {record.id}", None, reason))
                continue
            result.changes.extend(changes)
        return result


def build_session_record(session: Session) -> tuple[Record, list[Item]]:
    """Build a session's record and return it with the lines that hold its output."""
    groups: list[tuple[Message, list[Event]]] = []
    for event in session.events:
        if groups and event.role == "assistant" and event.message_id is not None:
            last_message, last_events = groups[-1]
            if last_message.role == "assistant" and last_events[-1].message_id == event.message_id:
                last_message.parts.extend(event.parts)
                last_events.append(event)
                continue
        groups.append((Message(role=event.role, parts=list(event.parts)), [event]))

    first = session.events[0].item.value
    last = session.events[-1].item.value
    assistant_messages = [
        event.item.value["message"] for event in session.events if event.role == "assistant"
    ]
    metadata: dict[str, Any] = {
        "sessionId": session.session_id,
        "cwd": first.get("cwd"),
        "version": first.get("version"),
        "gitBranch": first.get("gitBranch"),
        "first_timestamp": first.get("timestamp"),
        "last_timestamp": last.get("timestamp"),
        "model": next(
            (m.get("model") for m in reversed(assistant_messages) if m.get("model")), None
        ),
        "usage": sum_usage(session.events),
        "event_count": len(session.events),
        "skipped_events": dict(session.skipped) or None,
        "summaries": session.summaries or None,
    }

    record = build_record(session.session_id, [message for message, _ in groups], metadata)
    output_items = [event.item for event in groups[-1][1]] if record.output is not None else []
    return record, output_items


def sum_usage(events: Sequence[Event]) -> dict[str, int] | None:
    """Add up token counts over the assistant messages, counting each message id once."""
    totals: dict[str, int] = {}
    seen: set[str] = set()
    for event in events:
        message = event.item.value["message"]
        usage = message.get("usage")
        if event.role != "assistant" or not isinstance(usage, dict):
            continue
        if event.message_id is not None:
            if event.message_id in seen:
                continue
            seen.add(event.message_id)
        for key, count in usage.items():
            if isinstance(count, int) and not isinstance(count, bool):
                totals[key] = totals.get(key, 0) + count
    return totals or None


def store_session_edit(items: Sequence[Item], edit: str) -> list[Change] | None:
    """Write an edited output over the lines of the output message; None when no line can take it.

    The first line with text takes the edit and later text blocks are removed.
    With no text at all, a text block goes before the first tool_use block.
    """
    messages = [copy.deepcopy(item.value["message"]) for item in items]

    def has_text(message: dict[str, Any]) -> bool:
        content = message.get("content")
        return isinstance(content, str) or (
            isinstance(content, list) and any(is_text_block(b) for b in content)
        )

    def has_tool_use(message: dict[str, Any]) -> bool:
        content = message.get("content")
        return isinstance(content, list) and any(
            get_block_type(block) in TOOL_USE_BLOCK_TYPES for block in content
        )

    def can_take_text(message: dict[str, Any]) -> bool:
        return isinstance(message.get("content"), (str, list)) or message.get("content") is None

    target = next((index for index, message in enumerate(messages) if has_text(message)), None)
    if target is None:
        target = next(
            (index for index, message in enumerate(messages) if has_tool_use(message)), None
        )
    if target is None:
        target = next(
            (index for index, message in enumerate(messages) if can_take_text(message)), None
        )
    if target is None:
        return None

    for index, message in enumerate(messages):
        if index == target:
            store_text_in_content(message, edit)
        elif has_text(message) and isinstance(message.get("content"), list):
            store_text_in_content(message, "")

    return [
        Change(item, ("message", "content"), message["content"])
        for item, message in zip(items, messages)
        if message["content"] != item.value["message"]["content"]
    ]
