"""Databases and data for the team-mode tests: a SQLite file, or a fresh PostgreSQL schema.

PostgreSQL runs when LLM_REVIEW_TEST_POSTGRES_URL names a database (CI sets it); otherwise its
cases are skipped. Each test gets a schema of its own, selected through the connection's
search_path, and the schema is dropped afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

POSTGRES_URL_VARIABLE = "LLM_REVIEW_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


@contextmanager
def postgres_schema_url(base_url: str) -> Iterator[str]:
    """Create an empty schema and yield a URL whose connections use it; drop it afterwards."""
    from sqlalchemy.engine import make_url

    name = f"team_test_{secrets.token_hex(6)}"
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = sqlalchemy.create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    scoped = url.update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        admin.dispose()


@contextmanager
def database_url(backend: str, directory: Path) -> Iterator[str]:
    """Yield an empty database of `backend`, skipping PostgreSQL when no server is configured."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'review.sqlite'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set, so the PostgreSQL cases do not run")
    with postgres_schema_url(base) as url:
        yield url


def make_chat_dataset(count: int, *, prefix: str = "Question") -> bytes:
    """Return an OpenAI chat JSONL file of `count` records: "<prefix> i", then the reply "Answer i"."""
    lines = []
    for index in range(count):
        conversation = {
            "messages": [
                {"role": "user", "content": f"{prefix} {index}"},
                {"role": "assistant", "content": f"Answer {index}"},
            ]
        }
        lines.append(json.dumps(conversation) + "\n")
    return "".join(lines).encode("utf-8")
