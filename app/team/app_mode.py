"""Team mode inside the review app: configuration from the environment and per-session logic.

app.py keeps its ReviewState for the page. A TeamSession loads that state from the database and
saves the records an action changed, with the versions it loaded. It also moves through the
queue of reserved records. The methods block on the database, so app.py calls them in a thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from review_state import ReviewState
from team.auth import REVIEWER_SCOPE_KEY, SIGN_OUT_SCOPE_KEY
from team.exports import ConsensusRule
from team.store import DEFAULT_RESERVATION_TTL, Conflict, ReviewStore, StoredReview
from traces import LoadedDataset

DATABASE_URL_VARIABLE = "LLM_REVIEW_DATABASE_URL"
DATASET_ID_VARIABLE = "LLM_REVIEW_DATASET_ID"
REVIEWS_PER_RECORD_VARIABLE = "LLM_REVIEW_REVIEWS_PER_RECORD"
RESERVATION_MINUTES_VARIABLE = "LLM_REVIEW_RESERVATION_MINUTES"


@dataclass(frozen=True)
class TeamConfig:
    """Database, dataset and queue settings of team mode."""

    database_url: str
    dataset_id: str
    reviews_per_record: int = 1
    reservation_ttl: timedelta = DEFAULT_RESERVATION_TTL


def read_positive_integer(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r} is invalid; expected a whole number of 1 or more")
    return int(value)


def read_team_config(environ: Mapping[str, str]) -> TeamConfig | None:
    """Return the team configuration from environment variables, or None when it is not set."""
    database_url = environ.get(DATABASE_URL_VARIABLE, "").strip()
    if not database_url:
        return None
    dataset_id = environ.get(DATASET_ID_VARIABLE, "").strip()
    if not dataset_id:
        raise ValueError(
            f"{DATABASE_URL_VARIABLE} is set but {DATASET_ID_VARIABLE} is not; set it to the id "
            "that `python -m team load` printed"
        )
    default_minutes = int(DEFAULT_RESERVATION_TTL.total_seconds() // 60)
    return TeamConfig(
        database_url=database_url,
        dataset_id=dataset_id,
        reviews_per_record=read_positive_integer(environ, REVIEWS_PER_RECORD_VARIABLE, 1),
        reservation_ttl=timedelta(minutes=read_positive_integer(environ, RESERVATION_MINUTES_VARIABLE, default_minutes)),
    )


@dataclass(frozen=True)
class TeamOutcome:
    """The state to show after a team action, and the notices for the reviewer."""

    state: ReviewState
    conflicts: tuple[Conflict, ...] = ()
    # True when the queue had no record to hand out.
    queue_empty: bool = False


class TeamMode:
    """The store and dataset that every session of the served app shares."""

    def __init__(self, config: TeamConfig, store: ReviewStore) -> None:
        self.config = config
        self.store = store
        store.check_schema()
        self.dataset: LoadedDataset = store.load_dataset(store.resolve_dataset_id(config.dataset_id))
        self.dataset_id = self.dataset.dataset_id

    @classmethod
    def open(cls, environ: Mapping[str, str]) -> TeamMode | None:
        """Open team mode as the environment configures it, or return None when it is not set."""
        config = read_team_config(environ)
        if config is None:
            return None
        return cls(config, ReviewStore(config.database_url, reservation_ttl=config.reservation_ttl))

    @property
    def consensus_rule(self) -> ConsensusRule:
        return "latest" if self.config.reviews_per_record == 1 else "majority"

    def open_session(self, scope: Mapping[str, Any]) -> TeamSession:
        """Start the team part of one app session for the reviewer that sign-in put in `scope`."""
        reviewer = scope.get(REVIEWER_SCOPE_KEY)
        sign_out_path = scope.get(SIGN_OUT_SCOPE_KEY)
        return TeamSession(
            self,
            reviewer if isinstance(reviewer, str) and reviewer else None,
            sign_out_path=sign_out_path if isinstance(sign_out_path, str) else None,
        )


class TeamSession:
    """One reviewer's session: the versions it has seen and the record it holds."""

    def __init__(self, mode: TeamMode, reviewer: str | None, *, sign_out_path: str | None = None) -> None:
        self.mode = mode
        self.sign_out_path = sign_out_path
        self.store = mode.store
        self.dataset_id = mode.dataset_id
        self.reviewer = reviewer
        self.reviews_per_record = mode.config.reviews_per_record
        # The version each shown record's review was loaded or saved as: what the next save of
        # that record builds on.
        self.versions: dict[int, int] = {}
        self.reserved_index: int | None = None

    @property
    def problem(self) -> str | None:
        """Why this session cannot review, or None."""
        if self.reviewer is None:
            return (
                "No reviewer is signed in, so nothing can be saved. Team mode must be served with "
                "`python -m team serve`, which signs reviewers in."
            )
        return None

    @property
    def independent(self) -> bool:
        """Whether each reviewer judges on their own, seeing only their own reviews."""
        return self.reviews_per_record > 1

    def visible_review(self, index: int) -> StoredReview | None:
        reviewer = self.reviewer if self.independent else None
        return self.store.latest_review(self.dataset_id, index, reviewer=reviewer)

    def show(self, state: ReviewState, index: int, stored: StoredReview | None) -> ReviewState:
        """Return `state` with record `index` as stored (the file's review when nothing is)."""
        self.versions[index] = 0 if stored is None else stored.version
        review = state.originals[index] if stored is None else stored.review
        return state.apply_review(index, review)

    def start(self, state: ReviewState) -> TeamOutcome:
        """Load the stored reviews into `state` and move to the reviewer's reserved record."""
        if self.independent:
            stored_reviews = self.store.reviewer_reviews(self.dataset_id, self.reviewer)
        else:
            stored_reviews = self.store.latest_reviews(self.dataset_id)
        for index, stored in stored_reviews.items():
            state = self.show(state, index, stored)
        return self.reserve(state, after=None, move_when_empty=True)

    def reserve(self, state: ReviewState, *, after: int | None, move_when_empty: bool) -> TeamOutcome:
        """Move to the next reserved record; with none left, to the end or nowhere."""
        index = self.store.reserve_next(
            self.dataset_id, self.reviewer, after=after, reviews_per_record=self.reviews_per_record
        )
        if index is None:
            moved = state.move_to(state.total) if move_when_empty else state
            return TeamOutcome(state=moved, queue_empty=True)
        self.reserved_index = index
        refreshed = self.show(state, index, self.visible_review(index))
        return TeamOutcome(state=refreshed.move_to(index))

    def commit(self, state: ReviewState, changed: Sequence[int], *, decision: bool) -> TeamOutcome:
        """Save the changed records; after a decision move to the next reserved record.

        A record that someone else saved first is not saved: it shows their review, the undo
        step of the refused change is dropped, and the state moves to it, so the page shows
        what happened. A move without changes shows the newest stored review of the new record.
        """
        conflicts: list[Conflict] = []
        for index in sorted(set(changed)):
            result = self.store.save_review(
                self.dataset_id,
                index,
                self.reviewer,
                state.review_at(index),
                expected_version=self.versions.get(index, 0),
                reviews_per_record=self.reviews_per_record,
            )
            if isinstance(result, Conflict):
                conflicts.append(result)
                state = self.show(state, index, result.current)
                if state.undo_steps and state.undo_steps[-1].index == index:
                    state = replace(state, undo_steps=state.undo_steps[:-1])
            else:
                self.versions[index] = result.version

        if conflicts:
            return TeamOutcome(state=state.move_to(conflicts[0].index), conflicts=tuple(conflicts))
        if decision and changed:
            return self.reserve(state, after=changed[0], move_when_empty=True)
        if not changed and not state.is_done:
            return TeamOutcome(state=self.show(state, state.position, self.visible_review(state.position)))
        return TeamOutcome(state=state)

    def go_next(self, state: ReviewState) -> TeamOutcome:
        """Move to the next reserved record after the current one, staying put when none is left."""
        after = min(state.position, state.total - 1) if state.total else None
        outcome = self.reserve(state, after=after, move_when_empty=False)
        # The reviewer's own record comes back last, when no other record is open.
        if outcome.state.position == state.position:
            return replace(outcome, queue_empty=True)
        return outcome

    def release(self) -> None:
        """Give up the record this session holds, so that the queue can hand it out again."""
        if self.reviewer is not None and self.reserved_index is not None:
            self.store.release(self.dataset_id, self.reviewer, self.reserved_index)
            self.reserved_index = None

    def export(self, choice: str) -> tuple[str, str]:
        """Return (file name, text) of the team's curated dataset in the export format `choice`."""
        name, data = self.store.export(self.dataset_id, choice, rule=self.mode.consensus_rule)
        return name, data.decode("utf-8")


def describe_conflict(conflict: Conflict) -> str:
    """Say which record someone else saved first, with their decision, for the conflict notice."""
    record = f"Record {conflict.index + 1}"
    current = conflict.current
    if current is None:
        return f"{record} changed in the database since you opened it, so your change was not saved. Review it again."
    review = current.review
    decision = review.status
    if review.edited_output is not None:
        decision += " with an edited output"
    when = current.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"{record} was saved by {current.reviewer} at {when} before your change ({decision}), "
        "so your change was not saved. Their review is shown; decide again to replace it."
    )
