"""Exports of a team-reviewed dataset: one chosen review per record, plus who decided and when.

The original format and OpenAI fine-tuning JSONL have fixed layouts that other tools read, so
they get the chosen review applied and nothing else. Normalized JSONL carries the chosen review
in `review` and every reviewer's newest review, with reviewer, version and time, in `team_review`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from review_view import export_file
from traces import LoadedDataset, Review

if TYPE_CHECKING:
    from team.store import StoredReview

# "latest": the record's newest save, by any reviewer (for one review per record, where each save
# was made on top of the previous one). "majority": the decision most reviewers made, ties going
# to the newest decision (for several independent reviews per record).
ConsensusRule = Literal["latest", "majority"]
CONSENSUS_RULES: tuple[ConsensusRule, ...] = ("latest", "majority")

EXPORT_CHOICES = ("original", "openai", "normalized")


def choose_review(
    decisions: Sequence[StoredReview], latest: StoredReview | None, rule: ConsensusRule
) -> StoredReview | None:
    """Pick the review a record is exported with, or None to keep the file's own review.

    `decisions` contains each reviewer's newest review of the record and `latest` the record's
    newest save. The majority rule counts Accepted against Rejected; the review it returns is
    the newest one with the winning status, so its edited output and labels come along.
    """
    if rule not in CONSENSUS_RULES:
        raise ValueError(f"consensus rule {rule!r} is unknown; expected one of {', '.join(CONSENSUS_RULES)}")
    if rule == "latest":
        return latest

    decided = [stored for stored in decisions if stored.review.status != "Pending"]
    if not decided:
        return latest
    accepted = sum(1 for stored in decided if stored.review.status == "Accepted")
    rejected = len(decided) - accepted
    newest = max(decided, key=lambda stored: stored.version)
    if accepted == rejected:
        return newest
    winner = "Accepted" if accepted > rejected else "Rejected"
    return max((stored for stored in decided if stored.review.status == winner), key=lambda stored: stored.version)


def describe_stored(stored: StoredReview) -> dict[str, Any]:
    """Return a review with its reviewer, version and time, as JSON-ready values."""
    return {
        "reviewer": stored.reviewer,
        "version": stored.version,
        "decided_at": stored.decided_at.isoformat(),
        **stored.review.model_dump(mode="json"),
    }


def build_team_export(
    dataset: LoadedDataset,
    decisions: Mapping[int, Sequence[StoredReview]],
    latest: Mapping[int, StoredReview],
    choice: str,
    *,
    rule: ConsensusRule = "latest",
) -> tuple[str, bytes]:
    """Return (file name, bytes) of the export `choice`: original, openai or normalized."""
    if choice not in EXPORT_CHOICES:
        raise ValueError(f"export format {choice!r} is unknown; expected one of {', '.join(EXPORT_CHOICES)}")

    chosen = [
        choose_review(decisions.get(index, ()), latest.get(index), rule) for index in range(len(dataset.records))
    ]
    reviews: list[Review] = [
        record.review if stored is None else stored.review for record, stored in zip(dataset.records, chosen)
    ]
    name, text = export_file(dataset, reviews, choice)
    if choice != "normalized":
        return name, text.encode("utf-8")

    # The normalized lines follow the records in order, one each; attach who decided what. The text
    # is split on "\n" only, because str.splitlines also splits on U+2028 inside JSON strings.
    lines = text.split("\n")[:-1]
    attributed = []
    for index, line in enumerate(lines):
        item = json.loads(line)
        stored = chosen[index]
        item["team_review"] = {
            "rule": rule,
            "chosen": None
            if stored is None
            else {"reviewer": stored.reviewer, "version": stored.version, "decided_at": stored.decided_at.isoformat()},
            "decisions": [describe_stored(each) for each in decisions.get(index, ())],
        }
        attributed.append(json.dumps(item, ensure_ascii=False) + "\n")
    return name, "".join(attributed).encode("utf-8")
