"""Tests for sitebuild.runtime: the lock file, the download cache and the resolver.

Downloads are replaced by fakes that copy files from a temporary folder, so these tests need
no network, npm or registry.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from sitebuild import page, runtime
from sitebuild.runtime import (
    PyodidePin,
    RuntimeFetchError,
    RuntimeLock,
    RuntimeLockError,
    WheelPin,
)

RUN_NPM_PACK = runtime._run_npm_pack

PYODIDE_CONTENT = {
    "pyodide.mjs": b"export const loadPyodide = 1;\n",
    "pyodide.asm.wasm": b"\x00asm fake wasm",
}


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def make_wheel(
    folder: Path,
    name: str,
    version: str,
    requires: Sequence[str] = (),
    *,
    tag: str = "py3-none-any",
) -> Path:
    """Write a minimal wheel whose METADATA lists requires as Requires-Dist."""
    distribution = name.replace("-", "_")
    path = folder / f"{distribution}-{version}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {line}\n" for line in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{distribution}/__init__.py", "")
        archive.writestr(f"{distribution}-{version}.dist-info/METADATA", metadata)
    return path


def make_tarball(folder: Path, files: dict[str, bytes]) -> Path:
    path = folder / "pyodide-1.2.3.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


class FakeRegistry:
    """Serves a tarball and wheels from a folder in place of npm pack and pip download."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.npm_calls: list[str] = []
        self.pip_calls: list[list[str]] = []

    def npm_pack(self, spec: str, dest: Path) -> Path:
        self.npm_calls.append(spec)
        tarball = self.folder / "pyodide-1.2.3.tgz"
        return Path(shutil.copy(tarball, dest / tarball.name))

    def pip_download(self, arguments: list[str], dest: Path) -> None:
        self.pip_calls.append(arguments)
        requirements = Path(arguments[arguments.index("-r") + 1])
        for line in requirements.read_text().splitlines():
            name, version = line.split()[0].split("==")
            for wheel in self.folder.glob("*.whl"):
                wheel_name, wheel_version, _build, _tags = parse_wheel_filename(wheel.name)
                if wheel_name == name and wheel_version == Version(version):
                    shutil.copy(wheel, dest / wheel.name)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    folder = tmp_path / "registry"
    folder.mkdir()
    make_tarball(folder, {**PYODIDE_CONTENT, "README.md": b"not served"})
    make_wheel(folder, "shiny", "1.8.0", ["htmltools>=0.7"])
    make_wheel(folder, "htmltools", "0.7.0")

    fake = FakeRegistry(folder)
    monkeypatch.setattr(runtime, "_run_npm_pack", fake.npm_pack)
    monkeypatch.setattr(runtime, "_run_pip_download", fake.pip_download)
    return fake


@pytest.fixture
def lock(registry: FakeRegistry) -> RuntimeLock:
    """A lock that matches the fake registry's files."""
    tarball = registry.folder / "pyodide-1.2.3.tgz"
    wheels = tuple(
        WheelPin(
            name=str(parse_wheel_filename(path.name)[0]),
            version=str(parse_wheel_filename(path.name)[1]),
            filename=path.name,
            sha256=sha256_of(path.read_bytes()),
        )
        for path in sorted(registry.folder.glob("*.whl"))
    )
    pyodide = PyodidePin(
        version="1.2.3",
        tarball=tarball.name,
        sha256=sha256_of(tarball.read_bytes()),
        files={name: sha256_of(content) for name, content in PYODIDE_CONTENT.items()},
    )
    return RuntimeLock(pyodide=pyodide, wheels=wheels)


def fail_download(*_arguments: object) -> None:
    raise AssertionError("no download expected")


def replace_in_registry(registry: FakeRegistry, filename: str, content: bytes) -> None:
    (registry.folder / filename).write_bytes(content)


# Lock file ----------------------------------------------------------------------------------


def test_read_lock_round_trip(lock: RuntimeLock, tmp_path: Path) -> None:
    path = tmp_path / "lock.json"

    runtime.write_lock(lock, path)

    assert runtime.read_lock(path) == lock


def test_write_lock_format(lock: RuntimeLock, tmp_path: Path) -> None:
    path = tmp_path / "lock.json"

    runtime.write_lock(lock, path)
    text = path.read_text()
    data = json.loads(text)

    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert "python -m sitebuild.runtime lock" in data["comment"]


def test_read_lock_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeLockError, match="python -m sitebuild.runtime lock"):
        runtime.read_lock(tmp_path / "absent.json")


def test_read_lock_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.write_text("{not json")

    with pytest.raises(RuntimeLockError, match="not valid JSON"):
        runtime.read_lock(path)


def set_field(data: dict, dotted_key: str, value: object) -> None:
    keys = dotted_key.split(".")
    target = data
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[keys[-1]] = value


@pytest.mark.parametrize(
    ("dotted_key", "value", "message"),
    [
        ("pyodide.sha256", "abc", r"pyodide\.sha256 is 'abc'; expected 64 lowercase hex"),
        ("pyodide.version", "", r"pyodide\.version is ''; expected a non-empty string"),
        ("pyodide.files", {}, r"pyodide\.files is empty"),
        ("pyodide.files", ["pyodide.mjs"], r"pyodide\.files is list; expected a JSON object"),
        ("wheels", {}, r"wheels is dict; expected a list"),
        ("wheels.0.sha256", "A" * 64, r"wheels\[0\]\.sha256 is 'A+'"),
        ("wheels.0.filename", "htmltools.zip", r"'htmltools\.zip' is not a wheel file name"),
        ("wheels.0.version", "9.9", r"does not match name 'htmltools' and version '9\.9'"),
        ("wheels.0.name", None, r"wheels\[0\]\.name is None"),
    ],
)
def test_read_lock_invalid_field(
    lock: RuntimeLock, tmp_path: Path, dotted_key: str, value: object, message: str
) -> None:
    path = tmp_path / "lock.json"
    runtime.write_lock(lock, path)
    data = json.loads(path.read_text())
    set_field(data, dotted_key, value)
    path.write_text(json.dumps(data))

    with pytest.raises(RuntimeLockError, match=message):
        runtime.read_lock(path)


def test_read_lock_duplicate_wheel(lock: RuntimeLock, tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    doubled = RuntimeLock(pyodide=lock.pyodide, wheels=lock.wheels + lock.wheels[:1])
    runtime.write_lock(doubled, path)

    with pytest.raises(RuntimeLockError, match="htmltools more than once"):
        runtime.read_lock(path)


def test_default_cache_dir_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LLM_REVIEW_CACHE", str(tmp_path / "cache"))

    assert runtime.default_cache_dir() == tmp_path / "cache"


def test_default_cache_dir_in_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_REVIEW_CACHE", raising=False)

    assert runtime.default_cache_dir() == Path.home() / ".cache" / "llm-data-review"


# Fetching -----------------------------------------------------------------------------------


def test_fetch_runtime_downloads_everything(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    messages: list[str] = []

    pyodide_files, wheel_paths = runtime.fetch_runtime(
        lock, tmp_path / "cache", log=messages.append
    )

    assert sorted(pyodide_files) == sorted(PYODIDE_CONTENT)
    assert pyodide_files["pyodide.mjs"].read_bytes() == PYODIDE_CONTENT["pyodide.mjs"]
    assert [path.name for path in wheel_paths] == [wheel.filename for wheel in lock.wheels]
    assert all(path.is_file() for path in wheel_paths)
    assert registry.npm_calls == ["pyodide@1.2.3"]
    assert len(registry.pip_calls) == 1
    assert "Downloading pyodide 1.2.3 (npm pack)" in messages
    assert "Downloading shiny 1.8.0 (pip download)" in messages


def test_fetch_runtime_extracts_only_locked_files(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    runtime.fetch_runtime(lock, tmp_path / "cache", log=lambda _message: None)

    cached = sorted(path.name for path in (tmp_path / "cache" / "pyodide-1.2.3").iterdir())
    assert cached == sorted(PYODIDE_CONTENT)


def test_fetch_runtime_leaves_no_staging_folder(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    runtime.fetch_runtime(lock, tmp_path / "cache", log=lambda _message: None)

    leftovers = [path.name for path in (tmp_path / "cache").iterdir() if path.name.startswith(".")]
    assert leftovers == []


def test_fetch_runtime_full_cache_needs_no_download(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    first = runtime.fetch_runtime(lock, cache_dir, log=lambda _message: None)
    monkeypatch.setattr(runtime, "_run_npm_pack", fail_download)
    monkeypatch.setattr(runtime, "_run_pip_download", fail_download)
    monkeypatch.setattr(runtime, "_run_command", fail_download)
    messages: list[str] = []

    second = runtime.fetch_runtime(lock, cache_dir, log=messages.append)

    assert second == first
    assert len(messages) == 1
    assert "0 downloaded" in messages[0]


def test_fetch_runtime_replaces_corrupt_cached_wheel(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    _files, wheel_paths = runtime.fetch_runtime(lock, cache_dir, log=lambda _message: None)
    wheel_paths[0].write_bytes(b"corrupt")
    registry.npm_calls.clear()
    messages: list[str] = []

    _files, wheel_paths = runtime.fetch_runtime(lock, cache_dir, log=messages.append)

    assert sha256_of(wheel_paths[0].read_bytes()) == lock.wheels[0].sha256
    assert any("deleting it to download it again" in message for message in messages)
    assert f"Downloading {lock.wheels[0].name} {lock.wheels[0].version} (pip download)" in messages
    assert registry.npm_calls == []


def test_fetch_runtime_wheel_mismatch_after_download(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    _files, wheel_paths = runtime.fetch_runtime(lock, cache_dir, log=lambda _message: None)
    wheel_paths[0].write_bytes(b"corrupt")
    replace_in_registry(registry, lock.wheels[0].filename, b"tampered")

    with pytest.raises(RuntimeFetchError) as raised:
        runtime.fetch_runtime(lock, cache_dir, log=lambda _message: None)

    message = str(raised.value)
    assert lock.wheels[0].filename in message
    assert lock.wheels[0].sha256 in message
    assert sha256_of(b"tampered") in message
    assert "python -m sitebuild.runtime lock" in message


def test_fetch_runtime_mismatch_not_cached(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    replace_in_registry(registry, lock.wheels[0].filename, b"tampered")

    with pytest.raises(RuntimeFetchError):
        runtime.fetch_runtime(lock, tmp_path / "cache", log=lambda _message: None)

    assert not (tmp_path / "cache" / "wheels" / lock.wheels[0].filename).exists()


def test_fetch_runtime_pyodide_file_mismatch(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    changed = {**PYODIDE_CONTENT, "pyodide.mjs": b"changed"}
    make_tarball(registry.folder, changed)
    locked_tarball = RuntimeLock(
        pyodide=PyodidePin(
            version="1.2.3",
            tarball="pyodide-1.2.3.tgz",
            sha256=sha256_of((registry.folder / "pyodide-1.2.3.tgz").read_bytes()),
            files=lock.pyodide.files,
        ),
        wheels=lock.wheels,
    )

    with pytest.raises(RuntimeFetchError) as raised:
        runtime.fetch_runtime(locked_tarball, tmp_path / "cache", log=lambda _message: None)

    message = str(raised.value)
    assert "pyodide.mjs" in message
    assert lock.pyodide.files["pyodide.mjs"] in message
    assert sha256_of(b"changed") in message


def test_fetch_runtime_tarball_mismatch(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path
) -> None:
    make_tarball(registry.folder, {"pyodide.mjs": b"other"})
    actual = sha256_of((registry.folder / "pyodide-1.2.3.tgz").read_bytes())

    with pytest.raises(RuntimeFetchError) as raised:
        runtime.fetch_runtime(lock, tmp_path / "cache", log=lambda _message: None)

    message = str(raised.value)
    assert "pyodide-1.2.3.tgz" in message
    assert lock.pyodide.sha256 in message
    assert actual in message


def test_fetch_runtime_failed_command_names_it(
    lock: RuntimeLock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "_run_npm_pack", RUN_NPM_PACK)
    monkeypatch.setattr(runtime.shutil, "which", lambda _name: "/bin/false")

    with pytest.raises(RuntimeFetchError, match=r"`/bin/false pack --silent pyodide@1\.2\.3`"):
        runtime.fetch_runtime(lock, tmp_path / "cache", log=lambda _message: None)


# Markers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "extras", "expected"),
    [
        ("uvicorn>=0.23; platform_system != 'Emscripten'", (), False),
        ("websockets; sys_platform != 'emscripten'", (), False),
        ("setuptools; python_version >= '3.12'", (), True),
        ("tomli; python_version < '3.11'", (), False),
        ("typing-extensions; python_version < '3.15'", (), True),
        ("pyodide-http; sys_platform == 'emscripten'", (), True),
        ("cffi; platform_machine == 'x86_64'", (), False),
        ("colorama; os_name == 'nt'", (), False),
        ("email-validator; extra == 'email'", (), False),
        ("email-validator; extra == 'email'", ("email",), True),
        ("starlette", (), True),
    ],
)
def test_applies_to_browser_markers(
    requirement: str, extras: tuple[str, ...], expected: bool
) -> None:
    assert runtime.applies_to_browser(Requirement(requirement), extras) is expected


# Resolution ---------------------------------------------------------------------------------


class FakeIndex:
    """Serves wheels built on demand from a table of name -> version -> Requires-Dist."""

    def __init__(self, packages: dict[str, dict[str, list[str]]]) -> None:
        self.packages = packages
        self.requests: list[str] = []

    def download(self, requirement: str, binary: bool, dest: Path) -> Path | None:
        self.requests.append(requirement)
        parsed = Requirement(requirement)
        versions = [
            version
            for version in self.packages.get(parsed.name, {})
            if parsed.specifier.contains(version, prereleases=True)
        ]
        if not versions:
            return None
        newest = max(versions, key=Version)
        tag = f"cp314-cp314-{runtime.WHEEL_PLATFORM}" if binary else "py3-none-any"
        return make_wheel(dest, parsed.name, newest, self.packages[parsed.name][newest], tag=tag)


def resolve(
    index: FakeIndex,
    roots: list[str],
    tmp_path: Path,
    pinned: dict[str, str] | None = None,
) -> tuple[dict[str, Path], dict[str, str]]:
    pinned = pinned or {}
    return runtime.resolve_wheels(
        roots,
        download=index.download,
        pinned_version=pinned.get,
        work_dir=tmp_path,
        log=lambda _message: None,
    )


def resolved_versions(wheels: dict[str, Path]) -> dict[str, str]:
    return {name: str(parse_wheel_filename(path.name)[1]) for name, path in wheels.items()}


def test_resolve_wheels_skips_host_only_markers(tmp_path: Path) -> None:
    index = FakeIndex(
        {
            "app": {
                "1.0": [
                    "lib",
                    "server; platform_system != 'Emscripten'",
                    "old; python_version < '3.12'",
                ]
            },
            "lib": {"1.0": []},
            "server": {"1.0": []},
            "old": {"1.0": []},
        }
    )

    wheels, _left_out = resolve(index, ["app"], tmp_path)

    assert sorted(wheels) == ["app", "lib"]


def test_resolve_wheels_leaves_out_excluded(tmp_path: Path) -> None:
    index = FakeIndex({"app": {"1.0": ["orjson>=3", "libsass"]}})

    wheels, left_out = resolve(index, ["app"], tmp_path)

    assert sorted(wheels) == ["app"]
    assert sorted(left_out) == ["libsass", "orjson"]
    assert "orjson" not in " ".join(index.requests)


def test_resolve_wheels_reports_missing_pure_wheel(tmp_path: Path) -> None:
    index = FakeIndex({"app": {"1.0": ["compiled"]}})

    wheels, left_out = resolve(index, ["app"], tmp_path)

    assert "compiled" not in wheels
    assert "no py3-none-any wheel" in left_out["compiled"]


def test_resolve_wheels_uses_pinned_version(tmp_path: Path) -> None:
    index = FakeIndex({"app": {"1.0": ["lib>=1"]}, "lib": {"1.0": [], "2.0": []}})

    wheels, _left_out = resolve(index, ["app"], tmp_path, pinned={"lib": "1.0"})

    assert resolved_versions(wheels)["lib"] == "1.0"


def test_resolve_wheels_pinned_version_conflict(tmp_path: Path) -> None:
    index = FakeIndex({"app": {"1.0": ["lib>=2"]}, "lib": {"1.0": [], "2.0": []}})

    with pytest.raises(RuntimeFetchError, match=r"build environment has lib 1\.0.*lib>=2"):
        resolve(index, ["app"], tmp_path, pinned={"lib": "1.0"})


def test_resolve_wheels_newest_matching_version(tmp_path: Path) -> None:
    # "lib" is chosen (as 3.0) before "late" is reached and narrows it to <3, so the
    # resolver must choose it again.
    index = FakeIndex(
        {
            "app": {"1.0": ["lib", "middle"]},
            "middle": {"1.0": ["late"]},
            "late": {"1.0": ["lib<3"]},
            "lib": {"1.0": [], "2.0": [], "3.0": []},
        }
    )

    wheels, _left_out = resolve(index, ["app"], tmp_path)

    assert resolved_versions(wheels)["lib"] == "2.0"


def test_resolve_wheels_follows_requested_extras(tmp_path: Path) -> None:
    index = FakeIndex(
        {
            "app": {"1.0": ["lib[fast]"]},
            "lib": {"1.0": ["speedup; extra == 'fast'", "docs; extra == 'docs'"]},
            "speedup": {"1.0": []},
            "docs": {"1.0": []},
        }
    )

    wheels, _left_out = resolve(index, ["app"], tmp_path)

    assert sorted(wheels) == ["app", "lib", "speedup"]


def test_resolve_wheels_binary_package_tag(tmp_path: Path) -> None:
    index = FakeIndex({"pydantic": {"2.0": ["pydantic-core==2.5"]}, "pydantic-core": {"2.5": []}})

    wheels, _left_out = resolve(index, ["pydantic"], tmp_path)

    assert runtime.WHEEL_PLATFORM in wheels["pydantic-core"].name


def test_read_wheel_requirements(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "app", "1.0", ["lib>=1", "other; sys_platform == 'win32'"])

    requirements = runtime.read_wheel_requirements(wheel)

    assert [str(requirement) for requirement in requirements] == [
        "lib>=1",
        'other; sys_platform == "win32"',
    ]


# Committed lock file ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed_lock() -> RuntimeLock:
    return runtime.read_lock()


def wheel_tags(pin: WheelPin) -> frozenset[Tag]:
    return parse_wheel_filename(pin.filename)[3]


def test_committed_lock_pins_shiny(committed_lock: RuntimeLock) -> None:
    versions = {wheel.name: wheel.version for wheel in committed_lock.wheels}

    assert versions["shiny"] == "1.8.0"


def test_committed_lock_pydantic_core_tag(committed_lock: RuntimeLock) -> None:
    pins = {wheel.name: wheel for wheel in committed_lock.wheels}

    assert Tag("cp314", "cp314", runtime.WHEEL_PLATFORM) in wheel_tags(pins["pydantic-core"])


@pytest.mark.parametrize("name", sorted(runtime.EXCLUDED_PACKAGES))
def test_committed_lock_leaves_out(committed_lock: RuntimeLock, name: str) -> None:
    assert name not in {wheel.name for wheel in committed_lock.wheels}


def test_committed_lock_pure_python_wheels(committed_lock: RuntimeLock) -> None:
    not_pure = [
        wheel.filename
        for wheel in committed_lock.wheels
        if wheel.name not in runtime.BINARY_PACKAGES
        and Tag("py3", "none", "any") not in wheel_tags(wheel)
    ]

    assert not_pure == []


def test_committed_lock_pyodide_files(committed_lock: RuntimeLock) -> None:
    assert committed_lock.pyodide.version == runtime.PYODIDE_VERSION
    assert sorted(committed_lock.pyodide.files) == sorted(runtime.PYODIDE_FILES)


def test_committed_lock_matches_build_environment(committed_lock: RuntimeLock) -> None:
    # The page is rendered at build time with the installed packages, so the browser must run
    # the same versions.
    differing = {
        wheel.name: (wheel.version, runtime.installed_version(wheel.name))
        for wheel in committed_lock.wheels
        if runtime.installed_version(wheel.name) not in (None, wheel.version)
    }

    assert differing == {}


def test_committed_constraints_match_lock(committed_lock: RuntimeLock) -> None:
    written = runtime.CONSTRAINTS_PATH.read_text(encoding="utf-8")

    assert written == runtime.format_constraints(committed_lock)


def test_marker_environment_python_version() -> None:
    environment = runtime.EMSCRIPTEN_MARKER_ENVIRONMENT

    assert SpecifierSet(f"=={environment['python_version']}.*").contains(
        environment["python_full_version"]
    )


# Package bundle -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("shiny/www/shared/shiny.js", True),
        ("shinychat/www/chat/chat.js", True),
        ("shinychat/www/attachment-types.json", False),
        ("shiny/api-examples/accordion/app.py", True),
        ("anyio/tests/test_sockets.py", True),
        ("starlette/testclient.py", True),
        ("typing_inspection/typing_objects.pyi", True),
        ("shiny-1.8.0.dist-info/RECORD", True),
        ("shiny-1.8.0.dist-info/METADATA", False),
        ("shiny/ui/_page.py", False),
        ("pydantic_core/_pydantic_core.cpython-314-wasm32-emscripten.so", False),
    ],
)
def test_is_bundle_excluded_paths(path: str, excluded: bool) -> None:
    assert runtime.is_bundle_excluded(path) is excluded


def make_stdlib_zip(folder: Path) -> Path:
    path = folder / "python_stdlib.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("json/__init__.py", "")
        archive.writestr("os.py", "")
    return path


def bundle_inputs(registry: FakeRegistry, tmp_path: Path) -> tuple[dict, list[Path]]:
    """Return Pyodide files and wheels for a bundle; shiny's wheel has a www asset to leave out."""
    wheels = sorted(registry.folder.glob("*.whl"))
    shiny = next(path for path in wheels if path.name.startswith("shiny-"))
    with zipfile.ZipFile(shiny, "a") as archive:
        archive.writestr("shiny/www/shared/shiny.js", "// page asset")
    stdlib = make_stdlib_zip(tmp_path)
    return {"python_stdlib.zip": stdlib, "pyodide.mjs": tmp_path / "pyodide.mjs"}, wheels


def test_build_package_bundle_without_node(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyodide_files, wheels = bundle_inputs(registry, tmp_path)
    monkeypatch.setattr(runtime.shutil, "which", lambda _name: None)
    messages: list[str] = []

    bundle = runtime.build_package_bundle(lock, pyodide_files, wheels, tmp_path / "cache", log=messages.append)

    names = zipfile.ZipFile(bundle.packages).namelist()
    assert "shiny/__init__.py" in names
    assert "shiny/www/shared/shiny.js" not in names
    assert bundle.stdlib is None
    assert any(message.startswith("WARNING: Node.js not found") for message in messages)


def test_build_package_bundle_reuses_cached(
    registry: FakeRegistry, lock: RuntimeLock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyodide_files, wheels = bundle_inputs(registry, tmp_path)
    monkeypatch.setattr(runtime.shutil, "which", lambda _name: None)
    first = runtime.build_package_bundle(lock, pyodide_files, wheels, tmp_path / "cache", log=lambda _m: None)
    monkeypatch.setattr(runtime, "_unpack_wheels", fail_download)

    second = runtime.build_package_bundle(lock, pyodide_files, wheels, tmp_path / "cache", log=lambda _m: None)

    assert second == first


def test_write_zip_same_bytes_for_same_input(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "package").mkdir(parents=True)
    (root / "package" / "__init__.py").write_text("x = 1\n")

    runtime._write_zip(root, tmp_path / "first.zip")
    (root / "package" / "__init__.py").touch()
    runtime._write_zip(root, tmp_path / "second.zip")

    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()


def test_write_stdlib_zip_adds_compiled_modules(tmp_path: Path) -> None:
    original = make_stdlib_zip(tmp_path)
    compiled = tmp_path / "stdlib"
    (compiled / "json").mkdir(parents=True)
    (compiled / "json" / "__init__.pyc").write_bytes(b"compiled")

    runtime._write_stdlib_zip(original, compiled, tmp_path / "out.zip")

    assert zipfile.ZipFile(tmp_path / "out.zip").namelist() == ["json/__init__.py", "json/__init__.pyc", "os.py"]


# Site files (sitebuild.page) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("css", "folder", "expected"),
    [
        ('@font-face { src: url("fonts/a.woff2") format("woff2"); }', "", ["fonts/a.woff2"]),
        ("a { background: url(../img/x.png?v=2#frag); }", "css", ["img/x.png"]),
        ('@import "font.css";', "", ["font.css"]),
        ("a { background: url(data:image/svg+xml;base64,AAA=); }", "", []),
        ("a { background: url(https://example.invalid/x.png); }", "", []),
        ("a { mask: url(#clip); }", "", []),
    ],
)
def test_stylesheet_references_local_files(css: str, folder: str, expected: list[str]) -> None:
    assert page.stylesheet_references(css, folder) == expected


def make_finished_site(root: Path) -> Path:
    """Write a minimal site whose page and worker config carry the build id placeholder."""
    site = root / "site"
    (site / "app" / "runtime").mkdir(parents=True)
    (site / "pyodide").mkdir()
    (site / "app" / "index.html").write_text(f"<html><head>{page.BUILD_ID_META}</head></html>")
    config = {"buildId": page.BUILD_ID_PLACEHOLDER, "pyodide": "../../pyodide/", "files": "files.json"}
    (site / "app" / "runtime" / "config.json").write_text(json.dumps(config))
    (site / "app" / "runtime" / "files.json").write_text(json.dumps({"app/app.py": "x = 1\n" * 20000}))
    (site / "pyodide" / "pyodide.asm.wasm").write_bytes(bytes(range(256)) * 400)
    return site


def test_finish_site_same_id_for_same_files(tmp_path: Path) -> None:
    first = page.finish_site(make_finished_site(tmp_path / "a"), log=lambda _m: None)
    second = page.finish_site(make_finished_site(tmp_path / "b"), log=lambda _m: None)

    assert first == second


def test_finish_site_fills_in_build_id(tmp_path: Path) -> None:
    site = make_finished_site(tmp_path)

    build_id = page.finish_site(site, log=lambda _m: None)

    config = json.loads((site / "app" / "runtime" / "config.json").read_text())
    assert config["buildId"] == build_id
    assert f'content="{build_id}"' in (site / "app" / "index.html").read_text()
    assert json.loads((site / "build.json").read_text())["buildId"] == build_id
    assert f'const BUILD_ID = "{build_id}";' in (site / "sw.js").read_text()


def test_finish_site_gzip_copies(tmp_path: Path) -> None:
    site = make_finished_site(tmp_path)

    page.finish_site(site, log=lambda _m: None)

    config = json.loads((site / "app" / "runtime" / "config.json").read_text())
    assert (site / "app" / "runtime" / "files.json.gz").is_file()
    assert config["integrity"]["files.json"]["gzip"] is True
    assert config["integrity"]["../../pyodide/pyodide.asm.wasm"]["sha256"] == sha256_of(
        (site / "pyodide" / "pyodide.asm.wasm").read_bytes()
    )


def test_finish_site_new_id_for_changed_file(tmp_path: Path) -> None:
    first = page.finish_site(make_finished_site(tmp_path / "a"), log=lambda _m: None)
    changed = make_finished_site(tmp_path / "b")
    (changed / "app" / "runtime" / "files.json").write_text(json.dumps({"app/app.py": "x = 2\n"}))

    second = page.finish_site(changed, log=lambda _m: None)

    assert second != first


def test_finish_site_reuses_cached_gzip(tmp_path: Path) -> None:
    cache = tmp_path / "gzip-cache"
    page.finish_site(make_finished_site(tmp_path / "a"), gzip_cache=cache, log=lambda _m: None)
    (cached,) = cache.iterdir()
    cached.write_bytes(b"cached copy")

    site = make_finished_site(tmp_path / "b")
    page.finish_site(site, gzip_cache=cache, log=lambda _m: None)

    assert (site / "pyodide" / "pyodide.asm.wasm.gz").read_bytes() == b"cached copy"
