"""Serve a built site over HTTP on the loopback interface."""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Module workers need a JavaScript MIME type, and WebAssembly streaming compilation needs
# application/wasm; older Pythons' mimetypes tables lack the first.
EXTRA_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
}

# Headers that make pages cross-origin isolated, which performance.measureUserAgentSpecificMemory()
# requires. The site needs them only for that measurement.
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


@dataclass
class TrafficLog:
    """Bytes the server wrote per request (status line, headers and body), for benchmarks.

    Each entry is (path, status, bytes, time the request arrived in seconds since the epoch).
    """

    entries: list[tuple[str, int, int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, status: int, size: int, arrived: float) -> None:
        with self.lock:
            self.entries.append((path, status, size, arrived))

    def take(self) -> list[tuple[str, int, int, float]]:
        """Return the entries logged so far and start a new log."""
        with self.lock:
            entries, self.entries = self.entries, []
        return entries


class _CountingWriter:
    """Wraps the response stream and counts the bytes written through it."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return self.stream.write(data)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files with the MIME types the runtime needs and without request logging noise."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}

    def handle_one_request(self) -> None:
        traffic = getattr(self.server, "traffic", None)
        if traffic is None:
            super().handle_one_request()
            return

        writer = _CountingWriter(self.wfile)
        self.wfile = writer
        self._status = 0
        arrived = time.time()
        super().handle_one_request()
        if writer.count:
            traffic.add(getattr(self, "path", ""), int(self._status), writer.count, arrived)
        self.wfile = writer.stream

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def end_headers(self) -> None:
        if getattr(self.server, "isolated", False):
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if getattr(self.server, "log_requests", False):
            super().log_message(format, *args)


class SiteServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that does not print a traceback when a browser drops a connection."""

    def handle_error(self, request, client_address) -> None:
        # Browsers close connections mid-response when a page or context closes; that is normal.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def make_server(
    site_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_requests: bool = False,
    traffic: TrafficLog | None = None,
    isolated: bool = False,
) -> SiteServer:
    """Create a threaded HTTP server for `site_dir`; port 0 picks a free port.

    With `traffic`, every response's size is logged there. With `isolated`, every response
    carries ISOLATION_HEADERS.
    """
    handler = functools.partial(SiteRequestHandler, directory=str(site_dir))
    server = SiteServer((host, port), handler)
    server.log_requests = log_requests
    server.traffic = traffic
    server.isolated = isolated
    return server


def start_in_thread(
    site_dir: Path,
    *,
    host: str = "127.0.0.1",
    traffic: TrafficLog | None = None,
    isolated: bool = False,
) -> SiteServer:
    """Start a server on a free port in a daemon thread and return it; call shutdown() to stop."""
    server = make_server(site_dir, host=host, port=0, traffic=traffic, isolated=isolated)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_until_interrupted(site_dir: Path, *, port: int = 8000, log: Callable[[str], None] = print) -> None:
    """Serve `site_dir` on 127.0.0.1 and log each request until Ctrl+C; raise SystemExit if the port is taken."""
    try:
        server = make_server(site_dir, port=port, log_requests=True)
    except OSError as error:
        raise SystemExit(
            f"Cannot serve on 127.0.0.1:{port}: {error.strerror or error}. "
            "Stop the program using that port or pick another with --port (make serve PORT=8001)."
        ) from None
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
