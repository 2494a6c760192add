"""The benchmark harness in quick mode: it runs end to end and reports every figure.

The figures are only checked for plausibility (positive, within generous bounds), not against
the targets, because timings on a shared CI machine vary too much.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks import browser as bench
from benchmarks.datasets import write_dataset
from sitebuild.serve import TrafficLog, start_in_thread

REPO_DIR = Path(__file__).resolve().parents[1]

# Generous bounds: a boot on a loaded two-core machine took up to 15 s.
MAX_BOOT_MS = 180_000
MIN_BOOT_MS = 50


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    if not Path(bench.CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {bench.CHROMIUM}; install Debian's chromium package")
    out = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    raw = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    return out.read_text(encoding="utf-8"), raw


@pytest.fixture(scope="module")
def sample(quick_report: tuple[str, dict]) -> dict:
    _text, raw = quick_report
    return raw["results"][0]


def test_quick_report_has_no_failed_step(sample):
    assert sample["errors"] == []


def test_quick_report_measures_sample_only(quick_report):
    _text, raw = quick_report
    assert [result["records"] for result in raw["results"]] == [4]


@pytest.mark.parametrize("key", ["bare_boot_ms", "bare_warm_boot_ms", "cold_boot_ms", "warm_boot_ms"])
def test_quick_report_boot_time(sample, key):
    values = sample[key]

    assert len(values) == 1
    assert MIN_BOOT_MS < values[0] < MAX_BOOT_MS


@pytest.mark.parametrize(
    ("key", "minimum", "maximum"),
    [
        ("bare_bytes", 5_000_000, 50_000_000),
        ("cold_bytes", 5_000_000, 100_000_000),
        ("uncompressed_bytes", 5_000_000, 150_000_000),
        ("warm_bytes", 0, 1_000_000),
    ],
)
def test_quick_report_transfer(sample, key, minimum, maximum):
    assert minimum <= sample[key] <= maximum


def test_quick_report_warm_visit_reads_cache(sample):
    assert sample["warm_bytes"] < sample["cold_bytes"] / 10


def test_quick_report_action_count(sample):
    assert len(sample["accept_ms"]) + len(sample["next_ms"]) >= 30


def test_quick_report_action_latency(sample):
    latencies = sample["accept_ms"] + sample["next_ms"]

    assert all(0 < value < 10_000 for value in latencies)


def test_quick_report_memory(sample):
    assert 1_000_000 < sample["memory_bytes"] < 4_000_000_000


def test_quick_report_build_time(sample):
    assert 0 < sample["build_seconds"] < 600


@pytest.mark.parametrize(
    "heading",
    ["| CPU |", "| Chromium |", "## Figures", "## Targets", "cold boot ≤ 1.5", "warm boot ≤ 1.2", "action p95", "cold transfer", "20,000-record build"],
)
def test_quick_report_text(quick_report, heading):
    text, _raw = quick_report
    assert heading in text


@pytest.mark.parametrize(("values", "fraction", "expected"), [([1, 2, 3, 4], 0.5, 2), ([5], 0.95, 5), (list(range(1, 101)), 0.95, 95)])
def test_percentile_nearest_rank(values, fraction, expected):
    assert bench.percentile(values, fraction) == expected


@pytest.mark.parametrize("count", [10, 1000])
def test_write_dataset_record_count(tmp_path, count):
    path = write_dataset(tmp_path / "data.json", count)

    records = json.loads(path.read_text(encoding="utf-8"))

    assert len(records) == count


def test_write_dataset_distinct_ids(tmp_path):
    records = json.loads(write_dataset(tmp_path / "data.json", 200).read_text(encoding="utf-8"))

    assert len({record["child_run_id"] for record in records}) == 200


def test_write_dataset_record_size(tmp_path):
    path = write_dataset(tmp_path / "data.json", 1000)

    assert 1000 * 1000 < path.stat().st_size < 1000 * 3000


def fetch_from_site(site_dir: Path, path: str, *, isolated: bool) -> tuple[dict, bytes, list]:
    """GET `path` from a server for `site_dir`; return the headers, body and traffic entries."""
    traffic = TrafficLog()
    server = start_in_thread(site_dir, traffic=traffic, isolated=isolated)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/{path}") as response:
            headers, body = dict(response.headers), response.read()
        deadline = time.monotonic() + 5
        while not traffic.entries and time.monotonic() < deadline:
            time.sleep(0.01)
        return headers, body, traffic.take()
    finally:
        server.shutdown()
        server.server_close()


def test_traffic_log_counts_response_bytes(tmp_path):
    (tmp_path / "data.json").write_text("x" * 1000)

    headers, body, entries = fetch_from_site(tmp_path, "data.json", isolated=False)

    assert len(body) == 1000
    assert len(entries) == 1
    assert entries[0][0] == "/data.json"
    assert entries[0][1] == 200
    assert entries[0][2] > 1000
    assert abs(entries[0][3] - time.time()) < 60


@pytest.mark.parametrize(
    ("isolated", "expected"),
    [(True, "require-corp"), (False, None)],
)
def test_server_isolation_headers(tmp_path, isolated, expected):
    (tmp_path / "index.html").write_text("<p>hi</p>")

    headers, _body, _entries = fetch_from_site(tmp_path, "index.html", isolated=isolated)

    assert headers.get("Cross-Origin-Embedder-Policy") == expected
