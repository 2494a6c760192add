"""Synthetic datasets in the demo's format (LangSmith run rows), made from the sample rows.

Each record copies one sample row and replaces its ids and the text of its messages with slices of
the sample's own text, so records look like the real ones but are small (about 2 KB each) and all
differ. 100,000 records are about 200 MB of JSON.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "sample_data" / "langsmith_runs.json"

# Characters of text each message keeps, chosen so that a record is about 2 KB of JSON.
SYSTEM_CHARS = 300
DOCUMENT_CHARS = 450
QUESTION_CHARS = 160
OUTPUT_CHARS = 400

ID_NAMESPACE = uuid.UUID("6c0f8a52-2d44-4d55-9d87-2f1f6b4f7e10")


def text_slice(text: str, index: int, size: int) -> str:
    """Return `size` characters of `text`, starting at an offset that depends on `index`."""
    if len(text) <= size:
        return text
    start = (index * 7919) % (len(text) - size)
    return text[start : start + size]


def make_record(template: dict, index: int) -> dict:
    """Return a small record made from `template`, with ids and text that depend on `index`."""
    record = copy.deepcopy(template)
    run_id = str(uuid.uuid5(ID_NAMESPACE, f"child-{index}"))
    parent_id = str(uuid.uuid5(ID_NAMESPACE, f"parent-{index}"))
    record["child_run_id"] = run_id
    record["parent_run_id"] = parent_id
    record["child_url"] = record["child_url"].replace(template["child_run_id"], run_id)
    record["parent_url"] = record["parent_url"].replace(template["parent_run_id"], parent_id)
    record["status"] = "Pending"

    run = record["child_run"]
    run["run_id"] = run_id
    messages = run["inputs"]
    all_text = " ".join(message.get("content") or "" for message in messages)
    trimmed = []
    for position, message in enumerate(messages):
        if message["role"] == "system" and position == 0:
            trimmed.append({**message, "content": text_slice(message["content"], index, SYSTEM_CHARS)})
        elif message["role"] == "user":
            question = text_slice(message["content"], index, QUESTION_CHARS)
            trimmed.append({**message, "content": f"Question {index + 1}: {question}"})
        elif len(trimmed) < 2:
            trimmed.append({**message, "content": text_slice(all_text, index, DOCUMENT_CHARS)})
    run["inputs"] = trimmed
    output = run["output"]
    output["content"] = text_slice(output.get("content") or all_text, index, OUTPUT_CHARS)
    return record


def write_dataset(path: Path, count: int) -> Path:
    """Write `count` records to `path` as a JSON list; 4 writes the sample rows unchanged."""
    samples = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))
    if count == len(samples):
        path.write_text(json.dumps(samples, ensure_ascii=False), encoding="utf-8")
        return path

    with path.open("w", encoding="utf-8") as stream:
        stream.write("[")
        for index in range(count):
            if index:
                stream.write(",")
            stream.write(json.dumps(make_record(samples[index % len(samples)], index), ensure_ascii=False))
        stream.write("]")
    return path
