"""Agreement between reviewers on Accept/Reject: per record, per pair (Cohen's kappa), overall.

Only decisions count: a reviewer whose newest review of a record is Pending has not judged it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

DECISIONS = ("Accepted", "Rejected")


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Compute Cohen's kappa of two raters who labelled the same items in the same order.

    kappa = (p_o - p_e) / (1 - p_e), where p_o is the share of items both labelled alike and
    p_e the agreement expected by chance from each rater's label frequencies. Returns None when
    kappa is undefined: no items, or p_e = 1 (both raters used one and the same label throughout).
    """
    if len(first) != len(second):
        raise ValueError(f"the raters labelled {len(first)} and {len(second)} items; expected the same items")
    count = len(first)
    if count == 0:
        return None

    observed = sum(1 for a, b in zip(first, second) if a == b) / count
    labels = set(first) | set(second)
    expected = sum((first.count(label) / count) * (second.count(label) / count) for label in labels)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class RecordAgreement:
    """Decision counts of one record's reviewers, and the share of reviewer pairs that agree."""

    index: int
    accepted: int
    rejected: int

    @property
    def agreement(self) -> float | None:
        """Share of reviewer pairs with the same decision; None below two decisions."""
        total = self.accepted + self.rejected
        if total < 2:
            return None
        pairs = total * (total - 1) / 2
        agreeing = self.accepted * (self.accepted - 1) / 2 + self.rejected * (self.rejected - 1) / 2
        return agreeing / pairs


@dataclass(frozen=True)
class PairAgreement:
    """Cohen's kappa of two reviewers over the records both decided."""

    first: str
    second: str
    records: int
    observed: float | None
    kappa: float | None


@dataclass(frozen=True)
class AgreementReport:
    """Agreement per record (records with any decision) and per pair of reviewers."""

    records: list[RecordAgreement]
    pairs: list[PairAgreement]

    @property
    def mean_kappa(self) -> float | None:
        """Mean of the defined pairwise kappas (Light's kappa); None when no pair has one."""
        kappas = [pair.kappa for pair in self.pairs if pair.kappa is not None]
        return sum(kappas) / len(kappas) if kappas else None

    @property
    def observed(self) -> float | None:
        """Share of agreeing reviewer pairs over all records with two or more decisions."""
        pairs = 0.0
        agreeing = 0.0
        for record in self.records:
            total = record.accepted + record.rejected
            if total < 2:
                continue
            pairs += total * (total - 1) / 2
            agreeing += record.accepted * (record.accepted - 1) / 2 + record.rejected * (record.rejected - 1) / 2
        return agreeing / pairs if pairs else None


def measure_agreement(decisions: Mapping[int, Mapping[str, str]]) -> AgreementReport:
    """Measure agreement from {record index: {reviewer: status}}; Pending statuses are skipped."""
    judged = {
        index: {reviewer: status for reviewer, status in by_reviewer.items() if status in DECISIONS}
        for index, by_reviewer in sorted(decisions.items())
    }
    records = [
        RecordAgreement(
            index=index,
            accepted=sum(1 for status in by_reviewer.values() if status == "Accepted"),
            rejected=sum(1 for status in by_reviewer.values() if status == "Rejected"),
        )
        for index, by_reviewer in judged.items()
        if by_reviewer
    ]

    reviewers = sorted({reviewer for by_reviewer in judged.values() for reviewer in by_reviewer})
    pairs = []
    for first, second in combinations(reviewers, 2):
        shared = [index for index, by_reviewer in judged.items() if first in by_reviewer and second in by_reviewer]
        if not shared:
            continue
        first_labels = [judged[index][first] for index in shared]
        second_labels = [judged[index][second] for index in shared]
        observed = sum(1 for a, b in zip(first_labels, second_labels) if a == b) / len(shared)
        pairs.append(
            PairAgreement(
                first=first,
                second=second,
                records=len(shared),
                observed=observed,
                kappa=cohen_kappa(first_labels, second_labels),
            )
        )
    return AgreementReport(records=records, pairs=pairs)
