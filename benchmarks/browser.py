"""Browser measurements with Playwright on Debian's Chromium: boots, transfer, actions, memory.

Times are taken inside the page with performance.now(), which counts from the start of the
navigation, so Playwright's own round trips don't add to them. Transferred bytes are counted by the
server (sitebuild.serve.TrafficLog): a response served from a browser cache never reaches it and
counts 0 bytes.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sitebuild.serve import TrafficLog

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

BOOT_TIMEOUT_MS = 300_000
ACTION_TIMEOUT_MS = 60_000
SERVICE_WORKER_TIMEOUT_MS = 120_000

# Runs in every page before its own scripts: records when "Record 1 of N" first shows in #progress,
# or when the bare page reports that Pyodide is done.
BOOT_PROBE = """
(() => {
  const check = () => {
    if (window.__bootMs !== undefined) return;
    const progress = document.getElementById("progress");
    if (progress && /^Record 1 of /.test(progress.textContent)) {
      window.__bootMs = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, characterData: true });
})();
"""

# Clicks one button and resolves with the milliseconds until #progress shows another record.
TIMED_CLICK = """
async (button) => {
  const progress = document.getElementById("progress");
  const before = progress.textContent;
  const changed = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (progress.textContent !== before) {
        observer.disconnect();
        resolve(performance.now());
      }
    });
    observer.observe(progress, { subtree: true, childList: true, characterData: true });
  });
  const started = performance.now();
  button.click();
  return (await changed) - started;
}
"""

MEASURE_MEMORY = """
async () => {
  if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) {
    return null;
  }
  const result = await performance.measureUserAgentSpecificMemory();
  return result.bytes;
}
"""


@dataclass
class Visit:
    """One page load: when the app showed its first record, and what the server sent meanwhile."""

    boot_ms: float
    bytes: int
    requests: int
    page_requests: int
    timings: dict = field(default_factory=dict)


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def summarize_traffic(entries: list[tuple[str, int, int, float]]) -> tuple[int, int]:
    return sum(entry[2] for entry in entries), len(entries)


def wait_for_boot(page, timeout_ms: int = BOOT_TIMEOUT_MS) -> float:
    page.wait_for_function(
        "() => window.__bootMs !== undefined || document.documentElement.dataset.bootState === 'failed'",
        timeout=timeout_ms,
        polling=100,
    )
    failure = page.evaluate(
        "() => document.documentElement.dataset.bootState === 'failed' && document.getElementById('boot-status').innerText"
    )
    if failure:
        raise RuntimeError(f"the app did not boot: {failure}")
    return page.evaluate("() => window.__bootMs")


def wait_for_service_worker(page) -> bool:
    """Wait until the site's service worker is active; return False if the site has none."""
    try:
        page.wait_for_function(
            "() => ['active', 'failed'].includes(document.documentElement.dataset.serviceWorker)",
            timeout=SERVICE_WORKER_TIMEOUT_MS,
            polling=100,
        )
    except Exception:  # noqa: BLE001 - a site without a service worker never sets the attribute
        return False
    return page.evaluate("() => document.documentElement.dataset.serviceWorker") == "active"


def open_app(context, url: str, traffic: TrafficLog) -> tuple[object, Visit]:
    """Open `url` in a new page of `context`, wait for the first record, and return the page."""
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    traffic.take()
    page.goto(url, wait_until="commit")
    boot_ms = wait_for_boot(page)
    # Requests that arrived after the first record showed (the service worker's precache) are
    # left in the log for the caller.
    booted_at = page.evaluate("() => (performance.timeOrigin + window.__bootMs) / 1000")
    entries = traffic.take()
    for entry in entries:
        if entry[3] > booted_at:
            traffic.add(*entry)
    transferred, count = summarize_traffic([entry for entry in entries if entry[3] <= booted_at])
    timings = page.evaluate("() => JSON.parse(document.documentElement.dataset.bootTimings || '{}')")
    return page, Visit(boot_ms, transferred, count, len(requests), timings)


def open_bare(context, url: str, traffic: TrafficLog) -> Visit:
    """Open the bare Pyodide page in a new page of `context` and wait until Pyodide is done."""
    page = context.new_page()
    try:
        traffic.take()
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => document.documentElement.dataset.doneMs", timeout=BOOT_TIMEOUT_MS, polling=100)
        status = page.inner_text("#status")
        if status != "done":
            raise RuntimeError(f"the bare Pyodide page failed: {status}")
        done_ms = float(page.evaluate("() => document.documentElement.dataset.doneMs"))
        transferred, count = summarize_traffic(traffic.take())
        return Visit(done_ms, transferred, count, count)
    finally:
        page.close()


def measure_bare_boot(browser, url: str, traffic: TrafficLog) -> Visit:
    """Boot the bare Pyodide page in a fresh profile."""
    context = browser.new_context()
    try:
        return open_bare(context, url, traffic)
    finally:
        context.close()


def measure_cold_visit(browser, url: str, traffic: TrafficLog, *, service_worker: bool, keep_open: bool = False):
    """Boot the app in a new, empty profile; also count the service worker's precache traffic.

    Returns the visit, the bytes the service worker's install downloaded, and, with keep_open,
    the context and page for further measurements (the caller closes the context).
    """
    context = browser.new_context()
    context.add_init_script(BOOT_PROBE)
    page, visit = open_app(context, url, traffic)
    precache_bytes = None
    if service_worker and wait_for_service_worker(page):
        precache_bytes, _count = summarize_traffic(traffic.take())
    if keep_open:
        return visit, precache_bytes, context, page
    context.close()
    return visit, precache_bytes, None, None


def measure_warm_visits(
    playwright, url: str, traffic: TrafficLog, repeats: int, *, bare: bool = False, service_worker: bool = True
) -> list[Visit]:
    """Visit once in a new persistent profile, then measure `repeats` later visits.

    With `bare`, the page is the bare Pyodide page, which only the HTTP cache speeds up.
    """
    with tempfile.TemporaryDirectory(prefix="llm-review-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            if bare:
                open_bare(context, url, traffic)
                return [open_bare(context, url, traffic) for _ in range(repeats)]

            context.add_init_script(BOOT_PROBE)
            page, _first = open_app(context, url, traffic)
            if service_worker:
                wait_for_service_worker(page)
            page.close()
            visits = []
            for _ in range(repeats):
                page, visit = open_app(context, url, traffic)
                visits.append(visit)
                page.close()
            return visits
        finally:
            context.close()


def record_position(page) -> tuple[int, int]:
    text = page.inner_text("#progress")
    _record, current, _of, total = text.split()
    return int(current), int(total)


def click_and_wait(page, name: str) -> float:
    button = page.get_by_role("button", name=name, exact=True).element_handle()
    return page.evaluate(TIMED_CLICK, button)


def measure_actions(page, count: int) -> dict[str, list[float]]:
    """Alternate Accept and Next `count` times, timing each; go Back to record 1 at the end."""
    page.wait_for_function("() => document.querySelector('#progress')?.textContent.startsWith('Record')")
    latencies: dict[str, list[float]] = {"Accept": [], "Next": []}
    names = ["Accept", "Next"]
    done = 0
    while done < count:
        current, total = record_position(page)
        if current >= total:
            while record_position(page)[0] > 1:
                click_and_wait(page, "Back")
            continue
        name = names[done % 2]
        latencies[name].append(click_and_wait(page, name))
        done += 1
    return latencies


def measure_memory(page) -> int | None:
    """Return the bytes performance.measureUserAgentSpecificMemory() reports, or None."""
    started = time.monotonic()
    result = page.evaluate(MEASURE_MEMORY)
    if result is not None:
        print(f"    memory measured in {time.monotonic() - started:.1f} s")
    return result


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def copy_bare_page(site_dir: Path) -> str:
    """Put the bare Pyodide page into the site and return its path on the server."""
    source = Path(__file__).resolve().parent / "bare"
    target = site_dir / "bench-bare"
    target.mkdir(exist_ok=True)
    for name in ("index.html", "worker.mjs"):
        (target / name).write_bytes((source / name).read_bytes())
    return "bench-bare/"
