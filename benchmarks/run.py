"""Benchmark the built site and write docs/benchmarks.md.

    .venv/bin/python -m benchmarks.run            # every dataset size, boots repeated 3 times
    .venv/bin/python -m benchmarks.run --quick    # the 4-record sample only, one repetition

For each dataset size the site is built with build.py (warm runtime cache) and served on
127.0.0.1 by sitebuild.serve. Debian's Chromium (Playwright) then measures the bare Pyodide boot
(the floor), the app's cold boot in an empty profile and its warm boot on later visits in a
persistent profile. It also records the bytes the server sent for each, the latency of Accept and
Next, and the page's memory.
All ratios in the report compare figures measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_DIR))

from benchmarks import browser as bench  # noqa: E402
from benchmarks.datasets import write_dataset  # noqa: E402
from benchmarks.variants import make_variants  # noqa: E402
from sitebuild.serve import TrafficLog, start_in_thread  # noqa: E402

SIZES = (4, 1_000, 20_000, 100_000)
REPEATS = 3
ACTIONS = 30
DEFAULT_REPORT = REPO_DIR / "docs" / "benchmarks.md"

# The targets, as (ratio or bound, description).
COLD_BOOT_RATIO = 1.5
WARM_BOOT_RATIO = 1.2
ACTION_P95_MS = 50.0
COLD_TRANSFER_RATIO = 1.3
BUILD_20K_SECONDS = 30.0


@dataclass
class SizeResult:
    """Every figure measured for one dataset size; None where a step was not run or failed."""

    records: int
    data_bytes: int
    build_seconds: float | None = None
    build_cpu_seconds: float | None = None
    cold_boot_ms: list[float] = field(default_factory=list)
    cold_bytes: int | None = None
    cold_requests: int | None = None
    cold_page_requests: int | None = None
    cold_timings: dict = field(default_factory=dict)
    precache_bytes: int | None = None
    uncompressed_boot_ms: float | None = None
    uncompressed_bytes: int | None = None
    warm_boot_ms: list[float] = field(default_factory=list)
    warm_bytes: int | None = None
    warm_requests: int | None = None
    warm_page_requests: int | None = None
    accept_ms: list[float] = field(default_factory=list)
    next_ms: list[float] = field(default_factory=list)
    memory_bytes: int | None = None
    memory_after_actions_bytes: int | None = None
    bare_boot_ms: list[float] = field(default_factory=list)
    bare_warm_boot_ms: list[float] = field(default_factory=list)
    bare_bytes: int | None = None
    bare_requests: int | None = None
    errors: list[str] = field(default_factory=list)


def describe_machine() -> dict[str, str]:
    """Return the CPU model, cores, memory and the versions this run used."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    chromium = subprocess.run(
        [bench.CHROMIUM, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    node = shutil.which("node")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "not installed"
    return {
        "CPU": cpu,
        "Cores": str(os.cpu_count()),
        "Memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "Chromium": chromium or "unknown",
        "Python (build)": platform.python_version(),
        "Node.js (byte-compile step)": node_version,
        "Load average at start (1, 5, 15 min)": read_load_average(),
    }


def read_load_average() -> str:
    """Return /proc/loadavg's 1, 5 and 15 minute figures; other processes make timings noisy."""
    return ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare_sample_site(repo_dir: Path, work_dir: Path) -> Path:
    """Build the sample site for the variants and return its folder."""
    site_dir = work_dir / "variants-base"
    build_site(repo_dir, write_dataset(work_dir / "variants-sample.json", 4), site_dir)
    return site_dir


def build_site(repo_dir: Path, data_path: Path, out_dir: Path) -> tuple[float, float]:
    """Build the site for `data_path` with `repo_dir`/build.py; return wall and CPU seconds.

    The CPU time (user and system, of build.py and its child processes) does not grow when other
    processes load the machine, the wall time does.
    """
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(repo_dir / "build.py"), "--data", str(data_path), "--out", str(out_dir)],
        cwd=repo_dir,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-10:])
        raise RuntimeError(f"build.py failed for {data_path.name}:\n{tail}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return seconds, cpu


@dataclass
class VariantResult:
    """Boot times of one variant of the sample site."""

    name: str
    description: str
    cold_boot_ms: list[float] = field(default_factory=list)
    warm_boot_ms: list[float] = field(default_factory=list)
    cold_bytes: int | None = None
    timings: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def measure_variants(playwright, browser, site_dir: Path, work_dir: Path, repeats: int) -> list[VariantResult]:
    """Boot each variant of the sample site cold and warm, `repeats` times each."""
    results = []
    for variant in make_variants(site_dir, work_dir):
        print(f"variant {variant.name}", flush=True)
        result = VariantResult(variant.name, variant.description)
        traffic = TrafficLog()
        server = start_in_thread(variant.site_dir, traffic=traffic)
        url = f"http://127.0.0.1:{server.server_port}/app/{variant.fragment}"
        try:
            run_step(result, "cold boot", lambda: measure_variant_cold(browser, url, traffic, result, repeats))
            run_step(result, "warm boot", lambda: measure_variant_warm(playwright, url, traffic, result, repeats))
        finally:
            server.shutdown()
            server.server_close()
        results.append(result)
    return results


def measure_variant_cold(browser, url: str, traffic: TrafficLog, result: VariantResult, repeats: int) -> None:
    for _ in range(repeats):
        visit, _precache, _context, _page = bench.measure_cold_visit(browser, url, traffic, service_worker=False)
        result.cold_boot_ms.append(visit.boot_ms)
        result.cold_bytes = visit.bytes
        result.timings = visit.timings


def measure_variant_warm(playwright, url: str, traffic: TrafficLog, result: VariantResult, repeats: int) -> None:
    visits = bench.measure_warm_visits(playwright, url, traffic, repeats)
    result.warm_boot_ms = [visit.boot_ms for visit in visits]


def measure_size(playwright, browser, repo_dir: Path, work_dir: Path, records: int, *, repeats: int, full: bool) -> SizeResult:
    """Build and measure the site for one dataset size."""
    data_path = write_dataset(work_dir / f"records-{records}.json", records)
    result = SizeResult(records=records, data_bytes=data_path.stat().st_size)
    site_dir = work_dir / f"site-{records}"

    print(f"{records} records: building", flush=True)
    try:
        result.build_seconds, result.build_cpu_seconds = build_site(repo_dir, data_path, site_dir)
    except RuntimeError as error:
        result.errors.append(str(error))
        return result
    print(f"  built in {result.build_seconds:.1f} s", flush=True)

    bare_path = bench.copy_bare_page(site_dir)
    service_worker = (site_dir / "sw.js").is_file()
    traffic = TrafficLog()
    server = start_in_thread(site_dir, traffic=traffic, isolated=True)
    base = f"http://127.0.0.1:{server.server_port}/"
    app_url = base + "app/"
    try:
        if full:
            run_step(result, "bare boot", lambda: measure_bare(browser, base + bare_path, traffic, result, repeats))
        run_step(result, "cold boot", lambda: measure_cold(browser, app_url, traffic, result, repeats if full else 1, service_worker))
        if full:
            run_step(result, "uncompressed boot", lambda: measure_uncompressed(browser, app_url, traffic, result, service_worker))
            run_step(result, "warm boot", lambda: measure_warm(playwright, app_url, traffic, result, repeats, service_worker))
            run_step(result, "bare warm boot", lambda: measure_bare_warm(playwright, base + bare_path, traffic, result, repeats))
    finally:
        server.shutdown()
        server.server_close()
    return result


def run_step(result: SizeResult | VariantResult, name: str, step) -> None:
    """Run one measurement; record its error instead of stopping the whole benchmark."""
    started = time.monotonic()
    try:
        step()
    except Exception as error:  # noqa: BLE001 - the report lists every failed step with its error
        message = f"{name}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        print(f"  FAILED {message}", flush=True)
        result.errors.append(message)
        return
    print(f"  {name} done in {time.monotonic() - started:.1f} s", flush=True)


def measure_bare(browser, url: str, traffic: TrafficLog, result: SizeResult, repeats: int) -> None:
    for _ in range(repeats):
        visit = bench.measure_bare_boot(browser, url, traffic)
        result.bare_boot_ms.append(visit.boot_ms)
        result.bare_bytes, result.bare_requests = visit.bytes, visit.requests


def measure_bare_warm(playwright, url: str, traffic: TrafficLog, result: SizeResult, repeats: int) -> None:
    visits = bench.measure_warm_visits(playwright, url, traffic, repeats, bare=True)
    result.bare_warm_boot_ms = [visit.boot_ms for visit in visits]


def measure_cold(browser, url: str, traffic: TrafficLog, result: SizeResult, repeats: int, service_worker: bool) -> None:
    for attempt in range(repeats):
        last = attempt == repeats - 1
        visit, precache, context, page = bench.measure_cold_visit(
            browser, url, traffic, service_worker=service_worker, keep_open=last
        )
        result.cold_boot_ms.append(visit.boot_ms)
        result.cold_bytes, result.cold_requests = visit.bytes, visit.requests
        result.cold_page_requests = visit.page_requests
        result.cold_timings = visit.timings
        result.precache_bytes = precache
        if last:
            try:
                result.memory_bytes = bench.measure_memory(page)
                latencies = bench.measure_actions(page, ACTIONS)
                result.accept_ms = latencies["Accept"]
                result.next_ms = latencies["Next"]
                result.memory_after_actions_bytes = bench.measure_memory(page)
            finally:
                context.close()


def measure_uncompressed(browser, url: str, traffic: TrafficLog, result: SizeResult, service_worker: bool) -> None:
    visit, _precache, _context, _page = bench.measure_cold_visit(
        browser, url + "#no-gzip", traffic, service_worker=service_worker
    )
    result.uncompressed_boot_ms = visit.boot_ms
    result.uncompressed_bytes = visit.bytes


def measure_warm(playwright, url: str, traffic: TrafficLog, result: SizeResult, repeats: int, service_worker: bool) -> None:
    visits = bench.measure_warm_visits(playwright, url, traffic, repeats, service_worker=service_worker)
    result.warm_boot_ms = [visit.boot_ms for visit in visits]
    result.warm_bytes = max(visit.bytes for visit in visits)
    result.warm_requests = max(visit.requests for visit in visits)
    result.warm_page_requests = visits[-1].page_requests


# Report ----------------------------------------------------------------------------------------


def format_ms(values: list[float] | float | None) -> str:
    if values is None or values == []:
        return "–"
    if isinstance(values, list):
        if len(values) == 1:
            return f"{values[0]:,.0f} ms"
        return f"{bench.median(values):,.0f} ms (median of {', '.join(f'{v:,.0f}' for v in values)})"
    return f"{values:,.0f} ms"


def format_bytes(size: int | None) -> str:
    if size is None:
        return "–"
    if size >= 1_000_000:
        return f"{size / 1_000_000:.2f} MB"
    return f"{size / 1000:.1f} kB"


def median_or_none(values: list[float]) -> float | None:
    return bench.median(values) if values else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def action_percentiles(result: SizeResult) -> tuple[float | None, float | None]:
    values = result.accept_ms + result.next_ms
    if not values:
        return None, None
    return bench.percentile(values, 0.5), bench.percentile(values, 0.95)


def later_action_p95(result: SizeResult) -> float | None:
    """Return the p95 of the actions after the visit's first Accept and first Next.

    The first click of each kind in a visit runs code the page has not run before. In the runs
    recorded so far the first Accept was the slowest click at every size, so this figure shows
    what the clicks after the first ones take.
    """
    values = result.accept_ms[1:] + result.next_ms[1:]
    return bench.percentile(values, 0.95) if values else None


def describe_action_p95(result: SizeResult) -> str:
    p95 = action_percentiles(result)[1]
    if p95 is None:
        return f"{result.records:,}: –"
    return f"{result.records:,}: {p95:.0f} ms ({later_action_p95(result):.0f} ms after the first clicks)"


def target_rows(results: list[SizeResult]) -> list[tuple[str, str, str]]:
    """Return (target, measured, verdict) for each target."""
    sample = results[0]
    bare = median_or_none(sample.bare_boot_ms)
    rows = []

    cold = ratio(median_or_none(sample.cold_boot_ms), bare)
    rows.append((f"cold boot ≤ {COLD_BOOT_RATIO} × bare Pyodide boot", fmt_ratio(cold), verdict(cold, COLD_BOOT_RATIO)))
    warm = ratio(median_or_none(sample.warm_boot_ms), bare)
    rows.append((f"warm boot ≤ {WARM_BOOT_RATIO} × bare Pyodide boot (cold)", fmt_ratio(warm), verdict(warm, WARM_BOOT_RATIO)))
    bare_warm = median_or_none(sample.bare_warm_boot_ms)
    warm_to_warm = ratio(median_or_none(sample.warm_boot_ms), bare_warm)
    rows.append(
        (
            f"warm boot ≤ {WARM_BOOT_RATIO} × bare Pyodide boot (warm, from the HTTP cache)",
            fmt_ratio(warm_to_warm),
            verdict(warm_to_warm, WARM_BOOT_RATIO),
        )
    )

    p95s = {result.records: action_percentiles(result)[1] for result in results}
    measured = ", ".join(describe_action_p95(result) for result in results)
    worst = max((p95 for p95 in p95s.values() if p95 is not None), default=None)
    rows.append((f"action p95 ≤ {ACTION_P95_MS:.0f} ms at every size", measured, verdict(worst, ACTION_P95_MS)))

    transfer = ratio(sample.cold_bytes, core_bytes(sample))
    rows.append((f"cold transfer ≤ {COLD_TRANSFER_RATIO} × Pyodide core bytes", fmt_ratio(transfer), verdict(transfer, COLD_TRANSFER_RATIO)))

    twenty = next((result for result in results if result.records == 20_000), None)
    build = twenty.build_seconds if twenty else None
    cpu = twenty.build_cpu_seconds if twenty else None
    measured_build = f"{build:.1f} s ({cpu:.1f} s CPU)" if build else "not measured"
    rows.append((f"20,000-record build ≤ {BUILD_20K_SECONDS:.0f} s (warm cache)", measured_build, verdict(build, BUILD_20K_SECONDS)))
    return rows


def core_bytes(sample: SizeResult) -> int | None:
    return sample.bare_bytes


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def verdict(value: float | None, bound: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= bound else "not met"


def write_report(
    path: Path,
    machine: dict,
    command: str,
    results: list[SizeResult],
    variants: list[VariantResult],
    elapsed: float,
    notes: str,
) -> None:
    """Write the Markdown report, keeping the hand-written part below the generated one."""
    lines = [
        "# Benchmarks",
        "",
        "<!-- The part down to the line 'End of generated figures' is written by "
        "`python -m benchmarks.run`; edit below it. -->",
        "",
        f"Command: `{command}` (took {elapsed / 60:.1f} min).",
        "",
        "| Machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        "",
        "## Figures",
        "",
        "Boot times run from the start of the navigation to the first record in `#progress` "
        "(bare Pyodide: until its worker reports back), measured in the page. Bytes are what the "
        "server sent, headers included; cache hits count 0.",
        "",
        "| Records | JSON | Build | Bare Pyodide boot | Cold boot | Warm boot | Cold bytes (requests) | "
        "Bare bytes | Warm bytes (requests) | Precache after boot | Accept p50 / p95 | Next p50 / p95 | "
        "All actions p50 / p95 | Memory after boot / after actions |",
        "| " + " | ".join(["---"] * 14) + " |",
    ]
    for result in results:
        accept = result.accept_ms
        nxt = result.next_ms
        all_p50, all_p95 = action_percentiles(result)
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{result.records:,}",
                    format_bytes(result.data_bytes),
                    f"{result.build_seconds:.1f} s ({result.build_cpu_seconds:.1f} s CPU)" if result.build_seconds else "–",
                    format_ms(result.bare_boot_ms),
                    format_ms(result.cold_boot_ms),
                    format_ms(result.warm_boot_ms),
                    f"{format_bytes(result.cold_bytes)} ({result.cold_requests})" if result.cold_bytes is not None else "–",
                    format_bytes(result.bare_bytes),
                    f"{format_bytes(result.warm_bytes)} ({result.warm_requests})" if result.warm_bytes is not None else "–",
                    format_bytes(result.precache_bytes),
                    pair(accept),
                    pair(nxt),
                    f"{all_p50:.0f} / {all_p95:.0f} ms" if all_p50 is not None else "–",
                    f"{format_bytes(result.memory_bytes)} / {format_bytes(result.memory_after_actions_bytes)}",
                ]
            )
            + " |"
        )

    sample = results[0]
    lines += [
        "",
        f"Sample ({sample.records} records), other figures: bare Pyodide boot on later visits "
        f"(HTTP cache): {format_ms(sample.bare_warm_boot_ms)}; cold boot without the gzip copies "
        f"(`#no-gzip`): {format_ms(sample.uncompressed_boot_ms)}, {format_bytes(sample.uncompressed_bytes)}; "
        f"boot stages in the worker (ms since the worker started, last cold boot): "
        f"`{json.dumps(sample.cold_timings)}`.",
        "",
        "Memory is `performance.measureUserAgentSpecificMemory()` in the cross-origin-isolated page "
        "(the benchmark's server sends COOP and COEP headers). It covers the page and its worker; "
        "whether it counts all of the worker's WebAssembly memory (Python's heap) is not "
        "documented, so read it as a lower bound.",
        "",
        "## Targets",
        "",
        "| Target | Measured | Verdict |",
        "| --- | --- | --- |",
        *(f"| {target} | {measured} | {result} |" for target, measured, result in target_rows(results)),
        "",
    ]
    if variants:
        lines += [
            "## What each start-up idea is worth",
            "",
            "The sample site, booted with less of the build's start-up work each time (cold: new "
            "profile; warm: later visits with the service worker). Stages are ms since the worker "
            "started, from the last cold boot.",
            "",
            "| Variant | What the worker loads | Cold boot | Warm boot | Cold bytes | Worker stages |",
            "| --- | --- | --- | --- | --- | --- |",
            *(
                f"| {variant.name} | {variant.description} | {format_ms(variant.cold_boot_ms)} | "
                f"{format_ms(variant.warm_boot_ms)} | {format_bytes(variant.cold_bytes)} | `{json.dumps(variant.timings)}` |"
                for variant in variants
            ),
            "",
        ]
    errors = [f"- {result.records:,} records, {error}" for result in results for error in result.errors]
    errors += [f"- variant {variant.name}, {error}" for variant in variants for error in variant.errors]
    if errors:
        lines += ["## Steps that failed", "", *errors, ""]
    lines += ["<!-- End of generated figures -->", ""]

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + notes, encoding="utf-8")
    raw_path = path.with_suffix(".json")
    raw = {
        "machine": machine,
        "results": [asdict(result) for result in results],
        "variants": [asdict(variant) for variant in variants],
    }
    raw_path.write_text(json.dumps(raw, indent=1), encoding="utf-8")


def pair(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{bench.percentile(values, 0.5):.0f} / {bench.percentile(values, 0.95):.0f} ms"


def read_notes(path: Path) -> str:
    """Return the hand-written part of an existing report, after the generated figures."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    marker = "<!-- End of generated figures -->\n"
    return text.split(marker, 1)[1] if marker in text else ""


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="measure the 4-record sample only, once each")
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in SIZES),
        help="comma-separated dataset sizes in records (default: %(default)s; the first is the one the targets use)",
    )
    parser.add_argument(
        "--no-variants",
        dest="variants",
        action="store_false",
        help="skip booting the variants of the sample site that show what each start-up idea is worth",
    )
    parser.add_argument("--repo", type=Path, default=REPO_DIR, help="checkout whose build.py builds the site (default: this one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_REPORT, help="report to write (default: docs/benchmarks.md)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    sizes = [4] if arguments.quick else [int(size) for size in re.split(r"[,\s]+", arguments.sizes) if size]
    if arguments.quick:
        arguments.variants = False
    started = time.monotonic()
    command = "python -m benchmarks.run" + (" --quick" if arguments.quick else "")
    if not arguments.quick and arguments.sizes != ",".join(str(size) for size in SIZES):
        command += f" --sizes {arguments.sizes}"

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only needed when measuring

    machine = describe_machine()
    results = []
    variants: list[VariantResult] = []
    with tempfile.TemporaryDirectory(prefix="llm-review-bench-") as work, sync_playwright() as playwright:
        browser = bench.launch_browser(playwright)
        try:
            if arguments.variants:
                variants = measure_variants(
                    playwright, browser, prepare_sample_site(arguments.repo.resolve(), Path(work)), Path(work), REPEATS
                )
            for index, records in enumerate(sizes):
                results.append(
                    measure_size(
                        playwright,
                        browser,
                        arguments.repo.resolve(),
                        Path(work),
                        records,
                        repeats=1 if arguments.quick else REPEATS,
                        full=index == 0,
                    )
                )
        finally:
            browser.close()

    machine["Load average at end (1, 5, 15 min)"] = read_load_average()
    write_report(arguments.out, machine, command, results, variants, time.monotonic() - started, read_notes(arguments.out))
    print(f"Wrote {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
