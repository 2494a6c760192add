"""build.py end to end: a real build into a temporary folder, and the ways a build must fail."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
SAMPLE = REPO_DIR / "sample_data" / "langsmith_runs.json"


def run_build(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "build.py", *arguments],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "site"
    result = run_build("--out", str(out), "--labels", "hallucination, off topic")
    assert result.returncode == 0, result.stderr
    return out


def test_build_writes_site_layout(built_site: Path):
    for relative in (
        "index.html",
        "blog/index.html",
        "app/index.html",
        "app/runtime/worker.mjs",
        "app/runtime/bridge.js",
        "app/runtime/config.json",
    ):
        assert (built_site / relative).is_file(), relative


def test_build_page_loads_bridge_after_shiny(built_site: Path):
    html = (built_site / "app" / "index.html").read_text(encoding="utf-8")

    assert html.index("shiny-1.8.0/shiny.js") < html.index('src="runtime/bridge.js"')
    assert "LLM Output (Editable)" in html


def test_build_page_starts_worker_first(built_site: Path):
    html = (built_site / "app" / "index.html").read_text(encoding="utf-8")

    assert "llmReviewEarlyWorker" in html
    assert html.index("llmReviewEarlyWorker") < html.index("<script src=")


def test_serve_busy_port_exits_with_message(built_site: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sitebuild.serve", str(built_site), "--port", str(port)],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"Cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_page_has_no_remote_assets(built_site: Path):
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'src="http' not in html, page
        assert 'src="//' not in html, page


def test_build_settings_carry_labels_and_format(built_site: Path):
    files = json.loads((built_site / "app" / "runtime" / "files.json").read_text(encoding="utf-8"))
    settings = json.loads(files["app/review_settings.json"])

    assert settings["labels"] == ["hallucination", "off topic"]
    assert settings["format"] == "langsmith-rows"
    assert "app/datasets/langsmith_runs.json" in files


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", ["broken.json"]),
        (b"42", ["broken.json"]),
        (b"[]", ["broken.json"]),
    ],
)
def test_build_unreadable_file_fails_cleanly(tmp_path: Path, content: bytes, expected: list[str]):
    data = tmp_path / "broken.json"
    data.write_bytes(content)
    out = tmp_path / "site"
    out.mkdir()
    (out / ".llm-data-review-site").write_text("", encoding="utf-8")
    (out / "marker.txt").write_text("previous site", encoding="utf-8")

    result = run_build("--data", str(data), "--out", str(out))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr
    assert (out / "marker.txt").read_text(encoding="utf-8") == "previous site"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.json", "site"]


def test_build_missing_file_names_it(tmp_path: Path):
    result = run_build("--data", str(tmp_path / "nowhere.json"), "--out", str(tmp_path / "site"))

    assert result.returncode == 1
    assert "nowhere.json" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "site").exists()


def test_build_bad_record_reported_and_skipped(tmp_path: Path):
    rows = json.loads(SAMPLE.read_text(encoding="utf-8"))
    rows[2]["child_run"]["inputs"][0].pop("role")
    data = tmp_path / "runs.json"
    data.write_text(json.dumps(rows), encoding="utf-8")

    result = run_build("--data", str(data), "--out", str(tmp_path / "site"))

    assert result.returncode == 0, result.stderr
    assert "record 2" in result.stderr
    assert "role" in result.stderr
    assert "3 records" in result.stderr


def test_build_strict_fails_on_bad_record(tmp_path: Path):
    rows = json.loads(SAMPLE.read_text(encoding="utf-8"))
    rows[1]["status"] = "Done"
    data = tmp_path / "runs.json"
    data.write_text(json.dumps(rows), encoding="utf-8")
    out = tmp_path / "site"

    result = run_build("--data", str(data), "--out", str(out), "--strict")

    assert result.returncode == 1
    assert "record 1" in result.stderr
    assert "--strict" in result.stderr
    assert not out.exists()


def test_build_refuses_foreign_output_folder(tmp_path: Path):
    out = tmp_path / "project"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")

    result = run_build("--out", str(out))

    assert result.returncode == 1
    assert "did not write" in result.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_build_refuses_output_file(tmp_path: Path):
    out = tmp_path / "runs.json"
    out.write_text("[]", encoding="utf-8")

    result = run_build("--out", str(out))

    assert result.returncode == 1
    assert "is a file" in result.stderr
    assert out.read_text(encoding="utf-8") == "[]"


def test_build_replaces_its_own_site(tmp_path: Path):
    out = tmp_path / "site"
    assert run_build("--out", str(out)).returncode == 0
    (out / "stale.txt").write_text("old", encoding="utf-8")

    result = run_build("--out", str(out))

    assert result.returncode == 0, result.stderr
    assert not (out / "stale.txt").exists()
    assert (out / "app" / "index.html").is_file()


def test_build_odd_file_name_is_made_safe(tmp_path: Path):
    data = tmp_path / "my runs <1>.json"
    data.write_bytes(SAMPLE.read_bytes())
    out = tmp_path / "site"

    result = run_build("--data", str(data), "--out", str(out))

    assert result.returncode == 0, result.stderr
    files = json.loads((out / "app" / "runtime" / "files.json").read_text(encoding="utf-8"))
    assert "app/datasets/my_runs_1.json" in files
