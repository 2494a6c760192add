"""Render a conversation as a stack of message cards, one card per message.

Text from a dataset is untrusted: markdown is rendered with raw HTML disabled, so a `<script>` or an
`<img onerror=...>` in a message is shown as text, and every other string goes through htmltools,
which escapes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from htmltools import Tag, TagList, tags
from markdown_it import MarkdownIt
from shiny import ui
from traces.model import Message, OtherPart, Part, ReasoningPart, TextPart, ToolCallPart, ToolResultPart

# "commonmark" turns raw HTML on by default; switching it off makes markdown-it escape it. Its link
# validator already drops javascript:, vbscript: and file: URLs. Images are switched off because an
# image URL from the data would be fetched as soon as the record is shown (a tracking pixel, and a
# request that leaves the site); `![alt](url)` then renders as a plain link.
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


def open_links_in_new_tab(renderer, tokens, index, options, env):
    """Render a link so that following it never replaces the review page."""
    tokens[index].attrSet("target", "_blank")
    tokens[index].attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, index, options, env)


MARKDOWN.add_render_rule("link_open", open_links_in_new_tab)

# A role from the data becomes a CSS class only through this pattern, so that a role such as
# "user d-none" cannot add Bootstrap classes that hide or restyle the card.
UNSAFE_CLASS_CHARACTERS = re.compile(r"[^a-z0-9_-]+")

# Messages longer than this many characters, and system prompts, start collapsed so that a retrieved
# document of several pages does not push the question off the screen.
COLLAPSE_AFTER_CHARS = 2000

ROLE_TITLES = {
    "system": "SYSTEM",
    "developer": "DEVELOPER",
    "user": "USER",
    "assistant": "ASSISTANT",
    "function": "FUNCTION RESULTS",
    "tool": "TOOL RESULTS",
}


def role_class(role: str) -> str:
    """Return a role reduced to one safe CSS class suffix, such as "user" or "other"."""
    return UNSAFE_CLASS_CHARACTERS.sub("-", role.lower()).strip("-")[:32] or "other"


def render_markdown(text: str) -> ui.HTML:
    """Render markdown to HTML with raw HTML escaped."""
    return ui.HTML(MARKDOWN.render(text))


def message_title(message: Message) -> str:
    """Return the card header for a message, such as "USER" or "ASSISTANT - Function Call"."""
    has_calls = any(isinstance(part, ToolCallPart) for part in message.parts)
    if message.role == "assistant" and has_calls:
        return "ASSISTANT - Function Call"
    title = ROLE_TITLES.get(message.role, message.role.upper())
    if message.name and message.role in ("function", "tool", "user"):
        title = f"{title} · {message.name}"
    return title


def render_tool_call(part: ToolCallPart) -> Tag:
    """Render a call as `name(arguments)` with the arguments pretty-printed when they are JSON."""
    parsed, value = part.parsed_arguments()
    if parsed:
        arguments = json.dumps(value, indent=2, ensure_ascii=False)
        badge = None
    else:
        arguments = part.arguments
        badge = tags.span("unparsed arguments", class_="badge text-bg-warning ms-2")

    return tags.div(
        tags.div(
            tags.span("Tool call", class_="part-label"),
            tags.code(part.name, class_="ms-1"),
            tags.small(part.id, class_="text-muted ms-2") if part.id else None,
            badge,
        ),
        tags.pre(tags.code(f"{part.name}({arguments})"), class_="function-call"),
        class_="tool-call",
        data_call_id=part.id or "",
    )


def render_tool_result(part: ToolResultPart, call_name: str | None = None) -> Tag:
    """Render a tool result with the name and id of the call that produced it.

    `call_name` is the name of the call with the result's id, shown when the result has no name.
    """
    label = "Error from" if part.is_error else "Result of"
    name = part.name or call_name
    return tags.div(
        tags.div(
            tags.span(label, class_="part-label"),
            tags.code(name, class_="ms-1") if name else None,
            tags.small(part.call_id, class_="text-muted ms-2") if part.call_id else None,
        ),
        tags.pre(part.content, class_="tool-result-content"),
        class_="tool-result" + (" tool-error" if part.is_error else ""),
        data_call_id=part.call_id or "",
    )


def render_part(part: Part, call_names: Mapping[str, str]) -> Tag | ui.HTML:
    """Render one part of a message; `call_names` maps call ids to the names of the calls."""
    if isinstance(part, TextPart):
        return render_markdown(part.text)
    if isinstance(part, ToolCallPart):
        return render_tool_call(part)
    if isinstance(part, ToolResultPart):
        return render_tool_result(part, call_names.get(part.call_id or ""))
    if isinstance(part, ReasoningPart):
        return tags.details(
            tags.summary(f"Reasoning ({len(part.text):,} characters)"),
            tags.pre(part.text, class_="reasoning"),
            class_="reasoning-part",
        )
    if isinstance(part, OtherPart):
        return tags.div(
            tags.p(part.note, class_="text-muted fst-italic mb-1"),
            tags.pre(part.raw),
            class_="other-part",
        )
    return tags.pre(repr(part))


def message_length(message: Message) -> int:
    """Return the number of characters in a message's text and tool parts."""
    total = 0
    for part in message.parts:
        if isinstance(part, (TextPart, ReasoningPart)):
            total += len(part.text)
        elif isinstance(part, ToolCallPart):
            total += len(part.arguments)
        elif isinstance(part, ToolResultPart):
            total += len(part.content)
    return total


def render_message_body(message: Message, call_names: Mapping[str, str]) -> TagList:
    """Render a message's parts in order, or a placeholder for a message with none."""
    if not message.parts:
        return TagList(tags.p("(empty message)", class_="text-muted fst-italic"))
    return TagList(*(render_part(part, call_names) for part in message.parts))


def render_message(message: Message, call_names: Mapping[str, str] | None = None) -> Tag:
    """Render one message as a card whose header names the role."""
    body = render_message_body(message, call_names or {})
    length = message_length(message)
    if message.role == "system" or length > COLLAPSE_AFTER_CHARS:
        body = tags.details(tags.summary(f"Show message ({length:,} characters)"), body)

    return tags.div(
        tags.div(message_title(message), class_="card-header"),
        tags.div(body, class_="card-body"),
        class_=f"card message-card role-{role_class(message.role)}",
    )


def render_conversation(messages: Sequence[Message]) -> TagList:
    """Render the input messages of a record in order."""
    # Some formats give a tool result only the id of its call (SWE-agent's tool messages), so the
    # result shows the name of the call with that id.
    call_names = {
        part.id: part.name
        for message in messages
        for part in message.parts
        if isinstance(part, ToolCallPart) and part.id
    }
    return TagList(*(render_message(message, call_names) for message in messages))


def render_output_calls(message: Message | None) -> Tag | TagList:
    """Render the tool calls of the output under review, which the text editor cannot show.

    They get a card like the calls in the conversation, titled "ASSISTANT - Function Call".
    """
    if message is None:
        return TagList()
    calls = [part for part in message.parts if isinstance(part, ToolCallPart)]
    if not calls:
        return TagList()
    return tags.div(
        tags.div(message_title(message), class_="card-header"),
        tags.div(*(render_tool_call(part) for part in calls), class_="card-body"),
        class_=f"card message-card output-calls role-{role_class(message.role)}",
    )
