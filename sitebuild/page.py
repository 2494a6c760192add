"""Render the Shiny app's page at build time and lay out the files the browser runtime needs.

The page is rendered by importing the app in a fresh CPython interpreter with the same shiny
version as the browser, so the HTML and its dependencies match what the app sends once it runs.
Run as `python -m sitebuild.page APP_DIR OUT_DIR` to render one page by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
RUNTIME_DIR = REPO_DIR / "runtime"

# Files of runtime/ that the page and the worker load, and the Python modules the worker imports.
RUNTIME_WEB_FILES = ("worker.mjs", "bridge.js", "boot.css")
RUNTIME_PYTHON_DIR = RUNTIME_DIR / "python"

# Dependencies are placed where shiny.js requests those that appear later through render.ui.
LIB_PREFIX = "lib/"


class PageRenderError(Exception):
    """The app could not be imported or its page could not be written."""


def render_page_here(app_dir: Path, out_dir: Path) -> None:
    """Import the app from `app_dir` in this interpreter and write index.html and lib/ to `out_dir`."""
    sys.path.insert(0, str(app_dir))
    import app as app_module  # noqa: PLC0415 - the app's folder is only known at run time

    rendered = app_module.app.ui
    for dependency in rendered["dependencies"]:
        paths = dependency.source_path_map(lib_prefix=LIB_PREFIX)
        if not paths["source"]:
            continue
        target = out_dir / paths["href"]
        shutil.copytree(paths["source"], target, dirs_exist_ok=True)

    html = rendered["html"]
    html = html.replace("</head>", '<link rel="stylesheet" href="runtime/boot.css">\n</head>', 1)
    # The bridge must run after shiny.js (in <head>) and before DOMContentLoaded.
    html = html.replace("</body>", '<script src="runtime/bridge.js"></script>\n</body>', 1)
    (out_dir / "index.html").write_text(html, encoding="utf-8")


def render_page(app_dir: Path, out_dir: Path) -> None:
    """Render the app's page in a fresh interpreter, so the build's own imports stay clean."""
    result = subprocess.run(
        [sys.executable, "-m", "sitebuild.page", str(app_dir), str(out_dir)],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise PageRenderError(f"Rendering the app page from {app_dir} failed:\n{tail}")


def collect_text_files(root: Path, prefix: str) -> dict[str, str]:
    """Return every file below `root` as {prefix/relative path: text}, skipping bytecode caches."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(root).as_posix()
        try:
            files[f"{prefix}/{relative}"] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise PageRenderError(
                f"{path} is not UTF-8 text ({error}); the app folder may only hold text files"
            ) from error
    return files


def write_runtime_files(
    app_dir: Path, out_dir: Path, *, pyodide_url: str, wheel_urls: list[str]
) -> None:
    """Write runtime/ next to the page: scripts, the worker's config and the files Python needs."""
    runtime_out = out_dir / "runtime"
    runtime_out.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_WEB_FILES:
        shutil.copy2(RUNTIME_DIR / name, runtime_out / name)

    files = collect_text_files(app_dir, "app")
    files.update(collect_text_files(RUNTIME_PYTHON_DIR, "runtime"))
    (runtime_out / "files.json").write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")

    config = {"pyodide": pyodide_url, "wheels": wheel_urls, "files": "files.json"}
    (runtime_out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m sitebuild.page APP_DIR OUT_DIR")
    render_page_here(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
