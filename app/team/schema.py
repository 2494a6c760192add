"""Database tables of team mode, the engine setup for SQLite and PostgreSQL, and schema upgrades.

Upgrades are ordered steps with the version in a one-row `schema_version` table, not Alembic.
The schema is three tables, and every step runs inside one transaction on both back ends,
because SQLite and PostgreSQL both have transactional DDL. So the app ships no migration
framework, configuration file or script folder. `upgrade_schema` applies the steps past the
stored version in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE, which takes the
# write lock at once, so that a read-then-write transaction cannot be overtaken by another writer.
WRITE_TRANSACTION = "llm_review_write"

# How long a SQLite connection waits for another writer's lock before failing, in seconds.
SQLITE_BUSY_TIMEOUT_SECONDS = 30

# Maximum length of a reviewer name in the tables.
MAX_REVIEWER_LENGTH = 200


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime, stored without zone so SQLite and PostgreSQL agree."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"datetime {value.isoformat()} has no time zone; expected an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

# One row per loaded file. The bytes are kept so that exports can rebuild the file in its format.
datasets = Table(
    "datasets",
    metadata,
    # SHA-256 hex digest of the file's bytes, the same id the browser app uses.
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("format", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
)

# Every save is a new row, so the table is the full history. `version` numbers the saves of one
# record across all reviewers; the unique constraint stops two saves from taking the same number.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("record_index", Integer, nullable=False),
    Column("reviewer", String(MAX_REVIEWER_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("edited_output", Text, nullable=True),
    Column("labels", JSON, nullable=False),
    Column("note", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    UniqueConstraint("dataset_id", "record_index", "version", name="uq_reviews_record_version"),
    CheckConstraint("status IN ('Pending', 'Accepted', 'Rejected')", name="ck_reviews_status"),
    CheckConstraint("version >= 1", name="ck_reviews_version"),
    Index("ix_reviews_dataset_reviewer", "dataset_id", "reviewer"),
)

# A reviewer's reservation of a record: the queue gives the record to no other reviewer until
# the reservation expires.
reservations = Table(
    "reservations",
    metadata,
    Column("dataset_id", String(64), ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("record_index", Integer, nullable=False),
    Column("reviewer", String(MAX_REVIEWER_LENGTH), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("dataset_id", "record_index", "reviewer", name="pk_reservations"),
)

schema_version = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, nullable=False),
)


@dataclass(frozen=True)
class Migration:
    """One upgrade step: the version it brings the schema to and the DDL that does it."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def create_first_tables(connection: Connection) -> None:
    # NOTE: create_all builds the tables as defined above. Once a later step changes one of them,
    # copy the version 1 definitions into this step, because create_all always builds the newest.
    metadata.create_all(connection)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "create datasets, reviews and reservations", create_first_tables),
)
LATEST_VERSION = MIGRATIONS[-1].version


class SchemaError(RuntimeError):
    """The database schema is missing, older than this code, or newer than it."""


def normalize_database_url(value: str) -> str:
    """Return a SQLAlchemy URL for `value`: a URL as it is, or a file path as a SQLite URL."""
    if "://" in value:
        try:
            make_url(value)
        except ArgumentError as error:
            raise ValueError(
                f"invalid database URL {value!r}: {error}; expected e.g. "
                "postgresql+psycopg://user:password@127.0.0.1/llm_review or sqlite:///review.sqlite"
            ) from error
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def describe_database_url(url: str) -> str:
    """Return the URL with any password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def create_store_engine(url: str) -> Engine:
    """Create an engine for `url`, with real transactions and a write lock on SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver the team extra installs; plain postgresql:// would mean psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")

    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)

    engine = create_engine(
        parsed,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    in_memory = parsed.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def configure_sqlite(dbapi_connection, connection_record) -> None:
        # sqlite3's own transaction handling skips BEGIN before SELECT and DDL; SQLAlchemy emits
        # BEGIN itself instead (see begin_sqlite_transaction).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            # In WAL mode readers do not wait for the writer, which matters because every save writes.
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin_sqlite_transaction(connection: Connection) -> None:
        if connection.get_execution_options().get(WRITE_TRANSACTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Open a transaction that writes: on SQLite it holds the database's write lock from the start."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_TRANSACTION: True})
        with connection.begin():
            yield connection


def read_schema_version(connection: Connection) -> int:
    """Return the stored schema version, 0 for a database without the team tables."""
    if not inspect(connection).has_table(schema_version.name):
        return 0
    version = connection.execute(select(schema_version.c.version)).scalar()
    return 0 if version is None else int(version)


def upgrade_schema(engine: Engine) -> tuple[int, int]:
    """Apply every step past the stored version in one transaction; return (old, new) version."""
    with write_transaction(engine) as connection:
        if engine.dialect.name == "postgresql":
            # Two upgrades started at once would both create the tables; the second waits here.
            connection.execute(text("SELECT pg_advisory_xact_lock(4172630951)"))
        current = read_schema_version(connection)
        if current > LATEST_VERSION:
            raise SchemaError(
                f"the database schema is version {current}, newer than the {LATEST_VERSION} this "
                "code knows; upgrade LLM Data Review before using this database"
            )
        if current == 0:
            schema_version.create(connection, checkfirst=True)
            connection.execute(schema_version.insert().values(version=0))

        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            log.info("Upgrading the schema to version %d: %s", migration.version, migration.description)
            migration.apply(connection)
            connection.execute(schema_version.update().values(version=migration.version))
    return current, LATEST_VERSION


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database has the schema version this code expects."""
    with engine.connect() as connection:
        current = read_schema_version(connection)
    if current == LATEST_VERSION:
        return
    if current == 0:
        raise SchemaError(
            "the database has no team review tables; run `python -m team upgrade --db URL` first"
        )
    if current < LATEST_VERSION:
        raise SchemaError(
            f"the database schema is version {current}, older than {LATEST_VERSION}; run "
            "`python -m team upgrade --db URL` first"
        )
    raise SchemaError(
        f"the database schema is version {current}, newer than the {LATEST_VERSION} this code "
        "knows; upgrade LLM Data Review before using this database"
    )
