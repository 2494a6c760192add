"""Serve the review app in team mode: the Shiny app from app.py behind reviewer sign-in, on uvicorn.

The app is the same app.py as in the browser build. It reads its team configuration from
environment variables at import, so they are set before app.py is imported.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

import uvicorn

from team.app_mode import (
    DATABASE_URL_VARIABLE,
    DATASET_ID_VARIABLE,
    RESERVATION_MINUTES_VARIABLE,
    REVIEWS_PER_RECORD_VARIABLE,
)
from team.auth import ASGIApp, ReviewerAuth, TokenFile

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"

log = logging.getLogger(__name__)


class StripQueryStrings(logging.Filter):
    """Cut the query string from the paths in uvicorn's websocket log lines.

    uvicorn logs `"WebSocket /path?query" [accepted]` on its error logger, where access_log=False
    does not reach; a query string could carry a secret that someone pasted into a URL.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and '"WebSocket %s"' in str(record.msg):
            record.args = tuple(arg.split("?", 1)[0] if isinstance(arg, str) else arg for arg in record.args)
        return True


def load_review_app(
    database_url: str, dataset_id: str, *, reviews_per_record: int, reservation_minutes: int
) -> Any:
    """Import app.py in team mode and return its Shiny app."""
    os.environ[DATABASE_URL_VARIABLE] = database_url
    os.environ[DATASET_ID_VARIABLE] = dataset_id
    os.environ[REVIEWS_PER_RECORD_VARIABLE] = str(reviews_per_record)
    os.environ[RESERVATION_MINUTES_VARIABLE] = str(reservation_minutes)

    spec = importlib.util.spec_from_file_location("llm_review_app", APP_PATH)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import the review app from {APP_PATH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def build_server_app(
    database_url: str,
    dataset_id: str,
    *,
    tokens_path: Path | None,
    proxy_header: str | None,
    reviews_per_record: int = 1,
    reservation_minutes: int = 15,
) -> ASGIApp:
    """Return the review app wrapped in reviewer sign-in, ready for any ASGI server."""
    tokens = TokenFile(tokens_path) if tokens_path is not None else None
    app = load_review_app(
        database_url, dataset_id, reviews_per_record=reviews_per_record, reservation_minutes=reservation_minutes
    )
    return ReviewerAuth(app, tokens=tokens, proxy_header=proxy_header)


def run_server(app: ASGIApp, *, host: str, port: int) -> None:
    """Run `app` on uvicorn in this process until interrupted.

    One process only: Shiny keeps each session in memory, so the sessions of one app cannot be
    spread over several workers without sticky routing.
    """
    # The middleware writes the access log (team.access) with paths only, so uvicorn's is off.
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="info", lifespan="on")
    logging.getLogger("uvicorn.error").addFilter(StripQueryStrings())
    access = logging.getLogger("team.access")
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    uvicorn.Server(config).run()
