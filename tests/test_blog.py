"""Tests for sitebuild.blog: the post rendered with the bundled Pandoc, and the Quarto command line."""

from __future__ import annotations

import html
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# sitebuild is imported as a package from the project root, whatever directory pytest starts in.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from sitebuild.blog import BlogRenderError, render_blog, write_app_source  # noqa: E402

# A stand-in for app/app.py with text that must be escaped, remote URLs that are only quoted, a
# backtick run that would close a three-backtick fence, and a shortcode that must be shown as
# written, not expanded.
FAKE_APP_SOURCE = '''\
"""Fake review app used to test the blog build."""

BANNER = "<script>alert('not run')</script> & <b>bold</b>"
REMOTE_STYLE = '<link href="https://example.org/a.css"> url("https://example.org/b.png")'
FENCE_IN_DOCSTRING = """
```python
print("inner block")
```
"""
SHORTCODE_TEXT = """
{{< include not-a-real-file.md >}}
"""
'''

# A shell script that records its arguments and writes the post where `quarto render
# --output-dir DIR` would.
FAKE_QUARTO_SUCCEEDS = """\
#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_QUARTO_ARGS"
mkdir -p "$4/blog"
echo '<!DOCTYPE html><title>Rendered by Quarto</title>' > "$4/blog/index.html"
"""

FAKE_QUARTO_FAILS = """\
#!/bin/sh
echo "Starting render" >&2
echo "ERROR: Validation of YAML front matter failed." >&2
exit 3
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """Staging copy of the project's _quarto.yml and blog/, with a fake app source written."""
    staging = tmp_path / "project"
    staging.mkdir()
    shutil.copyfile(PROJECT_ROOT / "_quarto.yml", staging / "_quarto.yml")
    shutil.copytree(PROJECT_ROOT / "blog", staging / "blog", ignore=shutil.ignore_patterns("_*"))

    app_py = tmp_path / "app.py"
    app_py.write_text(FAKE_APP_SOURCE, encoding="utf-8")
    write_app_source(staging / "blog", app_py)
    return staging


@pytest.fixture
def without_quarto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide any installed Quarto so that render_blog takes the Pandoc path."""
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))


@pytest.fixture
def rendered(project_dir: Path, tmp_path: Path, without_quarto: None) -> tuple[Path, list[str]]:
    """Render the staged post with Pandoc and return the output folder and the log lines."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    log_lines: list[str] = []
    render_blog(project_dir, out_dir, log=log_lines.append)
    return out_dir, log_lines


def read_post(out_dir: Path) -> str:
    return (out_dir / "blog" / "index.html").read_text(encoding="utf-8")


def extract_python_code_text(page: str) -> str:
    """Return the text of the first highlighted Python block, with the markup removed."""
    match = re.search(r'<pre\s+class="sourceCode python">(.*?)</pre>', page, re.DOTALL)
    assert match is not None, "no Python code block in the post"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def install_fake_quarto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """Put an executable `quarto` script first on PATH and return the file it records arguments in."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    quarto = bin_dir / "quarto"
    quarto.write_text(script, encoding="utf-8")
    quarto.chmod(quarto.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    args_file = tmp_path / "quarto-args.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_QUARTO_ARGS", str(args_file))
    return args_file


def test_render_blog_post_has_title(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])

    assert "<title>LLM Data Review: read the traces" in page
    assert '<h1 class="title">LLM Data Review: read the traces' in page


def test_render_blog_front_matter_becomes_meta(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])

    assert '<meta name="description" content="A browser-only tool' in page
    assert '<meta name="author" content="LLM Data Review contributors"' in page
    assert '<meta name="dcterms.date" content="2026-12-04"' in page


def test_render_blog_iframe_embeds_app(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])
    iframe = re.search(r"<iframe\b[^>]*>", page)

    assert iframe is not None
    assert 'src="../app/"' in iframe.group(0)
    assert 'width="100%"' in iframe.group(0)
    assert 'loading="lazy"' in iframe.group(0)
    assert re.search(r'\btitle="[^"]+"', iframe.group(0))


def test_render_blog_links_full_page_app(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])

    assert re.search(r'<a href="\.\./app/">', page)


def test_render_blog_shows_app_source(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])
    code_text = extract_python_code_text(page)

    # Pandoc drops the final newline of a code block.
    assert code_text == FAKE_APP_SOURCE.removesuffix("\n")


def test_render_blog_escapes_app_source(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])

    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page


def test_render_blog_logs_quarto_warning(rendered: tuple[Path, list[str]]) -> None:
    warnings = [line for line in rendered[1] if line.startswith("WARNING:")]

    assert len(warnings) == 1
    assert "Quarto" in warnings[0]
    assert "Pandoc" in warnings[0]


@pytest.mark.parametrize("relative_path", ["blog/index.html", "blog/post.css", "index.html"])
def test_render_blog_logs_each_file(
    rendered: tuple[Path, list[str]], relative_path: str
) -> None:
    out_dir, log_lines = rendered
    written = out_dir / relative_path

    assert written.is_file()
    assert f"Wrote {written}" in log_lines


def test_render_blog_links_local_stylesheet(rendered: tuple[Path, list[str]]) -> None:
    page = read_post(rendered[0])

    assert '<link rel="stylesheet" href="post.css" />' in page


def test_render_blog_front_page_links_post(rendered: tuple[Path, list[str]]) -> None:
    front_page = (rendered[0] / "index.html").read_text(encoding="utf-8")

    assert '<a href="blog/">' in front_page
    assert '<a href="app/">' in front_page
    assert '<meta http-equiv="refresh" content="0; url=blog/">' in front_page


@pytest.mark.parametrize("relative_path", ["blog/index.html", "index.html"])
def test_render_blog_no_remote_assets(
    rendered: tuple[Path, list[str]], relative_path: str
) -> None:
    page = (rendered[0] / relative_path).read_text(encoding="utf-8")

    assert not re.search(r"<script\b[^>]*\bsrc=[\"']?(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"<link\b[^>]*\bhref=[\"']?(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"@import\s+(url\()?[\"']?(https?:)?//", page, re.IGNORECASE)
    assert "mathjax" not in page.lower()
    assert "katex" not in page.lower()


def test_render_blog_remote_script_raises(
    project_dir: Path, tmp_path: Path, without_quarto: None
) -> None:
    post = project_dir / "blog" / "index.qmd"
    remote_script = '\n```{=html}\n<script src="https://cdn.example.org/tracker.js"></script>\n```\n'
    post.write_text(post.read_text(encoding="utf-8") + remote_script, encoding="utf-8")

    with pytest.raises(BlogRenderError, match="another host.*cdn.example.org"):
        render_blog(project_dir, tmp_path / "out", log=lambda line: None)


def test_render_blog_missing_include_raises(
    project_dir: Path, tmp_path: Path, without_quarto: None
) -> None:
    (project_dir / "blog" / "_app-source.md").unlink()

    with pytest.raises(BlogRenderError, match="Included file not found: .*_app-source.md"):
        render_blog(project_dir, tmp_path / "out", log=lambda line: None)


@pytest.mark.parametrize(
    "shortcode",
    [
        "{{< include _part.md >}}",
        '{{< include "_part.md" >}}',
        "{{<include _part.md>}}",
        "  {{< include /blog/_part.md >}}  ",
    ],
)
def test_render_blog_include_forms(
    project_dir: Path, tmp_path: Path, without_quarto: None, shortcode: str
) -> None:
    (project_dir / "blog" / "_part.md").write_text("Included paragraph marker.\n", encoding="utf-8")
    post = project_dir / "blog" / "index.qmd"
    post.write_text(post.read_text(encoding="utf-8") + f"\n{shortcode}\n", encoding="utf-8")
    out_dir = tmp_path / "out"

    render_blog(project_dir, out_dir, log=lambda line: None)

    assert "<p>Included paragraph marker.</p>" in read_post(out_dir)


def test_render_blog_quarto_command_line(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args_file = install_fake_quarto(tmp_path, monkeypatch, FAKE_QUARTO_SUCCEEDS)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    log_lines: list[str] = []

    render_blog(project_dir, out_dir, log=log_lines.append)

    recorded = args_file.read_text(encoding="utf-8").splitlines()
    assert recorded == ["render", str(project_dir.resolve()), "--output-dir", str(out_dir.resolve())]
    assert not [line for line in log_lines if line.startswith("WARNING:")]
    assert (out_dir / "index.html").is_file()


def test_render_blog_quarto_failure_raises(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_quarto(tmp_path, monkeypatch, FAKE_QUARTO_FAILS)

    with pytest.raises(BlogRenderError) as raised:
        render_blog(project_dir, tmp_path / "out", log=lambda line: None)

    message = str(raised.value)
    assert message.startswith("quarto failed")
    assert "exit code 3" in message
    assert "ERROR: Validation of YAML front matter failed." in message


@pytest.mark.parametrize(
    ("source", "expected_fence"),
    [
        ("print('no backticks')\n", "```"),
        ("NAME = `inline`\n", "```"),
        ('DOC = """\n```python\nx = 1\n```\n"""\n', "````"),
        ("FENCE = '`````'\n", "``````"),
    ],
)
def test_write_app_source_fence_length(tmp_path: Path, source: str, expected_fence: str) -> None:
    app_py = tmp_path / "app.py"
    app_py.write_text(source, encoding="utf-8")

    written = write_app_source(tmp_path, app_py).read_text(encoding="utf-8")
    lines = written.splitlines()

    assert lines[0] == f"{expected_fence}python"
    assert lines[-1] == expected_fence


def test_write_app_source_keeps_text(tmp_path: Path) -> None:
    app_py = tmp_path / "app.py"
    app_py.write_text(FAKE_APP_SOURCE, encoding="utf-8")

    target = write_app_source(tmp_path, app_py)
    body = target.read_text(encoding="utf-8").split("\n", 1)[1]

    assert target == tmp_path / "_app-source.md"
    assert body == FAKE_APP_SOURCE + "````\n"


def test_write_app_source_adds_final_newline(tmp_path: Path) -> None:
    app_py = tmp_path / "app.py"
    app_py.write_text("x = 1", encoding="utf-8")

    written = write_app_source(tmp_path, app_py).read_text(encoding="utf-8")

    assert written == "```python\nx = 1\n```\n"
