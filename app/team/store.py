"""ReviewStore: datasets, reviews and reservations of team review in SQLite or PostgreSQL.

Every save adds a row with the record's next version number. A save names the version it builds
on (`expected_version`). When someone saved the record since, the save writes nothing and returns
a Conflict that carries the other review, so no decision is overwritten by a reviewer who has
not seen it.

With `reviews_per_record` N above 1 each record is meant to be judged by N reviewers
independently: a reviewer's version then counts only that reviewer's own saves, and a record is
done once N distinct reviewers have decided it (Accepted or Rejected).

All writes to one dataset run one after another: a write first locks the dataset's row (SELECT
... FOR UPDATE on PostgreSQL) or the whole database (BEGIN IMMEDIATE on SQLite). That makes the
version check and the reservation choice atomic without retry loops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from team import schema
from team.agreement import AgreementReport, measure_agreement
from team.exports import ConsensusRule, build_team_export
from traces import LoadedDataset, Review, load_dataset_bytes

log = logging.getLogger(__name__)

# How long a reservation keeps a record for its reviewer unless a save renews it.
DEFAULT_RESERVATION_TTL = timedelta(minutes=15)

ExportChoice = Literal["original", "openai", "normalized"]


class StoreError(ValueError):
    """A request the store cannot serve: an unknown dataset, a bad index or reviewer."""


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset without its bytes."""

    id: str
    name: str
    format: str
    record_count: int
    loaded_at: datetime


@dataclass(frozen=True)
class StoredReview:
    """One saved review: who saved it on which record, when, and as which version."""

    index: int
    reviewer: str
    review: Review
    version: int
    decided_at: datetime


@dataclass(frozen=True)
class Conflict:
    """A refused save: the record changed since `expected_version`, to `current`.

    `current` is None only when the caller expected a version that the database does not have,
    such as after the reviews were deleted.
    """

    index: int
    expected_version: int
    current: StoredReview | None


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_reviewer(reviewer: str) -> str:
    """Return `reviewer`, or raise StoreError when it is empty or too long for the tables."""
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise StoreError(f"reviewer name {reviewer!r} is empty; expected a name such as 'alice'")
    if len(reviewer) > schema.MAX_REVIEWER_LENGTH:
        raise StoreError(
            f"reviewer name {reviewer[:40]!r}… has {len(reviewer)} characters; "
            f"expected at most {schema.MAX_REVIEWER_LENGTH}"
        )
    return reviewer


def check_reviews_per_record(reviews_per_record: int) -> int:
    if isinstance(reviews_per_record, bool) or not isinstance(reviews_per_record, int) or reviews_per_record < 1:
        raise StoreError(f"reviews per record {reviews_per_record!r} is invalid; expected an integer of 1 or more")
    return reviews_per_record


def row_to_review(row: Row) -> StoredReview:
    return StoredReview(
        index=row.record_index,
        reviewer=row.reviewer,
        review=Review(
            status=row.status,
            edited_output=row.edited_output,
            labels=list(row.labels or []),
            note=row.note,
        ),
        version=row.version,
        decided_at=row.decided_at,
    )


class ReviewStore:
    """Team review data in one database, opened by SQLAlchemy URL.

    Parameters
    ----------
    url
        A SQLAlchemy URL such as ``sqlite:///review.sqlite`` or
        ``postgresql+psycopg://user:password@127.0.0.1/llm_review``; a plain file path means SQLite.
    reservation_ttl
        How long a reservation keeps a record. Each save of the record by its reviewer renews it.
    """

    def __init__(self, url: str, *, reservation_ttl: timedelta = DEFAULT_RESERVATION_TTL) -> None:
        if reservation_ttl <= timedelta(0):
            raise StoreError(f"reservation time {reservation_ttl} is invalid; expected a positive duration")
        self.reservation_ttl = reservation_ttl
        self.url = schema.normalize_database_url(url)
        self.engine = schema.create_store_engine(self.url)
        # Parsed datasets and their rows by id: parsing a large file takes seconds, and a stored
        # dataset never changes because its id is the hash of its bytes.
        self.loaded: dict[str, LoadedDataset] = {}
        self.infos: dict[str, DatasetInfo] = {}

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Schema.

    def upgrade(self) -> tuple[int, int]:
        """Bring the schema to the latest version; return (old, new) version."""
        return schema.upgrade_schema(self.engine)

    def check_schema(self) -> None:
        """Raise schema.SchemaError unless the schema is the version this code expects."""
        schema.check_schema(self.engine)

    def schema_version(self) -> int:
        with self.engine.connect() as connection:
            return schema.read_schema_version(connection)

    # Datasets.

    def add_dataset(self, data: bytes, name: str, *, format: str | None = None) -> DatasetInfo:
        """Read a trace file and store it; return the stored dataset (the same one for equal bytes).

        Raises ValueError for an unknown `format` and traces.DatasetFormatError for a file
        that no reader accepts, as load_dataset_bytes does.
        """
        loaded = load_dataset_bytes(data, name, format=format)
        existing = self.find_dataset(loaded.dataset_id)
        if existing is not None:
            return existing

        info = DatasetInfo(
            id=loaded.dataset_id,
            name=loaded.name,
            format=loaded.format,
            record_count=len(loaded.records),
            loaded_at=utc_now(),
        )
        try:
            with schema.write_transaction(self.engine) as connection:
                connection.execute(
                    insert(schema.datasets).values(
                        id=info.id,
                        name=info.name,
                        format=info.format,
                        content=data,
                        record_count=info.record_count,
                        loaded_at=info.loaded_at,
                    )
                )
        except IntegrityError:
            # Loaded by someone else between the check and the insert: same bytes, same dataset.
            stored = self.find_dataset(loaded.dataset_id)
            if stored is None:
                raise
            return stored
        self.loaded[info.id] = loaded
        return info

    def list_datasets(self) -> list[DatasetInfo]:
        columns = [column for column in schema.datasets.c if column.name != "content"]
        with self.engine.connect() as connection:
            rows = connection.execute(select(*columns).order_by(schema.datasets.c.loaded_at)).all()
        return [DatasetInfo(row.id, row.name, row.format, row.record_count, row.loaded_at) for row in rows]

    def find_dataset(self, dataset_id: str) -> DatasetInfo | None:
        columns = [column for column in schema.datasets.c if column.name != "content"]
        with self.engine.connect() as connection:
            row = connection.execute(select(*columns).where(schema.datasets.c.id == dataset_id)).first()
        if row is None:
            return None
        return DatasetInfo(row.id, row.name, row.format, row.record_count, row.loaded_at)

    def dataset_info(self, dataset_id: str) -> DatasetInfo:
        if dataset_id in self.infos:
            return self.infos[dataset_id]
        info = self.find_dataset(dataset_id)
        if info is None:
            raise StoreError(f"dataset {dataset_id!r} is not in the database; load it with `python -m team load`")
        self.infos[dataset_id] = info
        return info

    def resolve_dataset_id(self, prefix: str) -> str:
        """Return the one dataset id that starts with `prefix`, so ids can be typed shortened."""
        matches = [info.id for info in self.list_datasets() if info.id.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise StoreError(f"no dataset id starts with {prefix!r}; `python -m team datasets` lists them")
        raise StoreError(f"{len(matches)} dataset ids start with {prefix!r}; give more characters")

    def load_dataset(self, dataset_id: str) -> LoadedDataset:
        """Return the dataset's records, parsed from the stored bytes once per store."""
        if dataset_id in self.loaded:
            return self.loaded[dataset_id]
        with self.engine.connect() as connection:
            row = connection.execute(
                select(schema.datasets.c.name, schema.datasets.c.format, schema.datasets.c.content).where(
                    schema.datasets.c.id == dataset_id
                )
            ).first()
        if row is None:
            raise StoreError(f"dataset {dataset_id!r} is not in the database; load it with `python -m team load`")
        loaded = load_dataset_bytes(bytes(row.content), row.name, format=row.format)
        self.loaded[dataset_id] = loaded
        return loaded

    # Reviews.

    def latest_reviews(self, dataset_id: str) -> dict[int, StoredReview]:
        """Return the newest review of each reviewed record, by any reviewer."""
        reviews = schema.reviews
        newest = (
            select(reviews.c.record_index, func.max(reviews.c.version).label("version"))
            .where(reviews.c.dataset_id == dataset_id)
            .group_by(reviews.c.record_index)
            .subquery()
        )
        query = select(reviews).join(
            newest,
            and_(
                reviews.c.dataset_id == dataset_id,
                reviews.c.record_index == newest.c.record_index,
                reviews.c.version == newest.c.version,
            ),
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {row.record_index: row_to_review(row) for row in rows}

    def reviewer_reviews(self, dataset_id: str, reviewer: str) -> dict[int, StoredReview]:
        """Return `reviewer`'s newest review of each record they reviewed."""
        # With the reviewer filter, each record's list has that reviewer's one newest review.
        return {index: own[-1] for index, own in self.decisions(dataset_id, reviewer=reviewer).items()}

    def decisions(self, dataset_id: str, *, reviewer: str | None = None) -> dict[int, list[StoredReview]]:
        """Return each reviewer's newest review per record, oldest first within a record."""
        with self.engine.connect() as connection:
            rows = self.query_newest_per_reviewer(connection, dataset_id, reviewer=reviewer)
        result: dict[int, list[StoredReview]] = {}
        for row in sorted(rows, key=lambda row: (row.record_index, row.version)):
            result.setdefault(row.record_index, []).append(row_to_review(row))
        return result

    def history(self, dataset_id: str, index: int | None = None) -> list[StoredReview]:
        """Return every save, of one record or of all, in the order they were made."""
        reviews = schema.reviews
        query = select(reviews).where(reviews.c.dataset_id == dataset_id)
        if index is not None:
            query = query.where(reviews.c.record_index == index)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(reviews.c.id)).all()
        return [row_to_review(row) for row in rows]

    def latest_review(self, dataset_id: str, index: int, *, reviewer: str | None = None) -> StoredReview | None:
        """Return the record's newest review, or the newest by `reviewer` when given."""
        with self.engine.connect() as connection:
            row = self.query_latest_row(connection, dataset_id, index, reviewer=reviewer)
        return None if row is None else row_to_review(row)

    def save_review(
        self,
        dataset_id: str,
        index: int,
        reviewer: str,
        review: Review,
        *,
        expected_version: int,
        reviews_per_record: int = 1,
        now: datetime | None = None,
    ) -> StoredReview | Conflict:
        """Save `reviewer`'s review of record `index` on top of `expected_version`.

        `expected_version` is the version of the review the caller last saw for the record (0
        for none): the record's newest when `reviews_per_record` is 1, else the reviewer's own
        newest. Returns the saved review, or a Conflict when the record has moved on since.
        """
        check_reviewer(reviewer)
        check_reviews_per_record(reviews_per_record)
        if isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 0:
            raise StoreError(f"expected version {expected_version!r} is invalid; expected an integer of 0 or more")
        info = self.dataset_info(dataset_id)
        self.check_index(info, index)
        decided_at = now or utc_now()

        with schema.write_transaction(self.engine) as connection:
            self.lock_dataset(connection, dataset_id)
            scope = None if reviews_per_record == 1 else reviewer
            current = self.query_latest_row(connection, dataset_id, index, reviewer=scope)
            current_version = 0 if current is None else current.version
            if current_version != expected_version:
                return Conflict(
                    index=index,
                    expected_version=expected_version,
                    current=None if current is None else row_to_review(current),
                )

            newest = connection.execute(
                select(func.max(schema.reviews.c.version)).where(
                    schema.reviews.c.dataset_id == dataset_id, schema.reviews.c.record_index == index
                )
            ).scalar()
            version = (newest or 0) + 1
            connection.execute(
                insert(schema.reviews).values(
                    dataset_id=dataset_id,
                    record_index=index,
                    reviewer=reviewer,
                    status=review.status,
                    edited_output=review.edited_output,
                    labels=list(review.labels),
                    note=review.note,
                    version=version,
                    decided_at=decided_at,
                )
            )
            # Working on a record keeps it reserved.
            connection.execute(
                update(schema.reservations)
                .where(
                    schema.reservations.c.dataset_id == dataset_id,
                    schema.reservations.c.record_index == index,
                    schema.reservations.c.reviewer == reviewer,
                )
                .values(expires_at=decided_at + self.reservation_ttl)
            )
        return StoredReview(index=index, reviewer=reviewer, review=review, version=version, decided_at=decided_at)

    # The queue.

    def reserve_next(
        self,
        dataset_id: str,
        reviewer: str,
        *,
        after: int | None = None,
        reviews_per_record: int = 1,
        now: datetime | None = None,
    ) -> int | None:
        """Reserve the next open record for `reviewer` and return its index, or None.

        Without `after`, a record the reviewer has reserved already and can still decide is kept,
        so a reload resumes it. Otherwise the search starts at record 0. With `after`, it starts at
        `after` + 1 and wraps around, so `after` itself comes last. A record is open to the
        reviewer when it is not done, the reviewer has not decided it, and fewer than N minus
        its decisions other reviewers hold it. With N = 1 a record is done when its newest
        review (or, without one, the file's status) is not Pending. The reviewer's other
        reservations in the dataset are released only when a record was found.
        """
        check_reviewer(reviewer)
        check_reviews_per_record(reviews_per_record)
        info = self.dataset_info(dataset_id)
        if after is not None:
            self.check_index(info, after)
        file_statuses = [record.review.status for record in self.load_dataset(dataset_id).records]
        now = now or utc_now()
        expires_at = now + self.reservation_ttl
        reservations = schema.reservations

        with schema.write_transaction(self.engine) as connection:
            self.lock_dataset(connection, dataset_id)
            connection.execute(
                delete(reservations).where(reservations.c.dataset_id == dataset_id, reservations.c.expires_at <= now)
            )
            holders: dict[int, set[str]] = {}
            for row in connection.execute(
                select(reservations.c.record_index, reservations.c.reviewer).where(reservations.c.dataset_id == dataset_id)
            ):
                holders.setdefault(row.record_index, set()).add(row.reviewer)

            is_open = self.open_record_test(
                connection, dataset_id, reviewer, reviews_per_record, file_statuses, holders
            )

            if after is None:
                reserved_already = sorted(index for index, names in holders.items() if reviewer in names)
                for index in reserved_already:
                    if is_open(index):
                        self.hold(connection, dataset_id, index, reviewer, expires_at, renew=True)
                        return index
                order: Iterable[int] = range(info.record_count)
            else:
                order = [*range(after + 1, info.record_count), *range(0, after + 1)]

            for index in order:
                if not is_open(index):
                    continue
                connection.execute(
                    delete(reservations).where(
                        reservations.c.dataset_id == dataset_id,
                        reservations.c.reviewer == reviewer,
                        reservations.c.record_index != index,
                    )
                )
                self.hold(connection, dataset_id, index, reviewer, expires_at, renew=reviewer in holders.get(index, ()))
                return index
        return None

    def release(self, dataset_id: str, reviewer: str, index: int | None = None) -> int:
        """Release `reviewer`'s reservation of record `index`, or all of theirs; return how many."""
        reservations = schema.reservations
        condition = and_(reservations.c.dataset_id == dataset_id, reservations.c.reviewer == reviewer)
        if index is not None:
            condition = and_(condition, reservations.c.record_index == index)
        with schema.write_transaction(self.engine) as connection:
            return connection.execute(delete(reservations).where(condition)).rowcount

    def reservations(self, dataset_id: str, *, now: datetime | None = None) -> dict[int, list[str]]:
        """Return the unexpired reservations as {record index: reviewers}."""
        reservations = schema.reservations
        query = select(reservations.c.record_index, reservations.c.reviewer).where(
            reservations.c.dataset_id == dataset_id, reservations.c.expires_at > (now or utc_now())
        )
        result: dict[int, list[str]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query.order_by(reservations.c.record_index, reservations.c.reviewer)):
                result.setdefault(row.record_index, []).append(row.reviewer)
        return result

    # Agreement and exports.

    def agreement(self, dataset_id: str) -> AgreementReport:
        """Measure agreement on Accept/Reject between reviewers, per record and per pair."""
        self.dataset_info(dataset_id)
        by_record = {
            index: {stored.reviewer: stored.review.status for stored in stored_reviews}
            for index, stored_reviews in self.decisions(dataset_id).items()
        }
        return measure_agreement(by_record)

    def export(self, dataset_id: str, choice: ExportChoice, *, rule: ConsensusRule = "latest") -> tuple[str, bytes]:
        """Return (file name, bytes) of the curated dataset in the export format `choice`."""
        dataset = self.load_dataset(dataset_id)
        return build_team_export(
            dataset, self.decisions(dataset_id), self.latest_reviews(dataset_id), choice, rule=rule
        )

    # Helpers.

    @staticmethod
    def check_index(info: DatasetInfo, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < info.record_count:
            raise StoreError(
                f"record index {index!r} is outside 0..{info.record_count - 1} of dataset {info.name!r}"
            )

    @staticmethod
    def lock_dataset(connection: Connection, dataset_id: str) -> None:
        """Make the writes to one dataset wait for each other (SQLite holds its lock already)."""
        found = connection.execute(
            select(schema.datasets.c.id).where(schema.datasets.c.id == dataset_id).with_for_update()
        ).first()
        if found is None:
            raise StoreError(f"dataset {dataset_id!r} is not in the database; load it with `python -m team load`")

    @staticmethod
    def query_latest_row(connection: Connection, dataset_id: str, index: int, *, reviewer: str | None) -> Row | None:
        reviews = schema.reviews
        query = select(reviews).where(reviews.c.dataset_id == dataset_id, reviews.c.record_index == index)
        if reviewer is not None:
            query = query.where(reviews.c.reviewer == reviewer)
        return connection.execute(query.order_by(reviews.c.version.desc()).limit(1)).first()

    @staticmethod
    def query_newest_per_reviewer(connection: Connection, dataset_id: str, *, reviewer: str | None = None) -> Sequence[Row]:
        reviews = schema.reviews
        newest = select(
            reviews.c.record_index, reviews.c.reviewer, func.max(reviews.c.version).label("version")
        ).where(reviews.c.dataset_id == dataset_id)
        if reviewer is not None:
            newest = newest.where(reviews.c.reviewer == reviewer)
        newest_table = newest.group_by(reviews.c.record_index, reviews.c.reviewer).subquery()
        query = select(reviews).join(
            newest_table,
            and_(
                reviews.c.dataset_id == dataset_id,
                reviews.c.record_index == newest_table.c.record_index,
                reviews.c.version == newest_table.c.version,
            ),
        )
        return connection.execute(query).all()

    def open_record_test(
        self,
        connection: Connection,
        dataset_id: str,
        reviewer: str,
        reviews_per_record: int,
        file_statuses: Sequence[str],
        holders: dict[int, set[str]],
    ) -> Callable[[int], bool]:
        """Return a function that returns whether a record is open to `reviewer` (see reserve_next)."""
        newest = self.query_newest_per_reviewer(connection, dataset_id)
        deciders: dict[int, set[str]] = {}
        latest: dict[int, tuple[int, str]] = {}
        for row in newest:
            if row.status != "Pending":
                deciders.setdefault(row.record_index, set()).add(row.reviewer)
            if row.record_index not in latest or row.version > latest[row.record_index][0]:
                latest[row.record_index] = (row.version, row.status)

        def is_open(index: int) -> bool:
            others = holders.get(index, set()) - {reviewer}
            if reviews_per_record == 1:
                status = latest[index][1] if index in latest else file_statuses[index]
                return status == "Pending" and not others
            decided = deciders.get(index, set())
            if reviewer in decided:
                return False
            return len(decided) + len(others - decided) < reviews_per_record

        return is_open

    @staticmethod
    def hold(connection: Connection, dataset_id: str, index: int, reviewer: str, expires_at: datetime, *, renew: bool) -> None:
        reservations = schema.reservations
        if renew:
            connection.execute(
                update(reservations)
                .where(
                    reservations.c.dataset_id == dataset_id,
                    reservations.c.record_index == index,
                    reservations.c.reviewer == reviewer,
                )
                .values(expires_at=expires_at)
            )
        else:
            connection.execute(
                insert(reservations).values(
                    dataset_id=dataset_id, record_index=index, reviewer=reviewer, expires_at=expires_at
                )
            )
