"""Serve a Shiny app's websocket endpoint to JavaScript, inside Pyodide.

The page has no server to connect to, so the worker hands each websocket frame from shiny.js to
`Connection.receive_text` and the ASGI app's replies come back through the `post` callback as
("open" | "message" | "close", text) pairs.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import sys
from typing import Any, Callable

Post = Callable[[str, Any], None]


def import_app(app_dir: str, module_name: str = "app") -> Any:
    """Import the Shiny app object from `app_dir`/`module_name`.py."""
    os.chdir(app_dir)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    module = importlib.import_module(module_name)

    # The imported modules are most of the heap and live as long as the page. Freezing them keeps
    # the garbage collector from walking them again during each review action.
    gc.collect()
    gc.freeze()
    return module.app


class Connection:
    """One websocket session between shiny.js in the page and the ASGI app."""

    def __init__(self, app: Any, post: Post) -> None:
        self.post = post
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.messages.put_nowait({"type": "websocket.connect"})

        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": "/websocket/",
            "raw_path": b"/websocket/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 80),
            "subprotocols": [],
            "state": {},
        }
        self.task = asyncio.ensure_future(app(scope, self.messages.get, self.send))
        self.task.add_done_callback(self.report_end)

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.post("open", None)
        elif kind == "websocket.send":
            self.post("message", message.get("text") or message.get("bytes", b"").decode("utf-8"))
        elif kind == "websocket.close":
            self.post("close", message.get("code", 1000))

    def report_end(self, task: asyncio.Future) -> None:
        # An exception inside the app would otherwise vanish with the task; show it in the page.
        if not task.cancelled() and task.exception() is not None:
            self.post("error", f"{type(task.exception()).__name__}: {task.exception()}")

    def receive_text(self, text: str) -> None:
        self.messages.put_nowait({"type": "websocket.receive", "text": text})

    def close(self) -> None:
        self.messages.put_nowait({"type": "websocket.disconnect", "code": 1000})
