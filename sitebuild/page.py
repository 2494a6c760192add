"""Render the Shiny app's page at build time and lay out the files the browser runtime needs.

The page is rendered by importing the app in a fresh CPython interpreter with the same shiny
version as the browser, so the HTML and its dependencies match what the app sends once it runs.
Run as `python -m sitebuild.page APP_DIR OUT_DIR` to render one page by hand.

After every other file of the site is written, `finish_site` adds gzip copies of large files, the
build id (a hash of every file) and the service worker that precaches the site under that id. They
make repeat visits fast and let the site open offline.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
RUNTIME_DIR = REPO_DIR / "runtime"

# Files of runtime/ that the page and the worker load, and the Python modules the worker imports.
RUNTIME_WEB_FILES = ("worker.mjs", "bridge.js", "boot.css")
RUNTIME_PYTHON_DIR = RUNTIME_DIR / "python"
SERVICE_WORKER_SOURCE = RUNTIME_DIR / "service-worker.js"

# Dependencies are placed where shiny.js requests those that appear later through render.ui.
LIB_PREFIX = "lib/"

# Site layout, relative to the site root. The worker lives in app/runtime/, two levels down.
PYODIDE_DIR = "pyodide"
PACKAGES_DIR = "packages"
SERVICE_WORKER_FILE = "sw.js"
BUILD_FILE = "build.json"
FROM_WORKER_TO_ROOT = "../../"
WORKER_CONFIG = "app/runtime/config.json"
WORKER_FILE_PREFIXES = (f"{PYODIDE_DIR}/", f"{PACKAGES_DIR}/")

# Stands in for the build id in files written before the id is known; finish_site replaces it.
BUILD_ID_PLACEHOLDER = "__LLM_REVIEW_BUILD_ID__"
BUILD_ID_META = f'<meta name="llm-review-build" content="{BUILD_ID_PLACEHOLDER}">'

# Files at least this large whose gzip copy is at most GZIP_MAX_RATIO of their size get a .gz
# sibling, which the worker fetches and unpacks with DecompressionStream: static hosts such as
# http.server send files as they are, without Content-Encoding.
GZIP_MIN_BYTES = 64 * 1024
GZIP_MAX_RATIO = 0.8
GZIP_LEVEL = 6

# url(...) and @import references in stylesheets, which the browser fetches relative to the sheet.
CSS_REFERENCE_PATTERN = re.compile(
    r"""url\(\s*["']?(?P<url>[^"')]+)["']?\s*\)|@import\s+["'](?P<import>[^"']+)["']"""
)


class PageRenderError(Exception):
    """The app could not be imported or its page could not be written."""


@dataclass(frozen=True)
class RuntimeURLs:
    """URLs of the runtime's files, relative to app/runtime/config.json."""

    pyodide: str
    packages: str
    stdlib: str | None


# Page ------------------------------------------------------------------------------------------


def render_page_here(app_dir: Path, out_dir: Path) -> None:
    """Import the app from `app_dir` in this interpreter and write index.html and lib/ to `out_dir`."""
    sys.path.insert(0, str(app_dir))
    import app as app_module  # noqa: PLC0415 - the app's folder is only known at run time

    rendered = app_module.app.ui
    for dependency in rendered["dependencies"]:
        paths = dependency.source_path_map(lib_prefix=LIB_PREFIX)
        if not paths["source"]:
            continue
        copy_dependency_files(dependency, Path(paths["source"]), out_dir / paths["href"])

    html = rendered["html"]
    # The worker starts before the page's scripts load, so that Python boots meanwhile.
    start_worker = (RUNTIME_DIR / "start-worker.js").read_text(encoding="utf-8")
    html = re.sub(r"<head[^>]*>", lambda head: f"{head.group()}\n<script>\n{start_worker}</script>", html, count=1)
    html = html.replace(
        "</head>", f'{BUILD_ID_META}\n<link rel="stylesheet" href="runtime/boot.css">\n</head>', 1
    )
    # The bridge must run after shiny.js (in <head>) and before DOMContentLoaded.
    html = html.replace("</body>", '<script src="runtime/bridge.js"></script>\n</body>', 1)
    (out_dir / "index.html").write_text(html, encoding="utf-8")


def copy_dependency_files(dependency, source: Path, target: Path) -> None:
    """Copy the files of one HTML dependency that the page loads, not its whole source folder.

    Those are its scripts and stylesheets, and every file the stylesheets reference. shiny's
    dependency points at all of shiny's www/shared folder (9 MB), of which the page loads 0.4 MB.
    A dependency that lists no scripts or stylesheets (such as ui.include_css) is copied whole.
    """
    listed = [item["src"] for item in dependency.script] + [item["href"] for item in dependency.stylesheet]
    if not listed:
        shutil.copytree(source, target, dirs_exist_ok=True)
        return

    pending = [posixpath.normpath(name) for name in listed]
    copied: set[str] = set()
    while pending:
        name = pending.pop()
        if name in copied or name.startswith("../") or not (source / name).is_file():
            continue
        copied.add(name)
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target / name)
        if name.endswith(".css"):
            text = (source / name).read_text(encoding="utf-8", errors="replace")
            pending.extend(stylesheet_references(text, posixpath.dirname(name)))


def stylesheet_references(css: str, folder: str) -> list[str]:
    """Return the local files a stylesheet in `folder` refers to, as paths relative to the dependency."""
    references = []
    for match in CSS_REFERENCE_PATTERN.finditer(css):
        url = (match.group("url") or match.group("import")).strip()
        if re.match(r"^(?:[a-z][a-z0-9+.-]*:|/|#)", url, re.IGNORECASE):
            continue
        url = re.split(r"[?#]", url, maxsplit=1)[0]
        if url:
            references.append(posixpath.normpath(posixpath.join(folder, url)))
    return references


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


# Runtime files ---------------------------------------------------------------------------------


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


def copy_runtime(
    pyodide_files: dict[str, Path], packages: Path, stdlib: Path | None, site_dir: Path
) -> RuntimeURLs:
    """Copy Pyodide's core and the package bundle into the site and return their URLs.

    The bundle's files are named after a hash of their content, so a browser cache never serves
    an old bundle under a new build.
    """
    pyodide_dir = site_dir / PYODIDE_DIR
    pyodide_dir.mkdir()
    for name, path in pyodide_files.items():
        shutil.copy2(path, pyodide_dir / name)

    packages_dir = site_dir / PACKAGES_DIR
    packages_dir.mkdir()
    packages_name = content_addressed_name(packages, "packages")
    shutil.copy2(packages, packages_dir / packages_name)
    stdlib_url = None
    if stdlib is not None:
        stdlib_name = content_addressed_name(stdlib, "python_stdlib")
        shutil.copy2(stdlib, packages_dir / stdlib_name)
        stdlib_url = f"{FROM_WORKER_TO_ROOT}{PACKAGES_DIR}/{stdlib_name}"

    return RuntimeURLs(
        pyodide=f"{FROM_WORKER_TO_ROOT}{PYODIDE_DIR}/",
        packages=f"{FROM_WORKER_TO_ROOT}{PACKAGES_DIR}/{packages_name}",
        stdlib=stdlib_url,
    )


def content_addressed_name(path: Path, stem: str) -> str:
    """Return `stem`-HASH plus the file's suffix, HASH being the start of its content's sha256."""
    return f"{stem}-{file_sha256(path)[:16]}{path.suffix}"


def write_runtime_files(app_dir: Path, out_dir: Path, urls: RuntimeURLs) -> None:
    """Write runtime/ next to the page: scripts, the worker's config and the files Python needs."""
    runtime_out = out_dir / "runtime"
    runtime_out.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_WEB_FILES:
        shutil.copy2(RUNTIME_DIR / name, runtime_out / name)

    files = collect_text_files(app_dir, "app")
    files.update(collect_text_files(RUNTIME_PYTHON_DIR, "runtime"))
    (runtime_out / "files.json").write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")

    config = {
        "buildId": BUILD_ID_PLACEHOLDER,
        "pyodide": urls.pyodide,
        "packages": urls.packages,
        "stdlib": urls.stdlib,
        "files": "files.json",
    }
    (runtime_out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


# Build id, compressed copies and the service worker --------------------------------------------


def finish_site(
    site_dir: Path, *, gzip_cache: Path | None = None, log: Callable[[str], None] = print
) -> str:
    """Add gzip copies, the build id and the service worker to a finished site; return the id.

    The build id is a hash of every file's path and content, taken while the files that carry
    the id still contain BUILD_ID_PLACEHOLDER, so the same input always gives the same id.
    With `gzip_cache`, gzip copies are kept there by content hash and reused: Pyodide's files and
    the package bundle are the same in every build, and compressing them took 8 s of a 20,000-record
    build.
    """
    files = site_files(site_dir)
    build_id = hash_files(site_dir, files)

    for relative in files:
        path = site_dir / relative
        if BUILD_ID_PLACEHOLDER.encode() in path.read_bytes():
            path.write_bytes(path.read_bytes().replace(BUILD_ID_PLACEHOLDER.encode(), build_id.encode()))

    compressed = write_gzip_copies(site_dir, files, gzip_cache)
    add_worker_integrity(site_dir, files, compressed)
    unused = unused_by_app(files)
    manifest = {
        "buildId": build_id,
        "files": {
            relative: {
                "sha256": file_sha256(site_dir / relative),
                "size": (site_dir / relative).stat().st_size,
                "gzip": relative in compressed,
                "precache": relative not in unused,
            }
            for relative in files
        },
    }
    (site_dir / BUILD_FILE).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    write_service_worker(site_dir, manifest)

    total = sum(entry["size"] for entry in manifest["files"].values())
    log(
        f"Build {build_id}: {len(files)} files, {total / 1e6:.1f} MB, "
        f"{len(compressed)} with a gzip copy; service worker at {SERVICE_WORKER_FILE}"
    )
    return build_id


def site_files(site_dir: Path) -> list[str]:
    """Return the site's files as sorted POSIX paths, without hidden files and .gz copies."""
    return sorted(
        path.relative_to(site_dir).as_posix()
        for path in site_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(site_dir).parts)
        and not path.name.endswith(".gz")
        and path.name not in (SERVICE_WORKER_FILE, BUILD_FILE)
    )


def unused_by_app(files: list[str]) -> set[str]:
    """Return the files the app never loads, which the service worker need not precache.

    With a precompiled standard library in packages/, Pyodide's stock one is only there for pages
    that load Pyodide as it comes (such as the benchmark's bare boot).
    """
    if any(fnmatch.fnmatchcase(relative, f"{PACKAGES_DIR}/python_stdlib-*.zip") for relative in files):
        return {f"{PYODIDE_DIR}/python_stdlib.zip"}
    return set()


def hash_files(site_dir: Path, files: list[str]) -> str:
    """Hash the paths and contents of `files` into a 16-hex-digit build id."""
    digest = hashlib.sha256()
    for relative in files:
        digest.update(relative.encode("utf-8") + b"\0")
        digest.update(file_sha256(site_dir / relative).encode("ascii") + b"\n")
    return digest.hexdigest()[:16]


def write_gzip_copies(site_dir: Path, files: list[str], gzip_cache: Path | None = None) -> set[str]:
    """Write NAME.gz next to each large file that compresses well; return the files that got one."""
    compressed = set()
    for relative in files:
        path = site_dir / relative
        size = path.stat().st_size
        if size < GZIP_MIN_BYTES:
            continue
        # Only the runtime's files repeat across builds; caching the rest would fill the cache.
        runtime_file = relative.startswith(WORKER_FILE_PREFIXES)
        packed = compress_file(path, gzip_cache if runtime_file else None)
        if len(packed) <= size * GZIP_MAX_RATIO:
            path.with_name(path.name + ".gz").write_bytes(packed)
            compressed.add(relative)
    return compressed


def compress_file(path: Path, gzip_cache: Path | None) -> bytes:
    """Return the gzip of a file's content, from `gzip_cache` when it has it."""
    cached = gzip_cache / f"{file_sha256(path)}-{GZIP_LEVEL}.gz" if gzip_cache else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()

    # mtime=0 keeps the .gz bytes the same for the same input.
    packed = gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_name(f".{cached.name}.tmp")
        temporary.write_bytes(packed)
        temporary.replace(cached)
    return packed


def add_worker_integrity(site_dir: Path, files: list[str], compressed: set[str]) -> None:
    """Add the sha256 and gzip flag of each file the worker fetches to app/runtime/config.json.

    The worker checks each file against its sha256 before storing it in the build's cache, so that
    a file from another build never lands there.
    """
    config_path = site_dir / WORKER_CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config_dir = posixpath.dirname(WORKER_CONFIG)
    integrity = {}
    for relative in files:
        if relative.startswith(WORKER_FILE_PREFIXES) or relative == posixpath.join(config_dir, config["files"]):
            url = posixpath.relpath(relative, config_dir)
            integrity[url] = {"sha256": file_sha256(site_dir / relative), "gzip": relative in compressed}
    config["integrity"] = integrity
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")


def write_service_worker(site_dir: Path, manifest: dict) -> None:
    """Write sw.js: the service worker source with this build's id and file list filled in."""
    precache = [
        [relative, entry["sha256"], entry["gzip"]]
        for relative, entry in sorted(manifest["files"].items())
        if entry["precache"]
    ]
    source = SERVICE_WORKER_SOURCE.read_text(encoding="utf-8")
    source = source.replace('"__BUILD_ID__"', json.dumps(manifest["buildId"]), 1)
    source = source.replace("[/* __PRECACHE__ */]", json.dumps(precache, separators=(",", ":")), 1)
    (site_dir / SERVICE_WORKER_FILE).write_text(source, encoding="utf-8")


def file_sha256(path: Path) -> str:
    """Hash a file's content with SHA-256 and return the hex digest."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m sitebuild.page APP_DIR OUT_DIR")
    render_page_here(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
