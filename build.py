"""Build the LLM Data Review site: a blog post with the review app running in the browser.

    python build.py                          # the sample data into _site/
    python build.py --data runs.json --out site
    python build.py --serve                  # build, then serve on http://127.0.0.1:8000/

The site is assembled in a temporary folder next to the output and swapped in only when every step
has succeeded, so a failed build leaves the previous site untouched.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent
APP_DIR = REPO_DIR / "app"
sys.path.insert(0, str(APP_DIR))

from review_data import DatasetError, load_dataset  # noqa: E402 - needs the app folder on sys.path
from sitebuild.blog import BlogRenderError, render_blog, write_app_source  # noqa: E402
from sitebuild.page import PageRenderError, render_page, write_runtime_files  # noqa: E402
from sitebuild.runtime import (  # noqa: E402
    RuntimeFetchError,
    default_cache_dir,
    fetch_runtime,
    read_lock,
)
from sitebuild.serve import serve_until_interrupted  # noqa: E402

DEFAULT_DATA = REPO_DIR / "sample_data" / "langsmith_runs.json"
DEFAULT_OUT = REPO_DIR / "_site"

# Site layout: the app's page at app/, Pyodide's core at pyodide/, wheels at wheels/. The worker
# script lives at app/runtime/, so its URLs to the shared folders go up two levels.
PYODIDE_URL_FROM_WORKER = "../../pyodide/"
WHEELS_URL_FROM_WORKER = "../../wheels/"

log = logging.getLogger("build")


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


def stage_app(app_dir: Path, data_path: Path, staging_dir: Path) -> Path:
    """Copy the app and the dataset into `staging_dir`/app and return that folder."""
    staged = staging_dir / "app"
    shutil.copytree(
        app_dir, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "datasets")
    )
    datasets = staged / "datasets"
    datasets.mkdir()
    shutil.copy2(data_path, datasets / data_path.name)
    return staged


def stage_blog(repo_dir: Path, app_py: Path, staging_dir: Path) -> Path:
    """Copy the post and its Quarto project file into a folder the renderer may change."""
    project = staging_dir / "blog-project"
    project.mkdir()
    shutil.copy2(repo_dir / "_quarto.yml", project / "_quarto.yml")
    shutil.copytree(repo_dir / "blog", project / "blog", ignore=shutil.ignore_patterns("__pycache__"))
    write_app_source(project / "blog", app_py)
    return project


def copy_runtime(pyodide_files: dict[str, Path], wheels: list[Path], site_dir: Path) -> None:
    """Copy Pyodide's core and the wheels into the site."""
    pyodide_dir = site_dir / "pyodide"
    pyodide_dir.mkdir()
    for name, path in pyodide_files.items():
        shutil.copy2(path, pyodide_dir / name)

    wheels_dir = site_dir / "wheels"
    wheels_dir.mkdir()
    for path in wheels:
        shutil.copy2(path, wheels_dir / path.name)


def replace_directory(new_dir: Path, out_dir: Path) -> None:
    """Put `new_dir` at `out_dir`, moving any previous content away first and deleting it after."""
    previous = None
    if out_dir.exists():
        previous = out_dir.with_name(f".{out_dir.name}.previous-{time.time_ns()}")
        out_dir.rename(previous)
    new_dir.rename(out_dir)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def build_site(data_path: Path, out_dir: Path, cache_dir: Path) -> None:
    """Build the whole site for `data_path` into `out_dir`."""
    dataset = load_dataset(data_path)
    log.info("Dataset %s: %d records", data_path, len(dataset.rows))

    pyodide_files, wheels = fetch_runtime(read_lock(), cache_dir, log=log.info)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.build-", dir=out_dir.parent) as temp:
        staging_dir = Path(temp)
        site_dir = staging_dir / "site"
        site_dir.mkdir()

        # The blog goes first: Quarto may clear its output folder before writing.
        staged_app = stage_app(APP_DIR, data_path, staging_dir)
        render_blog(stage_blog(REPO_DIR, APP_DIR / "app.py", staging_dir), site_dir, log=log.info)

        page_dir = site_dir / "app"
        page_dir.mkdir()
        render_page(staged_app, page_dir)
        log.info("Wrote %s", out_dir / "app" / "index.html")

        wheel_urls = [WHEELS_URL_FROM_WORKER + path.name for path in wheels]
        write_runtime_files(staged_app, page_dir, pyodide_url=PYODIDE_URL_FROM_WORKER, wheel_urls=wheel_urls)
        copy_runtime(pyodide_files, wheels, site_dir)
        log.info("Copied Pyodide %s and %d wheels", read_lock().pyodide.version, len(wheels))

        replace_directory(site_dir, out_dir)
    log.info("Site ready in %s", out_dir)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the LLM Data Review site into a folder of static files.")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="dataset to review: a JSON list of LangSmith run rows or the same table as pandas "
        f"DataFrame.to_json() writes it (default: {DEFAULT_DATA.relative_to(REPO_DIR)})",
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
        build_site(arguments.data.resolve(), out_dir, arguments.cache or default_cache_dir())
    except (DatasetError, RuntimeFetchError, BlogRenderError, PageRenderError, BuildError) as error:
        log.error("Build failed: %s", error)
        log.error("The previous site in %s, if any, was left unchanged.", out_dir)
        return 1

    if arguments.serve:
        serve_until_interrupted(out_dir, port=arguments.port, log=log.info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
