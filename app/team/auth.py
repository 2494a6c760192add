"""Reviewer sign-in for team mode: a token file, an ASGI middleware and its sign-in page.

The middleware sits in front of the whole Shiny app. A request or websocket gets through only
with a reviewer name, which it puts into the ASGI scope under REVIEWER_SCOPE_KEY:

- token sign-in: each reviewer has a random token whose SHA-256 hex digest is in a JSON file.
  The sign-in form sets it as an HttpOnly, SameSite=Strict cookie, which every later request
  and the websocket carry.
- proxy header: a trusted reverse proxy that authenticates reviewers sends their name in a
  header. The app must then be reachable only through that proxy.

Everything else, including the app's page, scripts and styles, gets a redirect to the sign-in
page (page loads) or 401, and websockets are closed before they open. The access
log names the reviewer, method, path and status, never a query string, cookie or token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from htmltools import tags
from starlette.requests import cookie_parser

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("team.access")
log = logging.getLogger(__name__)

# The ASGI scope keys that carry the signed-in reviewer's name, and the sign-out path when
# reviewers sign in with tokens, to the app.
REVIEWER_SCOPE_KEY = "llm_review.reviewer"
SIGN_OUT_SCOPE_KEY = "llm_review.sign_out_path"

SIGN_IN_PATH = "/_auth/sign-in"
SIGN_OUT_PATH = "/_auth/sign-out"
COOKIE_NAME = "llm_review_token"
# How long the browser keeps the sign-in cookie, in seconds (30 days).
COOKIE_MAX_AGE = 30 * 24 * 3600
# The sign-in form contains one token, so anything larger is not a sign-in.
MAX_FORM_BYTES = 4096
MAX_NAME_LENGTH = 200

SIGN_IN_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh; background: #f6f7f9; }
main { background: #fff; padding: 2rem; border-radius: 0.5rem; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.15); width: min(24rem, 90vw); }
h1 { font-size: 1.25rem; margin-top: 0; }
label { display: block; margin-bottom: 0.25rem; }
input { width: 100%; box-sizing: border-box; padding: 0.5rem; margin-bottom: 1rem; font: inherit; }
button { padding: 0.5rem 1rem; font: inherit; }
.error { color: #b02a37; }
"""

PAGE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    # Not no-referrer: with it Chromium sends "Origin: null" on the form post, failing the origin check.
    (b"referrer-policy", b"same-origin"),
]


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest that the token file stores in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_reviewer_name(name: str) -> str:
    """Return the name without surrounding spaces, or raise ValueError when it cannot name a reviewer."""
    stripped = name.strip()
    if not stripped:
        raise ValueError(f"reviewer name {name!r} is empty; expected a name such as 'alice'")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ValueError(f"reviewer name {stripped[:40]!r}… is longer than {MAX_NAME_LENGTH} characters")
    if any(ord(character) < 32 or ord(character) == 127 for character in stripped):
        raise ValueError(f"reviewer name {stripped!r} contains control characters")
    return stripped


@dataclass(frozen=True)
class TokenEntry:
    name: str
    token_sha256: str
    added_at: str


def read_token_entries(path: Path) -> list[TokenEntry]:
    """Read the token file: {"reviewers": [{"name", "token_sha256", "added_at"}, ...]}."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"token file {path} is not valid JSON ({error}); expected {{\"reviewers\": [...]}}") from error
    entries = document.get("reviewers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"token file {path} has no \"reviewers\" list; expected {{\"reviewers\": [...]}}")

    result = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("token_sha256"), str):
            raise ValueError(f"token file {path}: reviewer {position} needs string fields \"name\" and \"token_sha256\"")
        digest = entry["token_sha256"].lower()
        if len(digest) != 64 or any(character not in "0123456789abcdef" for character in digest):
            raise ValueError(f"token file {path}: reviewer {entry['name']!r} has a token_sha256 that is not 64 hex digits")
        result.append(TokenEntry(check_reviewer_name(entry["name"]), digest, str(entry.get("added_at", ""))))
    return result


def write_token_entries(path: Path, entries: list[TokenEntry]) -> None:
    """Write the token file atomically, readable by its owner only."""
    document = {
        "reviewers": [
            {"name": entry.name, "token_sha256": entry.token_sha256, "added_at": entry.added_at} for entry in entries
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
            file.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_reviewer(path: Path, name: str, *, replace: bool = False) -> str:
    """Add a reviewer to the token file (creating it) and return the new token.

    The file keeps only the token's hash, so the returned token cannot be shown again. With
    `replace`, a reviewer who exists gets a new token and the old one stops working.
    """
    name = check_reviewer_name(name)
    entries = read_token_entries(path) if path.exists() else []
    if any(entry.name == name for entry in entries):
        if not replace:
            raise ValueError(f"reviewer {name!r} is already in {path}; pass --replace to issue a new token")
        entries = [entry for entry in entries if entry.name != name]

    token = secrets.token_urlsafe(32)
    added_at = datetime.now(UTC).isoformat(timespec="seconds")
    entries.append(TokenEntry(name, hash_token(token), added_at))
    write_token_entries(path, entries)
    return token


class TokenFile:
    """The reviewers' token hashes, read again whenever the file changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp: tuple[int, int] | None = None
        self.names_by_hash: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self.stamp:
            return
        entries = read_token_entries(self.path)
        self.names_by_hash = {entry.token_sha256: entry.name for entry in entries}
        self.stamp = stamp
        log.info("Read %d reviewer token(s) from %s", len(entries), self.path)

    def reviewer_for(self, token: str) -> str | None:
        """Return the reviewer whose token this is, or None.

        The lookup compares SHA-256 digests, so its timing reveals nothing usable about a token.
        """
        if not token:
            return None
        try:
            self.reload()
        except (OSError, ValueError) as error:
            # Keep the reviewers read last; an editor saving the file half-way must not lock everyone out.
            log.error("Could not read the token file %s, using the reviewers read before: %s", self.path, error)
        return self.names_by_hash.get(hash_token(token))


def header_value(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return value.decode("latin-1")
    return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


def is_same_origin(scope: Scope) -> bool:
    """Return whether the request's Origin header, when it has one, names the host it was sent to.

    Browsers send Origin on form posts and websocket handshakes, so a page on another site can
    neither sign a reviewer in nor open the websocket with their cookie.
    """
    origin = header_value(scope, b"origin")
    if origin is None:
        return True
    host = header_value(scope, b"host")
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


def render_sign_in_page(error: str | None = None) -> bytes:
    """Render the sign-in page; it loads nothing else, so it works before sign-in."""
    page = tags.html(
        tags.head(
            tags.meta(charset="utf-8"),
            tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
            tags.title("Sign in · LLM Data Review"),
            # An empty icon, so the browser requests no /favicon.ico before sign-in.
            tags.link(rel="icon", href="data:,"),
            tags.style(SIGN_IN_CSS),
        ),
        tags.body(
            tags.main(
                tags.h1("LLM Data Review: sign in"),
                tags.p(error, class_="error", role="alert") if error else None,
                tags.form(
                    tags.label("Reviewer token", for_="token"),
                    tags.input(type="password", id="token", name="token", required="", autocomplete="off", autofocus=""),
                    tags.button("Sign in", type="submit"),
                    method="post",
                    action=SIGN_IN_PATH,
                ),
                tags.p("Ask the person who runs this review for your token."),
            )
        ),
        lang="en",
    )
    return ("<!DOCTYPE html>\n" + str(page)).encode("utf-8")


async def send_response(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """Read the request body, or return None once it grows past `limit` bytes."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return body


def build_cookie(scope: Scope, value: str, max_age: int) -> bytes:
    cookie = f"{COOKIE_NAME}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"
    if scope.get("scheme") in ("https", "wss"):
        cookie += "; Secure"
    return cookie.encode("latin-1")


class ReviewerAuth:
    """ASGI middleware that lets only signed-in reviewers reach `app`.

    Parameters
    ----------
    app
        The ASGI app to protect, such as the Shiny app.
    tokens
        The token file, for sign-in with per-reviewer tokens.
    proxy_header
        The header in which a trusted reverse proxy sends the reviewer's name.
    """

    def __init__(self, app: ASGIApp, *, tokens: TokenFile | None = None, proxy_header: str | None = None) -> None:
        if (tokens is None) == (proxy_header is None):
            raise ValueError("pass exactly one of tokens and proxy_header, so that every reviewer has a name")
        self.app = app
        self.tokens = tokens
        self.proxy_header = proxy_header.strip().lower().encode("latin-1") if proxy_header else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        path = scope.get("path", "")
        if self.tokens is not None and scope["type"] == "http" and path in (SIGN_IN_PATH, SIGN_OUT_PATH):
            await self.serve_auth_page(scope, receive, send)
            return

        reviewer = self.identify(scope)
        if reviewer is None or (scope["type"] == "websocket" and not is_same_origin(scope)):
            await self.deny(scope, receive, send)
            return

        await self.forward(scope, receive, send, reviewer)

    def identify(self, scope: Scope) -> str | None:
        """Return the reviewer the request comes from, or None."""
        if self.proxy_header is not None:
            value = header_value(scope, self.proxy_header)
            if value is None:
                return None
            try:
                return check_reviewer_name(value)
            except ValueError:
                return None
        cookie = header_value(scope, b"cookie")
        if cookie is None:
            return None
        return self.tokens.reviewer_for(cookie_parser(cookie).get(COOKIE_NAME, ""))

    async def forward(self, scope: Scope, receive: Receive, send: Send, reviewer: str) -> None:
        started = time.monotonic()
        outcome = {"status": 500}

        async def watch_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
            elif message["type"] == "websocket.accept":
                outcome["status"] = 101
                access_log.info("%s WS %s opened", reviewer, scope.get("path", ""))
            await send(message)

        try:
            sign_out = SIGN_OUT_PATH if self.tokens is not None else None
            await self.app({**scope, REVIEWER_SCOPE_KEY: reviewer, SIGN_OUT_SCOPE_KEY: sign_out}, receive, watch_send)
        finally:
            elapsed = (time.monotonic() - started) * 1000
            if scope["type"] == "http":
                access_log.info("%s %s %s %d %.0fms", reviewer, scope.get("method", ""), scope.get("path", ""), outcome["status"], elapsed)
            else:
                access_log.info("%s WS %s closed after %.0fms", reviewer, scope.get("path", ""), elapsed)

    async def deny(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket":
            # Closing before accepting makes the server reject the handshake with HTTP 403.
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            access_log.info("- WS %s denied from %s", path, client_address(scope))
            return

        method = scope.get("method", "")
        if self.tokens is not None and method in ("GET", "HEAD") and path == "/":
            await send_response(send, 303, b"", [(b"location", SIGN_IN_PATH.encode()), (b"cache-control", b"no-store")])
            status = 303
        else:
            reason = "Sign in first." if self.tokens is not None else "The reviewer header is missing."
            await send_response(send, 401, reason.encode(), [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")])
            status = 401
        access_log.info("- %s %s %d from %s", method, path, status, client_address(scope))

    async def serve_auth_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "")
        path = scope["path"]
        if method in ("GET", "HEAD") and path == SIGN_IN_PATH:
            await send_response(send, 200, render_sign_in_page(), PAGE_HEADERS)
            access_log.info("- %s %s 200", method, path)
            return
        if method != "POST":
            await send_response(send, 405, b"Method not allowed.", [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"POST" if path == SIGN_OUT_PATH else b"GET, POST")])
            access_log.info("- %s %s 405", method, path)
            return
        if not is_same_origin(scope):
            await send_response(send, 403, b"Cross-site sign-in is not allowed.", [(b"content-type", b"text/plain; charset=utf-8")])
            access_log.info("- POST %s 403 cross-site from %s", path, client_address(scope))
            return

        if path == SIGN_OUT_PATH:
            headers = [(b"location", SIGN_IN_PATH.encode()), (b"set-cookie", build_cookie(scope, "", 0)), (b"cache-control", b"no-store")]
            await send_response(send, 303, b"", headers)
            access_log.info("- POST %s 303", path)
            return

        body = await read_body(receive, MAX_FORM_BYTES)
        if body is None:
            await send_response(send, 413, b"The sign-in form is too large.", [(b"content-type", b"text/plain; charset=utf-8")])
            access_log.info("- POST %s 413 from %s", path, client_address(scope))
            return
        token = parse_qs(body.decode("utf-8", errors="replace")).get("token", [""])[0].strip()
        reviewer = self.tokens.reviewer_for(token)
        if reviewer is None:
            await send_response(send, 401, render_sign_in_page("That token is not valid. Check it and try again."), PAGE_HEADERS)
            access_log.info("- POST %s 401 failed sign-in from %s", path, client_address(scope))
            return

        headers = [(b"location", b"/"), (b"set-cookie", build_cookie(scope, token, COOKIE_MAX_AGE)), (b"cache-control", b"no-store")]
        await send_response(send, 303, b"", headers)
        access_log.info("%s POST %s 303 signed in", reviewer, path)
