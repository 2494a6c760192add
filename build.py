"""Build the LLM Data Review site: a blog post with the review app running in the browser.

    python build.py                          # the sample data into _site/
    python build.py --data runs.json --out site
    python build.py --serve                  # build, then serve on http://127.0.0.1:8000/

The site is assembled in a temporary folder next to the output and swapped in only when every step
has succeeded, so a failed build leaves the previous site untouched.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent
APP_DIR = REPO_DIR / "app"
sys.path.insert(0, str(APP_DIR))

from traces import FORMATS, DatasetFormatError, LoadedDataset, load_dataset_file  # noqa: E402 - needs app/ on sys.path
from sitebuild.blog import BlogRenderError, render_blog, write_app_source  # noqa: E402
from sitebuild.page import (  # noqa: E402
    PageRenderError,
    copy_runtime,
    finish_site,
    render_page,
    write_runtime_files,
)
from sitebuild.runtime import (  # noqa: E402
    RuntimeFetchError,
    default_cache_dir,
    build_package_bundle,
    fetch_runtime,
    read_lock,
)
from sitebuild.serve import serve_until_interrupted  # noqa: E402

DEFAULT_DATA = REPO_DIR / "sample_data" / "langsmith_runs.json"
DEFAULT_OUT = REPO_DIR / "_site"


# An empty file that marks a folder as a site this build wrote, so that --out may replace it.
SITE_MARKER = ".llm-data-review-site"

# Above this size the boot gets slow: 228 MB (100,000 records) took 22 s and 280 MB in Chromium here.
LARGE_DATASET_BYTES = 100 * 1024 * 1024

log = logging.getLogger("build")


class BuildError(Exception):
    """A build step failed; the message names the step and what to do."""


def stage_app(app_dir: Path, data_path: Path, settings: dict, staging_dir: Path) -> Path:
    """Copy the app, the dataset and the review settings into `staging_dir`/app; return that folder."""
    staged = staging_dir / "app"
    shutil.copytree(
        app_dir,
        staged,
        # team/ is the server-only team mode (SQLAlchemy), which the browser never imports.
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "datasets", "review_settings.json", "team"),
    )
    datasets = staged / "datasets"
    datasets.mkdir()
    shutil.copy2(data_path, datasets / safe_file_name(data_path.name))
    (staged / "review_settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return staged


def read_dataset(data_path: Path, data_format: str | None, *, strict: bool) -> LoadedDataset:
    """Read and check the dataset, logging each record that could not be read."""
    dataset = load_dataset_file(data_path, format=data_format)
    count = len(dataset.records)
    log.info("Dataset %s: %d record%s in %s format", data_path, count, "" if count == 1 else "s", dataset.format)

    for problem in dataset.problems:
        field = f", {problem.field}" if problem.field else ""
        log.warning("WARNING: %s, %s%s: %s", data_path.name, problem.location, field, problem.message)
    if dataset.problems:
        log.warning(
            "WARNING: %d part(s) of %s could not be read and are left out of review; "
            "they are kept unchanged in the curated download",
            len(dataset.problems),
            data_path.name,
        )

    if strict and dataset.problems:
        raise BuildError(f"{data_path} has {len(dataset.problems)} problem(s) and --strict is set; fix them or drop --strict")
    if not dataset.records:
        raise BuildError(f"{data_path} has no record that could be read; see the problems above")
    return dataset


def stage_blog(repo_dir: Path, app_py: Path, staging_dir: Path) -> Path:
    """Copy the post and its Quarto project file into a folder the renderer may change."""
    project = staging_dir / "blog-project"
    project.mkdir()
    shutil.copy2(repo_dir / "_quarto.yml", project / "_quarto.yml")
    shutil.copytree(repo_dir / "blog", project / "blog", ignore=shutil.ignore_patterns("__pycache__"))
    write_app_source(project / "blog", app_py)
    return project


def check_output_directory(out_dir: Path) -> None:
    """Raise BuildError unless `out_dir` is missing, empty, or a site an earlier build wrote."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BuildError(f"--out {out_dir} is a file, not a folder; choose a folder for the site")
    if (out_dir / SITE_MARKER).is_file() or not any(out_dir.iterdir()):
        return
    raise BuildError(
        f"--out {out_dir} is a folder that this build did not write (no {SITE_MARKER} in it), "
        "so it is not replaced; choose an empty or new folder"
    )


def remove_stale_builds(out_dir: Path) -> None:
    """Delete temporary folders that an interrupted earlier build left next to `out_dir`."""
    for pattern in (f".{out_dir.name}.build-*", f".{out_dir.name}.previous-*"):
        for stale in out_dir.parent.glob(pattern):
            log.info("Removing %s, left by an interrupted build", stale)
            shutil.rmtree(stale, ignore_errors=True)


def replace_directory(new_dir: Path, out_dir: Path) -> None:
    """Put `new_dir` at `out_dir`, moving any previous content away first and deleting it after."""
    previous = None
    if out_dir.exists():
        previous = out_dir.with_name(f".{out_dir.name}.previous-{time.time_ns()}")
        out_dir.rename(previous)
    new_dir.rename(out_dir)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
        if previous.exists():
            log.warning("WARNING: could not delete the previous site, now at %s; delete it by hand", previous)


def safe_file_name(name: str) -> str:
    """Return `name` with only characters that every file system and URL accept."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, "json"
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "dataset"
    return f"{cleaned}.{re.sub(r'[^A-Za-z0-9]+', '', suffix) or 'json'}"


def build_site(
    data_path: Path,
    out_dir: Path,
    cache_dir: Path,
    *,
    data_format: str | None = None,
    labels: list[str] | None = None,
    strict: bool = False,
) -> None:
    """Build the whole site for `data_path` into `out_dir`."""
    check_output_directory(out_dir)
    dataset = read_dataset(data_path, data_format, strict=strict)
    settings = {"format": dataset.format, "labels": labels or []}
    size = data_path.stat().st_size
    if size > LARGE_DATASET_BYTES:
        log.warning(
            "WARNING: %s is %d MB; above about %d MB the page parses every record for tens of "
            "seconds at each visit, so consider splitting it",
            data_path.name, size // 2**20, LARGE_DATASET_BYTES // 2**20,
        )

    lock = read_lock()
    pyodide_files, wheels = fetch_runtime(lock, cache_dir, log=log.info)
    bundle = build_package_bundle(lock, pyodide_files, wheels, cache_dir, log=log.info)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(out_dir)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.build-", dir=out_dir.parent) as temp:
        staging_dir = Path(temp)
        site_dir = staging_dir / "site"
        site_dir.mkdir()

        # The blog goes first: Quarto may clear its output folder before writing.
        staged_app = stage_app(APP_DIR, data_path, settings, staging_dir)
        render_blog(stage_blog(REPO_DIR, APP_DIR / "app.py", staging_dir), site_dir, log=log.info)

        page_dir = site_dir / "app"
        page_dir.mkdir()
        render_page(staged_app, page_dir)
        log.info("Wrote %s", out_dir / "app" / "index.html")

        runtime_urls = copy_runtime(pyodide_files, bundle.packages, bundle.stdlib, site_dir)
        write_runtime_files(staged_app, page_dir, runtime_urls)
        log.info("Copied Pyodide %s and the bundle of %d packages", lock.pyodide.version, len(wheels))

        (site_dir / SITE_MARKER).write_text("", encoding="utf-8")
        finish_site(site_dir, gzip_cache=cache_dir / "gzip", log=log.info)
        replace_directory(site_dir, out_dir)
    log.info("Site ready in %s", out_dir)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the LLM Data Review site into a folder of static files.")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="dataset to review: JSON or JSONL in any format that --format lists, detected "
        f"automatically (default: {DEFAULT_DATA.relative_to(REPO_DIR)})",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="read --data in this format instead of detecting it",
    )
    parser.add_argument(
        "--labels",
        default="",
        help="comma-separated labels offered for every record, such as 'hallucination,wrong tool'",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail the build when any line or record of --data cannot be read (default: report and skip it)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder, replaced on success (default: _site)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder for downloaded Pyodide files and wheels (default: $LLM_REVIEW_CACHE or ~/.cache/llm-data-review)",
    )
    parser.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1 after building it")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (default: 8000; 0 picks a free one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments = parse_arguments(argv)
    out_dir = arguments.out.resolve()

    try:
        build_site(
            arguments.data.resolve(),
            out_dir,
            arguments.cache or default_cache_dir(),
            data_format=arguments.format,
            labels=[label.strip() for label in arguments.labels.split(",") if label.strip()],
            strict=arguments.strict,
        )
    except (DatasetFormatError, RuntimeFetchError, BlogRenderError, PageRenderError, BuildError) as error:
        log.error("Build failed: %s", error)
        log.error("The previous site in %s, if any, was left unchanged.", out_dir)
        return 1
    except OSError as error:
        log.error("Build failed: %s: %s", error.filename or "a file", error.strerror or error)
        log.error("The previous site in %s, if any, was left unchanged.", out_dir)
        return 1
    except KeyboardInterrupt:
        log.error("Build interrupted; the previous site in %s, if any, was left unchanged.", out_dir)
        return 130

    if arguments.serve:
        serve_until_interrupted(out_dir, port=arguments.port, log=log.info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
