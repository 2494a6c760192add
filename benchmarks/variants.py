"""Variants of one built site, each without some of the start-up work the build does, to measure
what each idea is worth: the package bundle, its bytecode, the precompiled standard library and
the gzip copies.

Each variant is a copy of the site whose app/runtime/config.json points the worker at other
files, so the page, the app and the dataset stay the same.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

CONFIG = Path("app") / "runtime" / "config.json"


@dataclass(frozen=True)
class Variant:
    """One way to boot the same site: a folder and the URL fragment the page is opened with."""

    name: str
    description: str
    site_dir: Path
    fragment: str = ""


def make_variants(site_dir: Path, work_dir: Path) -> list[Variant]:
    """Return the variants of `site_dir`, from the least start-up work done at build time to all."""
    sources_only = copy_site(site_dir, work_dir / "variant-sources")
    strip_bytecode(sources_only)
    use_stock_stdlib(sources_only)
    refresh_service_worker(sources_only)

    packages_compiled = copy_site(site_dir, work_dir / "variant-packages-compiled")
    use_stock_stdlib(packages_compiled)
    refresh_service_worker(packages_compiled)

    return [
        Variant("bundle, sources only", "one zip of the stripped wheels, no .pyc, Pyodide's stdlib", sources_only, "#no-gzip"),
        Variant("+ package bytecode", "the same with .pyc for the modules imported at boot", packages_compiled, "#no-gzip"),
        Variant("+ stdlib bytecode", "and the standard library with .pyc for those modules", site_dir, "#no-gzip"),
        Variant("+ gzip copies (all)", "and the .gz copies, unpacked with DecompressionStream", site_dir, ""),
    ]


def copy_site(site_dir: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(site_dir, target)
    return target


def read_config(site_dir: Path) -> dict:
    return json.loads((site_dir / CONFIG).read_text(encoding="utf-8"))


def write_config(site_dir: Path, config: dict) -> None:
    (site_dir / CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")


def use_stock_stdlib(site_dir: Path) -> None:
    """Point the worker at Pyodide's own standard library, which has no .pyc files."""
    config = read_config(site_dir)
    config["stdlib"] = None
    write_config(site_dir, config)


def strip_bytecode(site_dir: Path) -> None:
    """Replace the package bundle with a copy that has no __pycache__ folders."""
    config = read_config(site_dir)
    bundle = (site_dir / CONFIG).parent / config["packages"]
    stripped = bundle.with_name(bundle.stem + "-sources.zip")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(stripped, "w") as target:
        for member in source.infolist():
            if "__pycache__/" not in member.filename:
                target.writestr(member, source.read(member.filename))
    stripped.with_name(stripped.name + ".gz").write_bytes(gzip.compress(stripped.read_bytes(), 6, mtime=0))

    url = config["packages"].replace(bundle.name, stripped.name)
    config["packages"] = url
    config["integrity"][url] = {"gzip": True, "sha256": hashlib.sha256(stripped.read_bytes()).hexdigest()}
    write_config(site_dir, config)


def refresh_service_worker(site_dir: Path) -> None:
    """Write build.json and sw.js again for the variant's files, keeping the build id.

    Without this, the service worker would find that config.json differs from the build's and
    refuse to install.
    """
    from sitebuild import page  # noqa: PLC0415 - keeps this module importable without the build

    manifest = json.loads((site_dir / page.BUILD_FILE).read_text(encoding="utf-8"))
    files = page.site_files(site_dir)
    unused = set() if read_config(site_dir)["stdlib"] is None else page.unused_by_app(files)
    manifest["files"] = {
        relative: {
            "sha256": page.file_sha256(site_dir / relative),
            "size": (site_dir / relative).stat().st_size,
            "gzip": (site_dir / (relative + ".gz")).is_file(),
            "precache": relative not in unused,
        }
        for relative in files
    }
    (site_dir / page.BUILD_FILE).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    page.write_service_worker(site_dir, manifest)
