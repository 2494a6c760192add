"""Progress files: a reviewer's decisions, edits, notes and labels, to move between browsers."""

from __future__ import annotations

import json
from typing import Any

from review_state import STORAGE_SCHEMA, ReviewState, StoredStateError
from traces import LoadedDataset

BACKUP_KIND = "llm-data-review-progress"


def make_progress_backup(dataset: LoadedDataset, state: ReviewState) -> dict[str, Any]:
    """Return the progress file's content: every record whose review differs from the file's."""
    return {
        "kind": BACKUP_KIND,
        "dataset": dataset.dataset_id,
        "dataset_name": dataset.name,
        **state.to_storage(),
    }


def merge_progress_backup(
    dataset: LoadedDataset, state: ReviewState, text: str
) -> tuple[ReviewState, list[int], list[int]]:
    """Merge a progress file into `state`; return (state, changed records, conflicting records).

    A record is taken from the file when this browser has no decision of its own for it or has the
    same one. When both have different reviews, this browser's is kept and the record is reported
    as a conflict.
    """
    try:
        backup = json.loads(text)
    except ValueError as error:
        raise ValueError(f"the file is not JSON ({error})") from error

    if not isinstance(backup, dict) or backup.get("kind") != BACKUP_KIND:
        raise ValueError(f'the file is not a progress file; expected "kind": "{BACKUP_KIND}"')
    if backup.get("dataset") != dataset.dataset_id:
        raise ValueError(
            f"the file holds progress for {backup.get('dataset_name', 'another dataset')!r}, "
            f"not for {dataset.name!r} (the datasets' contents differ)"
        )
    if backup.get("schema") != STORAGE_SCHEMA:
        raise StoredStateError(f"schema {backup.get('schema')!r} is not supported; expected {STORAGE_SCHEMA}")

    records = backup.get("records")
    if not isinstance(records, list):
        raise StoredStateError("records must be a list")

    changed: list[int] = []
    conflicts: list[int] = []
    for entry in records:
        index, incoming = state.parse_stored_record(entry)
        local = state.review_at(index)
        if local == incoming:
            continue
        if local != state.originals[index]:
            conflicts.append(index)
            continue
        state = state.apply_review(index, incoming)
        changed.append(index)
    return state, changed, conflicts
