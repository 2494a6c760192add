"""Serve a built site over HTTP on the loopback interface."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable
from pathlib import Path

# Module workers need a JavaScript MIME type, and WebAssembly streaming compilation needs
# application/wasm; older Pythons' mimetypes tables lack the first.
EXTRA_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".whl": "application/zip",
}


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files with the MIME types the runtime needs and without request logging noise."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if getattr(self.server, "log_requests", False):
            super().log_message(format, *args)


def make_server(
    site_dir: Path, *, host: str = "127.0.0.1", port: int = 8000, log_requests: bool = False
) -> http.server.ThreadingHTTPServer:
    """Create a threaded HTTP server for `site_dir`; port 0 picks a free port."""
    handler = functools.partial(SiteRequestHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.log_requests = log_requests
    return server


def start_in_thread(site_dir: Path, *, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """Start a server on a free port in a daemon thread and return it; call shutdown() to stop."""
    server = make_server(site_dir, host=host, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server



def serve_until_interrupted(site_dir: Path, *, port: int = 8000, log: Callable[[str], None] = print) -> None:
    """Serve `site_dir` on 127.0.0.1 and log each request until Ctrl+C."""
    server = make_server(site_dir, port=port, log_requests=True)
    log(f"Serving {site_dir} at http://127.0.0.1:{server.server_port}/ (the app is at /app/); Ctrl+C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log("Stopped")
    finally:
        server.server_close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve a built site on 127.0.0.1.")
    parser.add_argument("site_dir", type=Path, help="folder written by build.py, such as _site")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    arguments = parser.parse_args()
    serve_until_interrupted(arguments.site_dir, port=arguments.port)
