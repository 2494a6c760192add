"""Reviewer sign-in: the token file, the ASGI middleware in front of the app, and the log filter."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from event_loop import run_coroutine

pytest.importorskip("sqlalchemy")

from team.auth import (  # noqa: E402 - after the skip
    COOKIE_NAME,
    REVIEWER_SCOPE_KEY,
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    ReviewerAuth,
    TokenFile,
    add_reviewer,
    hash_token,
    read_token_entries,
)
from team.serve import StripQueryStrings  # noqa: E402


class RecordingApp:
    """An ASGI app that returns 200 and records the scopes it was called with."""

    def __init__(self) -> None:
        self.scopes: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})


def call(middleware, scope: dict, body: bytes = b"") -> list[dict]:
    """Run one request through the middleware and return the messages it sent."""
    sent: list[dict] = []
    incoming = [{"type": "websocket.connect"}] if scope["type"] == "websocket" else [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    run_coroutine(middleware(scope, receive, send))
    return sent


def make_scope(path: str = "/", *, method: str = "GET", kind: str = "http", headers: dict[str, str] | None = None) -> dict:
    raw_headers = [(b"host", b"127.0.0.1:8000")]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    scope = {"type": kind, "path": path, "raw_path": path.encode(), "query_string": b"", "headers": raw_headers, "client": ("127.0.0.1", 5000), "scheme": "http" if kind == "http" else "ws"}
    if kind == "http":
        scope["method"] = method
    return scope


def status_of(sent: list[dict]) -> int:
    return sent[0]["status"]


def header_of(sent: list[dict], name: bytes) -> str | None:
    for key, value in sent[0].get("headers", []):
        if key == name:
            return value.decode()
    return None


@pytest.fixture
def tokens(tmp_path) -> tuple[Path, str, str]:
    path = tmp_path / "reviewers.json"
    alice = add_reviewer(path, "alice")
    bob = add_reviewer(path, "bob")
    return path, alice, bob


@pytest.fixture
def guarded(tokens) -> tuple[ReviewerAuth, RecordingApp]:
    app = RecordingApp()
    return ReviewerAuth(app, tokens=TokenFile(tokens[0])), app


# The token file.


def test_add_reviewer_stores_hash_only(tokens):
    path, alice, _ = tokens
    text = path.read_text()
    assert alice not in text
    assert hash_token(alice) in text


def test_add_reviewer_file_private(tokens):
    assert os.stat(tokens[0]).st_mode & 0o777 == 0o600


def test_add_reviewer_tokens_differ(tokens):
    _, alice, bob = tokens
    assert alice != bob
    assert len(alice) >= 40


def test_add_reviewer_duplicate_name(tokens):
    with pytest.raises(ValueError, match="already in"):
        add_reviewer(tokens[0], "alice")


def test_add_reviewer_replace_revokes_old(tokens):
    path, alice, _ = tokens
    new = add_reviewer(path, "alice", replace=True)
    file = TokenFile(path)
    assert file.reviewer_for(new) == "alice"
    assert file.reviewer_for(alice) is None


@pytest.mark.parametrize(("name", "message"), [("", "is empty"), ("  ", "is empty"), ("a\nb", "control characters"), ("x" * 201, "longer than 200")])
def test_add_reviewer_invalid_name(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        add_reviewer(tmp_path / "reviewers.json", name)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", 'no "reviewers" list'),
        ('{"reviewers": [{"name": "alice"}]}', "needs string fields"),
        ('{"reviewers": [{"name": "alice", "token_sha256": "abc"}]}', "not 64 hex digits"),
    ],
)
def test_read_token_entries_invalid(tmp_path, content, message):
    path = tmp_path / "reviewers.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_token_entries(path)


def test_token_file_reads_changes(tokens):
    path, alice, _ = tokens
    file = TokenFile(path)
    carol = add_reviewer(path, "carol")
    assert file.reviewer_for(carol) == "carol"
    assert file.reviewer_for(alice) == "alice"


def test_token_file_keeps_reviewers_on_bad_edit(tokens):
    path, alice, _ = tokens
    file = TokenFile(path)
    path.write_text("{ half written")
    assert file.reviewer_for(alice) == "alice"


# The middleware with tokens.


def test_middleware_page_redirects_to_sign_in(guarded):
    middleware, app = guarded
    sent = call(middleware, make_scope("/"))
    assert status_of(sent) == 303
    assert header_of(sent, b"location") == SIGN_IN_PATH
    assert app.scopes == []


@pytest.mark.parametrize("path", ["/lib/shiny-1.8.0/shiny.js", "/session/abc/download/x", "/favicon.ico"])
def test_middleware_assets_need_token(guarded, path):
    middleware, app = guarded
    sent = call(middleware, make_scope(path))
    assert status_of(sent) == 401
    assert app.scopes == []


def test_middleware_post_needs_token(guarded):
    middleware, app = guarded
    sent = call(middleware, make_scope("/", method="POST"), b"x=1")
    assert status_of(sent) == 401
    assert app.scopes == []


def test_middleware_wrong_token(guarded):
    middleware, app = guarded
    sent = call(middleware, make_scope("/", headers={"Cookie": f"{COOKIE_NAME}=not-a-token"}))
    assert status_of(sent) == 303
    assert app.scopes == []


def test_middleware_valid_cookie_names_reviewer(guarded, tokens):
    middleware, app = guarded
    sent = call(middleware, make_scope("/lib/x.js", headers={"Cookie": f"other=1; {COOKIE_NAME}={tokens[2]}"}))
    assert status_of(sent) == 200
    assert app.scopes[0][REVIEWER_SCOPE_KEY] == "bob"


def test_middleware_websocket_without_token(guarded):
    middleware, app = guarded
    sent = call(middleware, make_scope("/websocket/", kind="websocket"))
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert app.scopes == []


def test_middleware_websocket_with_token(guarded, tokens):
    middleware, app = guarded
    sent = call(middleware, make_scope("/websocket/", kind="websocket", headers={"Cookie": f"{COOKIE_NAME}={tokens[1]}"}))
    assert sent[0]["type"] == "websocket.accept"
    assert app.scopes[0][REVIEWER_SCOPE_KEY] == "alice"


def test_middleware_websocket_other_origin(guarded, tokens):
    middleware, app = guarded
    headers = {"Cookie": f"{COOKIE_NAME}={tokens[1]}", "Origin": "http://evil.example"}
    sent = call(middleware, make_scope("/websocket/", kind="websocket", headers=headers))
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert app.scopes == []


def test_sign_in_page_served(guarded):
    middleware, _ = guarded
    sent = call(middleware, make_scope(SIGN_IN_PATH))
    assert status_of(sent) == 200
    assert b'name="token"' in sent[1]["body"]
    assert "default-src 'none'" in header_of(sent, b"content-security-policy")


def test_sign_in_sets_cookie(guarded, tokens):
    middleware, app = guarded
    body = urlencode({"token": tokens[1]}).encode()
    sent = call(middleware, make_scope(SIGN_IN_PATH, method="POST", headers={"Origin": "http://127.0.0.1:8000"}), body)
    cookie = header_of(sent, b"set-cookie")
    assert status_of(sent) == 303
    assert header_of(sent, b"location") == "/"
    assert cookie.startswith(f"{COOKIE_NAME}={tokens[1]};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert app.scopes == []


def test_sign_in_secure_cookie_over_https(guarded, tokens):
    middleware, _ = guarded
    scope = make_scope(SIGN_IN_PATH, method="POST")
    scope["scheme"] = "https"
    sent = call(middleware, scope, urlencode({"token": tokens[1]}).encode())
    assert header_of(sent, b"set-cookie").endswith("; Secure")


def test_sign_in_wrong_token(guarded):
    middleware, _ = guarded
    sent = call(middleware, make_scope(SIGN_IN_PATH, method="POST"), b"token=guess")
    assert status_of(sent) == 401
    assert header_of(sent, b"set-cookie") is None
    assert b"not valid" in sent[1]["body"]


def test_sign_in_other_origin(guarded, tokens):
    middleware, _ = guarded
    body = urlencode({"token": tokens[1]}).encode()
    sent = call(middleware, make_scope(SIGN_IN_PATH, method="POST", headers={"Origin": "http://evil.example"}), body)
    assert status_of(sent) == 403
    assert header_of(sent, b"set-cookie") is None


def test_sign_in_form_too_large(guarded):
    middleware, _ = guarded
    sent = call(middleware, make_scope(SIGN_IN_PATH, method="POST"), b"token=" + b"x" * 5000)
    assert status_of(sent) == 413


def test_sign_out_clears_cookie(guarded):
    middleware, _ = guarded
    sent = call(middleware, make_scope(SIGN_OUT_PATH, method="POST"))
    assert status_of(sent) == 303
    assert "Max-Age=0" in header_of(sent, b"set-cookie")


def test_access_log_hides_token(guarded, tokens, caplog):
    middleware, _ = guarded
    caplog.set_level(logging.INFO, logger="team.access")
    call(middleware, make_scope(SIGN_IN_PATH, method="POST"), urlencode({"token": tokens[1]}).encode())
    call(middleware, make_scope("/", headers={"Cookie": f"{COOKIE_NAME}={tokens[1]}"}))
    call(middleware, make_scope("/", headers={"Cookie": f"{COOKIE_NAME}=wrong-{tokens[2]}"}))
    assert len(caplog.records) == 3
    assert tokens[1] not in caplog.text
    assert tokens[2] not in caplog.text
    assert "alice GET / 200" in caplog.text


# The middleware behind a proxy.


def test_proxy_header_names_reviewer():
    app = RecordingApp()
    middleware = ReviewerAuth(app, proxy_header="X-Forwarded-User")
    sent = call(middleware, make_scope("/", headers={"X-Forwarded-User": "dana"}))
    assert status_of(sent) == 200
    assert app.scopes[0][REVIEWER_SCOPE_KEY] == "dana"


@pytest.mark.parametrize("headers", [{}, {"X-Forwarded-User": "  "}, {"X-Other": "dana"}])
def test_proxy_header_missing(headers):
    app = RecordingApp()
    middleware = ReviewerAuth(app, proxy_header="X-Forwarded-User")
    sent = call(middleware, make_scope("/", headers=headers))
    assert status_of(sent) == 401
    assert app.scopes == []


def test_proxy_mode_has_no_sign_in_page():
    app = RecordingApp()
    middleware = ReviewerAuth(app, proxy_header="X-Forwarded-User")
    sent = call(middleware, make_scope(SIGN_IN_PATH))
    assert status_of(sent) == 401


def test_middleware_needs_one_identity(tokens):
    with pytest.raises(ValueError, match="exactly one"):
        ReviewerAuth(RecordingApp())
    with pytest.raises(ValueError, match="exactly one"):
        ReviewerAuth(RecordingApp(), tokens=TokenFile(tokens[0]), proxy_header="X-User")


# uvicorn's websocket log lines.


def test_strip_query_strings_from_websocket_lines():
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]', ("127.0.0.1:5", "/websocket/?token=secret"), None)
    StripQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "WebSocket /websocket/" [accepted]'


def test_token_file_json_shape(tokens):
    document = json.loads(tokens[0].read_text())
    assert [entry["name"] for entry in document["reviewers"]] == ["alice", "bob"]
