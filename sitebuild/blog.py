"""Render the blog post (blog/index.qmd) into the built site.

Quarto renders the post when it is installed. Without it, the post goes through Pandoc from the
`pypandoc-binary` package, after this module expands the Quarto `{{< include >}}` shortcodes that
Pandoc does not know. Either way the output gets a front page, index.html, that forwards to blog/.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

POST_SOURCE = Path("blog") / "index.qmd"
POST_OUTPUT = Path("blog") / "index.html"
POST_STYLESHEET = "post.css"
APP_SOURCE_NAME = "_app-source.md"
SITE_TITLE = "LLM Data Review"

# Generous for a one-page post, so reaching it means the tool hangs.
TOOL_TIMEOUT_SECONDS = 300

# How many stderr lines a BlogRenderError repeats.
STDERR_TAIL_LINES = 15

# Included files may include others, as in Quarto. The limit stops an include cycle.
MAX_INCLUDE_DEPTH = 10

# A shortcode must sit alone on its line. The path may be quoted.
INCLUDE_PATTERN = re.compile(
    r"""^\s*\{\{<\s*include\s+(?P<path>"[^"]+"|'[^']+'|\S+)\s*>\}\}\s*$"""
)

# A fenced code block opens with three or more backticks or tildes and closes with a run of the
# same character at least as long.
FENCE_PATTERN = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})")

# Scripts, stylesheets, fonts, images and frames fetched from another host would make the page
# depend on the network and tell that host who is reading. Ordinary <a href> links are allowed.
REMOTE_ASSET_PATTERN = re.compile(
    r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|@import\s+["']?(?:https?:)?//[^"')\s]+"""
    r"""|\burl\(\s*["']?(?:https?:)?//[^"')\s]+""",
    re.IGNORECASE,
)

# Code shown on the page may quote URLs in any form, so it is left out of the asset check.
CODE_ELEMENT_PATTERN = re.compile(r"<(pre|code)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)

# Pandoc's HTML template writes <meta name="description"> from `description-meta`, while the
# post's front matter uses Quarto's `description` key.
DESCRIPTION_FILTER_LUA = """\
function Meta(meta)
  if meta.description ~= nil and meta["description-meta"] == nil then
    meta["description-meta"] = pandoc.utils.stringify(meta.description)
  end
  return meta
end
"""


class BlogRenderError(Exception):
    """Failure to render the post, naming the tool or file, and for a tool its exit code and stderr."""


def write_app_source(blog_dir: Path, app_py: Path) -> Path:
    """Write blog_dir/_app-source.md, a fenced Python code block with the text of app_py.

    The fence is one backtick longer than the longest backtick run in the source, and at least
    three long, so no line of the source can close the block early.
    """
    source = app_py.read_text(encoding="utf-8")
    if not source.endswith("\n"):
        source += "\n"

    longest_run = max((len(run) for run in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest_run + 1)

    target = blog_dir / APP_SOURCE_NAME
    target.write_text(f"{fence}python\n{source}{fence}\n", encoding="utf-8")
    return target


def render_blog(project_dir: Path, out_dir: Path, *, log: Callable[[str], None] = print) -> None:
    """Render the post from project_dir into out_dir/blog/index.html and write out_dir/index.html.

    project_dir is a staging copy of the project with blog/_app-source.md already written, and
    this function may change files in it. out_dir should be empty. Raises BlogRenderError when
    Quarto or Pandoc fails, an included file is missing, or the output loads an asset from
    another host.
    """
    project_dir = project_dir.resolve()
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    quarto = shutil.which("quarto")
    if quarto:
        render_with_quarto(quarto, project_dir, out_dir, log=log)
    else:
        log("WARNING: Quarto was not found on PATH, so the post is rendered with Pandoc instead.")
        render_with_pandoc(project_dir, out_dir, log=log)

    check_no_remote_assets(out_dir)

    front_page = out_dir / "index.html"
    if not front_page.exists():
        front_page.write_text(build_front_page(SITE_TITLE), encoding="utf-8")
        log(f"Wrote {front_page}")


def render_with_quarto(
    quarto: str, project_dir: Path, out_dir: Path, *, log: Callable[[str], None]
) -> None:
    """Render the Quarto website project in project_dir into out_dir."""
    # NOTE: never run against a real Quarto, which could not be installed where this was written.
    # The tests only run a stand-in `quarto` script that records its arguments. The help text of
    # `quarto render` defines a relative --output-dir from the project, so the path is absolute.
    log(f"Rendering {project_dir} with {quarto}")
    command = [quarto, "render", str(project_dir), "--output-dir", str(out_dir)]
    run_tool("quarto", command, cwd=project_dir, log=log)

    post = out_dir / POST_OUTPUT
    if not post.exists():
        raise BlogRenderError(
            f"quarto render finished but did not write {post}. Expected {POST_SOURCE} to be "
            f"listed under project: render: in {project_dir / '_quarto.yml'}."
        )
    log(f"Wrote {post}")


def render_with_pandoc(project_dir: Path, out_dir: Path, *, log: Callable[[str], None]) -> None:
    """Render blog/index.qmd with Pandoc into out_dir/blog/, next to a copy of blog/post.css."""
    pandoc = find_pandoc()
    source = project_dir / POST_SOURCE
    blog_dir = source.parent

    # Pandoc reads the post as Markdown once the Quarto includes are pasted in. The expanded copy
    # stays in the blog folder so relative paths in it still resolve.
    expanded = blog_dir / "_index.expanded.md"
    expanded.write_text(expand_includes(source, project_dir), encoding="utf-8")
    description_filter = blog_dir / "_description-meta.lua"
    description_filter.write_text(DESCRIPTION_FILTER_LUA, encoding="utf-8")

    target_dir = out_dir / POST_OUTPUT.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    post = out_dir / POST_OUTPUT

    # Pandoc's default math method writes formulas as plain HTML, so no MathJax or KaTeX URL is
    # added. Passing --mathjax or --katex would load one from a CDN.
    command = [
        pandoc,
        str(expanded),
        "--from=markdown",
        "--to=html5",
        "--standalone",
        f"--lua-filter={description_filter}",
        f"--css={POST_STYLESHEET}",
        # --css turns off Pandoc's built-in page styles, and post.css only adjusts them.
        "--variable=document-css:true",
        f"--output={post}",
    ]
    run_tool("pandoc", command, cwd=blog_dir, log=log)
    log(f"Wrote {post}")

    stylesheet = blog_dir / POST_STYLESHEET
    if not stylesheet.is_file():
        raise BlogRenderError(
            f"Stylesheet not found: {stylesheet}. The post links it as {POST_STYLESHEET}, "
            "so it must be in the blog folder."
        )
    shutil.copyfile(stylesheet, target_dir / POST_STYLESHEET)
    log(f"Wrote {target_dir / POST_STYLESHEET}")


def find_pandoc() -> str:
    """Return the path of the Pandoc binary bundled with pypandoc-binary."""
    try:
        import pypandoc
    except ImportError as error:
        raise BlogRenderError(
            "Neither Quarto nor pypandoc is available to render the post. Install Quarto, or "
            "run `pip install pypandoc-binary` in the build environment."
        ) from error

    try:
        return pypandoc.get_pandoc_path()
    except OSError as error:
        raise BlogRenderError(
            f"pypandoc found no Pandoc binary ({error}). Run `pip install pypandoc-binary`."
        ) from error


def expand_includes(path: Path, project_dir: Path, depth: int = 0) -> str:
    """Return the text of path with each `{{< include FILE >}}` line replaced by that file's text.

    As in Quarto, FILE is relative to the directory of the document being rendered, or to the
    project root when it starts with "/". Lines inside fenced code blocks are left alone, so code
    that quotes a shortcode is shown as written.
    """
    if depth > MAX_INCLUDE_DEPTH:
        raise BlogRenderError(
            f"Includes nested deeper than {MAX_INCLUDE_DEPTH} levels at {path}. "
            "Check for a file that includes itself."
        )

    document_dir = (project_dir / POST_SOURCE).parent
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    expanded: list[str] = []
    open_fence = ""

    for line_number, line in enumerate(lines, start=1):
        fence_match = FENCE_PATTERN.match(line)
        if open_fence:
            if fence_match and is_closing_fence(fence_match.group("fence"), open_fence, line):
                open_fence = ""
            expanded.append(line)
            continue
        if fence_match:
            open_fence = fence_match.group("fence")
            expanded.append(line)
            continue

        include_match = INCLUDE_PATTERN.match(line)
        if not include_match:
            expanded.append(line)
            continue

        name = include_match.group("path").strip("\"'")
        if name.startswith("/"):
            included = project_dir / name.lstrip("/")
        else:
            included = document_dir / name
        if not included.is_file():
            raise BlogRenderError(
                f"Included file not found: {included}, from `{line.strip()}` at "
                f"{path}:{line_number}. The build writes blog/{APP_SOURCE_NAME} before "
                "rendering, so render the post through build.py."
            )

        text = expand_includes(included, project_dir, depth + 1)
        if not text.endswith("\n"):
            text += "\n"
        # Quarto requires blank lines around an include, so the pasted text stays its own block.
        expanded.append("\n" + text + "\n")

    return "".join(expanded)


def is_closing_fence(candidate: str, open_fence: str, line: str) -> bool:
    """Return whether a fence line closes the block opened by open_fence."""
    same_character = candidate[0] == open_fence[0]
    long_enough = len(candidate) >= len(open_fence)
    nothing_after = line.strip() == candidate
    return same_character and long_enough and nothing_after


def run_tool(name: str, command: list[str], *, cwd: Path, log: Callable[[str], None]) -> None:
    """Run an external tool, log its stderr lines, and raise BlogRenderError if it fails."""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BlogRenderError(
            f"{name} timed out after {TOOL_TIMEOUT_SECONDS} s: {' '.join(command)}"
        ) from error
    except OSError as error:
        raise BlogRenderError(f"{name} could not be started ({error}): {command[0]}") from error

    stderr_lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.returncode != 0:
        tail = "\n".join(stderr_lines[-STDERR_TAIL_LINES:]) or "(no output on stderr)"
        raise BlogRenderError(
            f"{name} failed with exit code {result.returncode}. Last lines of its stderr:\n{tail}"
        )

    # Warnings from a successful run, such as an unresolved link, are worth seeing.
    for line in stderr_lines:
        log(f"{name}: {line}")


def check_no_remote_assets(out_dir: Path) -> None:
    """Raise BlogRenderError if a rendered HTML page loads an asset from another host."""
    for page in sorted(out_dir.rglob("*.html")):
        markup = CODE_ELEMENT_PATTERN.sub("", page.read_text(encoding="utf-8", errors="replace"))
        match = REMOTE_ASSET_PATTERN.search(markup)
        if match:
            raise BlogRenderError(
                f"{page} loads an asset from another host: {match.group(0)[:200]!r}. The site "
                "must work without network access, so serve that file from the site instead."
            )


def build_front_page(title: str) -> str:
    """Return the HTML of a front page that links to the post and the app and opens the post."""
    escaped_title = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="refresh" content="0; url=blog/">
  <title>{escaped_title}</title>
</head>
<body>
  <h1>{escaped_title}</h1>
  <p>Read <a href="blog/">the post about the tool</a>, or open <a href="app/">the review app</a>.</p>
</body>
</html>
"""
