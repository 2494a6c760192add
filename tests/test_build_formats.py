"""build.py with every real trace file: `--data FILE --out DIR` and no other flag builds the site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from traces_samples import REAL_FILES

REPO_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_DIR))

from build import safe_file_name  # noqa: E402 - needs the repository on sys.path

# The real trace files kept next to the repository, as the shared_data_dir fixture finds them. The
# files are listed when the tests are collected, so that each one is its own test case.
DATA_DIR = REPO_DIR.parent / "shared" / "data"

EXPECTED = {relative_path: (format_name, records, problems) for relative_path, format_name, records, _, problems in REAL_FILES}

# Every problem build.py reports for the file with malformed lines, checked by hand against the file.
EDGE_CASES = "claude-code-log/edge_cases.jsonl"
EDGE_CASE_WARNINGS = [
    "WARNING: edge_cases.jsonl, line 10, message.content: missing; expected a string or a list of content blocks",
    'WARNING: edge_cases.jsonl, line 11, message: found "error"; expected a message object with "role" and "content"',
    'WARNING: edge_cases.jsonl, line 13: found "massive error"; expected a transcript event object with "type", "sessionId" and "message"',
    'WARNING: edge_cases.jsonl, line 14, type: missing; expected "user", "assistant" or "summary"',
    'WARNING: edge_cases.jsonl, line 15: found 42; expected a transcript event object with "type", "sessionId" and "message"',
    'WARNING: edge_cases.jsonl, line 16: found [1]; expected a transcript event object with "type", "sessionId" and "message"',
    "WARNING: 6 part(s) of edge_cases.jsonl could not be read and are left out of review; "
    "they are kept unchanged in the curated download",
]


def list_data_files() -> list:
    """Return one test parameter per trace file, or one skipped parameter when the folder is missing."""
    if not DATA_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"sample data directory not found: {DATA_DIR}"))]
    paths = sorted(path for path in DATA_DIR.rglob("*") if path.is_file() and path.name not in ("README.md", "SOURCES.md"))
    return [str(path.relative_to(DATA_DIR)) for path in paths]


def run_build(data: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "build.py", "--data", str(data), "--out", str(out)],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )


def problem_lines(log: str, name: str) -> list[str]:
    """Return the log lines that report a problem in the file called `name`."""
    return [line for line in log.splitlines() if line.startswith("WARNING: ") and name in line]


@pytest.mark.parametrize("relative_path", list_data_files())
def test_build_real_file_without_flags(tmp_path: Path, relative_path: str):
    assert relative_path in EXPECTED, f"{relative_path} has no row in REAL_FILES in tests/traces_samples.py; count it and add one"
    format_name, records, problems = EXPECTED[relative_path]
    data = DATA_DIR / relative_path
    out = tmp_path / "site"

    result = run_build(data, out)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    noun = "record" if records == 1 else "records"
    assert f"Dataset {data}: {records} {noun} in {format_name} format" in result.stderr
    assert len(problem_lines(result.stderr, data.name)) == (problems + 1 if problems else 0), result.stderr
    assert f"Site ready in {out}" in result.stderr

    files = json.loads((out / "app" / "runtime" / "files.json").read_text(encoding="utf-8"))
    settings = json.loads(files["app/review_settings.json"])
    assert settings["format"] == format_name
    assert f"app/datasets/{safe_file_name(data.name)}" in files


@pytest.mark.skipif(not (DATA_DIR / EDGE_CASES).is_file(), reason=f"{EDGE_CASES} not found in {DATA_DIR}")
def test_build_malformed_lines_reported(tmp_path: Path):
    result = run_build(DATA_DIR / EDGE_CASES, tmp_path / "site")

    assert result.returncode == 0, result.stderr
    assert problem_lines(result.stderr, "edge_cases.jsonl") == EDGE_CASE_WARNINGS
