"""Small renderers and pure helpers for the review panel: status, counts, diff, view and exports."""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from htmltools import Tag, TagList, tags
from review_state import STATUSES, ReviewState
from text_diff import diff_words
from traces import LoadedDataset, Review, export_normalized_jsonl, export_openai_finetune, export_original

EXPORT_CHOICES = {
    "original": "Curated dataset, original format",
    "openai": "OpenAI fine-tuning JSONL (accepted records)",
    "normalized": "Normalized records JSONL (with review fields)",
}


@dataclass(frozen=True)
class View:
    """The record indices that pass the filters, in dataset order."""

    indices: Sequence[int]
    total: int

    @property
    def is_filtered(self) -> bool:
        return len(self.indices) != self.total

    def rank(self, index: int) -> int:
        """Return how many indices in the view are at or before `index`."""
        return bisect.bisect_right(self.indices, index)

    def next_after(self, index: int) -> int:
        """Return the first index after `index`, or `total` when there is none."""
        rank = bisect.bisect_right(self.indices, index)
        return self.indices[rank] if rank < len(self.indices) else self.total

    def previous_before(self, index: int) -> int | None:
        rank = bisect.bisect_left(self.indices, index)
        return self.indices[rank - 1] if rank > 0 else None

    def first_from(self, index: int) -> int:
        """Return the first index at or after `index`, else the last one, else `total`."""
        rank = bisect.bisect_left(self.indices, index)
        if rank < len(self.indices):
            return self.indices[rank]
        return self.indices[-1] if self.indices else self.total


def describe_progress(state: ReviewState, view: View) -> str:
    """Return the progress line, e.g. "Record 3 of 40" or "Record 2 of 5 (filtered from 40)"."""
    shown = len(view.indices)
    if state.is_done or shown == 0:
        current = shown
    else:
        current = max(view.rank(state.position), 1)
    line = f"Record {current} of {shown}"
    if view.is_filtered:
        line += f" (filtered from {view.total})"
    return line


def render_status_box(review: Review) -> Tag:
    return tags.div(
        f"Status: {review.status}",
        class_=f"status-box status-{review.status.lower()}",
        role="status",
    )


def render_counts(state: ReviewState) -> TagList:
    """Render the counts per status and per label and a progress bar of decided records."""
    counts = state.counts
    decided = counts["Accepted"] + counts["Rejected"]
    percent = 100 * decided / state.total if state.total else 0
    status_rows = [tags.tr(tags.td(status), tags.td(str(counts[status]))) for status in STATUSES]
    label_rows = [tags.tr(tags.td(label, class_="label-name"), tags.td(str(count))) for label, count in sorted(state.label_counts.items())]

    return TagList(
        tags.div(
            tags.div(
                class_="progress-bar bg-success",
                style=f"width: {percent:.1f}%",
            ),
            class_="progress review-progress",
            role="progressbar",
            aria_label="Decided records",
            aria_valuenow=f"{percent:.0f}",
            aria_valuemin="0",
            aria_valuemax="100",
        ),
        tags.table(
            tags.thead(tags.tr(tags.th("Status"), tags.th("Count"))),
            tags.tbody(*status_rows),
            class_="table table-sm counts-table",
        ),
        tags.table(
            tags.thead(tags.tr(tags.th("Label"), tags.th("Count"))),
            tags.tbody(*label_rows),
            class_="table table-sm label-counts-table",
        )
        if label_rows
        else None,
    )


def render_diff(original: str, edited: str) -> Tag | None:
    """Render the reviewer's changes to the output at word level, or None when there are none."""
    if original == edited:
        return None
    pieces = []
    for operation, text in diff_words(original, edited):
        if operation == "insert":
            pieces.append(tags.ins(text))
        elif operation == "delete":
            pieces.append(Tag("del", text, _add_ws=False))
        else:
            pieces.append(text)
    return tags.details(
        tags.summary("Changes against the original output"),
        # The panel keeps white space (pre-wrap), so htmltools must not indent the pieces.
        tags.div(*pieces, class_="output-diff", _add_ws=False),
        class_="diff-panel",
        open="",
    )


def describe_rate(decisions: int, started: float, now: float | None = None) -> str:
    """Return the review rate in this session, in records per hour."""
    elapsed_hours = ((time.monotonic() if now is None else now) - started) / 3600
    if decisions == 0 or elapsed_hours <= 0:
        return "Rate: no decisions yet in this session"
    return f"Rate: {decisions / elapsed_hours:,.0f} records/hour ({decisions} this session)"


def export_file(dataset: LoadedDataset, reviews: Sequence[Review], choice: str) -> tuple[str, str]:
    """Return (file name, text) of the export named by `choice`, one of EXPORT_CHOICES."""
    path = Path(dataset.name)
    stem = path.stem or "dataset"
    if choice == "openai":
        return f"{stem}.finetune.jsonl", export_openai_finetune(dataset, reviews).decode("utf-8")
    if choice == "normalized":
        return f"{stem}.reviewed.jsonl", export_normalized_jsonl(dataset, reviews).decode("utf-8")
    suffix = path.suffix or ".json"
    return f"{stem}.curated{suffix}", export_original(dataset, reviews).decode("utf-8")
