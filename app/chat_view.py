"""Render a conversation as a stack of message cards.

Text from a dataset is untrusted: markdown is rendered with raw HTML disabled, so a `<script>` or an
`<img onerror=...>` in a message is shown as text, and every other string goes through htmltools,
which escapes it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from htmltools import Tag, TagList, tags
from markdown_it import MarkdownIt
from review_data import Message
from shiny import ui

# "commonmark" turns raw HTML on by default; switching it off makes markdown-it escape it. Its link
# validator already drops javascript:, vbscript: and file: URLs.
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")

# Messages longer than this many characters, and system prompts, start collapsed so that a retrieved
# document of several pages does not push the question off the screen.
COLLAPSE_AFTER_CHARS = 2000

ROLE_TITLES = {
    "system": "SYSTEM",
    "user": "USER",
    "assistant": "ASSISTANT",
    "function": "FUNCTION RESULTS",
    "tool": "TOOL RESULTS",
}


def render_markdown(text: str) -> ui.HTML:
    """Render markdown to HTML with raw HTML escaped."""
    return ui.HTML(MARKDOWN.render(text))


def format_arguments(arguments: str | dict) -> str:
    """Return function-call arguments as pretty-printed JSON, or unchanged when they are not JSON."""
    if isinstance(arguments, dict):
        return json.dumps(arguments, indent=2, ensure_ascii=False)

    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    return json.dumps(parsed, indent=2, ensure_ascii=False)


def message_title(message: Message) -> str:
    """Return the card header for a message, such as "USER" or "ASSISTANT - Function Call"."""
    if message.role == "assistant" and message.function_call is not None:
        return "ASSISTANT - Function Call"
    return ROLE_TITLES.get(message.role, message.role.upper())


def render_message_body(message: Message) -> TagList:
    """Render a message's text and function call, whichever it has."""
    body = TagList()
    if message.content:
        body.append(render_markdown(message.content))

    call = message.function_call
    if call is not None:
        arguments = format_arguments(call.arguments)
        body.append(tags.pre(tags.code(f"{call.name}({arguments})"), class_="function-call"))

    if not message.content and call is None:
        body.append(tags.p("(empty message)", class_="text-muted fst-italic"))
    return body


def render_message(message: Message) -> Tag:
    """Render one message as a card whose header names the role."""
    body = render_message_body(message)
    length = len(message.content or "")
    if message.role == "system" or length > COLLAPSE_AFTER_CHARS:
        body = tags.details(tags.summary(f"Show message ({length:,} characters)"), body)

    return tags.div(
        tags.div(message_title(message), class_="card-header"),
        tags.div(body, class_="card-body"),
        class_=f"card message-card role-{message.role}",
    )


def render_conversation(messages: Sequence[Message]) -> TagList:
    """Render the input messages of a record in order."""
    return TagList(*(render_message(message) for message in messages))
