"""JSON and JSONL documents: the items they contain, and writing them back.

A Document keeps everything needed to rebuild the file: the parsed value or
lines, the byte order mark, the line endings, and the json.dumps settings that
reproduce the text. Readers see the document as a sequence of Items (one per
JSONL line, list element, pandas table row, or the whole object), and the
exporter hands back changed values per Item, so everything else is written as
it was read.
"""

from __future__ import annotations

import codecs
import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from traces.json_style import JsonStyle, detect_style
from traces.problems import Problem


@dataclass
class Line:
    """One line of a JSONL document."""

    number: int  # 1-based
    text: str  # without the line ending
    ending: str  # "\n", "\r\n" or "" for a last line without one
    value: Any = None
    valid: bool = False  # a JSON value parsed from a non-blank line


@dataclass(frozen=True)
class Item:
    """One JSON value that a reader may turn into a record.

    ``line`` is the index into Document.lines for JSONL. ``prefix`` is the path
    from the root (or line) value to this item. ``row_label`` is set for a row
    of a pandas "columns" table, whose fields are spread over the columns.
    """

    location: str
    index: int
    value: Any
    line: int | None = None
    prefix: tuple[str | int, ...] = ()
    row_label: str | None = None

    def child(self, location: str, index: int, *path: str | int) -> Item:
        """Return the item nested at ``path`` inside this one."""
        value = self.value
        for key in path:
            value = value[key]
        return Item(location, index, value, self.line, self.prefix + path, self.row_label)


@dataclass(frozen=True)
class Change:
    """A new value for ``path`` inside an item, made by an exporter."""

    item: Item
    path: tuple[str | int, ...]
    value: Any


@dataclass
class Document:
    """A decoded JSON or JSONL file with what is needed to write it back."""

    name: str
    data: bytes
    kind: Literal["json", "jsonl"]
    bom: bool = False
    # JSON documents: the parsed value, the text after it, and the line ending.
    root: Any = None
    suffix: str = ""
    newline: str = "\n"
    # JSONL documents: every line, blank and invalid ones too.
    lines: list[Line] = field(default_factory=list)
    # Lines that are not valid JSON; every format reports them.
    line_problems: list[Problem] = field(default_factory=list)
    _items: list[Item] | None = None

    @functools.cached_property
    def style(self) -> JsonStyle:
        """The json.dumps settings that reproduce a JSON document, found on first use.

        Finding them costs up to four json.dumps calls over the whole file.
        Loading does not pay for that, only an export that changes the file.
        """
        text = self.data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        if self.newline == "\r\n":
            text = text.replace("\r\n", "\n")
        return detect_style(text, self.root)

    def items(self) -> list[Item]:
        """Return the document's items: lines, list elements, table rows or the whole value."""
        if self._items is None:
            self._items = list(iterate_items(self))
        return self._items

    def describe(self) -> str:
        """Describe the top level for an error message, such as "a JSON list of 3 items"."""
        if self.kind == "jsonl":
            count = sum(1 for line in self.lines if line.valid)
            first = next((line.value for line in self.lines if line.valid), None)
            text = f"JSONL with {count} valid line{'' if count == 1 else 's'}"
            return text + describe_fields(first)
        if isinstance(self.root, list):
            count = len(self.root)
            first = next((value for value in self.root if isinstance(value, dict)), None)
            return f"a JSON list of {count} item{'' if count == 1 else 's'}" + describe_fields(
                first
            )
        if is_columns_table(self.root):
            return "a pandas table with the columns " + ", ".join(f'"{name}"' for name in self.root)
        if isinstance(self.root, dict):
            names = ", ".join(f'"{name}"' for name in list(self.root)[:8])
            return f"a JSON object with the fields {names}" if names else "an empty JSON object"
        return f"the JSON value {json.dumps(self.root)[:40]}"

    def render(self, changes: Sequence[Change]) -> bytes:
        """Write the document back with the changes applied; the original bytes when there are none."""
        if not changes:
            return self.data

        if self.kind == "jsonl":
            text = self.render_lines(changes)
        else:
            assignments = [pair for change in changes for pair in expand_change(change)]
            text = self.style.dumps(assign_paths(self.root, assignments))
            if self.newline == "\r\n":
                # json.dumps escapes line breaks inside strings, so these are layout only.
                text = text.replace("\n", "\r\n")
            text += self.suffix

        prefix = codecs.BOM_UTF8 if self.bom else b""
        return prefix + text.encode("utf-8")

    def render_lines(self, changes: Sequence[Change]) -> str:
        """Join the lines, re-serializing only the changed ones in each line's own style."""
        assignments_by_line: dict[int, list[tuple[tuple[str | int, ...], Any]]] = {}
        for change in changes:
            if change.item.line is None:
                raise ValueError(f"change for {change.item.location} has no line in {self.name}")
            assignments_by_line.setdefault(change.item.line, []).extend(expand_change(change))
        new_values = {
            index: assign_paths(self.lines[index].value, assignments)
            for index, assignments in assignments_by_line.items()
        }

        parts: list[str] = []
        for index, line in enumerate(self.lines):
            if index in new_values:
                style = detect_style(line.text, line.value)
                if not style.exact:
                    style = JsonStyle(indent=None, separators=(", ", ": "))
                parts.append(style.dumps(new_values[index]) + line.ending)
            else:
                parts.append(line.text + line.ending)
        return "".join(parts)


def describe_fields(value: Any) -> str:
    """Name the first fields of an object, for error messages."""
    if not isinstance(value, dict):
        return ""
    names = list(value)[:8]
    more = ", ..." if len(value) > len(names) else ""
    return " whose first object has the fields " + ", ".join(f'"{name}"' for name in names) + more


def expand_change(change: Change) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Yield (path from the root or line value, value) pairs for one change."""
    item = change.item
    if item.row_label is None:
        yield item.prefix + change.path, change.value
        return

    # A table row's fields are cells: the column name comes first, then the label.
    if change.path:
        column, *rest = change.path
        yield (column, item.row_label, *rest), change.value
        return
    if not isinstance(change.value, dict):
        raise ValueError(
            f"a row of a pandas table must stay an object, found {type(change.value).__name__}"
        )
    for column, cell in change.value.items():
        if column not in item.value or item.value[column] != cell:
            yield (column, item.row_label), cell


def assign_paths(root: Any, assignments: Sequence[tuple[tuple[str | int, ...], Any]]) -> Any:
    """Return a copy of ``root`` with each value set at its path; ``root`` itself is not changed.

    Only the lists and objects on the paths are copied, each at most once. A
    missing object on a path is created, so that a new pandas table column can
    be added.
    """
    created: set[int] = set()

    def own(container: Any) -> Any:
        if id(container) in created:
            return container
        copied = list(container) if isinstance(container, list) else dict(container)
        created.add(id(copied))
        return copied

    for path, value in assignments:
        if not path:
            root = value
            continue
        root = own(root)
        node = root
        for key in path[:-1]:
            exists = isinstance(node, list) or key in node
            child = own(node[key] if exists else {})
            node[key] = child
            node = child
        node[path[-1]] = value
    return root


def is_columns_table(value: Any) -> bool:
    """Tell whether a value looks like pandas' "columns" layout: an object of objects."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(cells, dict) for cells in value.values())
    )


def iterate_items(document: Document) -> Iterator[Item]:
    """Yield the generic items of a document."""
    if document.kind == "jsonl":
        # Invalid lines count too, so that record-<index> ids stay put when one is fixed.
        index = 0
        for line_index, line in enumerate(document.lines):
            if line.valid:
                yield Item(f"line {line.number}", index, line.value, line=line_index)
            if line.text.strip():
                index += 1
        return

    root = document.root
    if isinstance(root, list):
        for index, value in enumerate(root):
            yield Item(f"record {index}", index, value, prefix=(index,))
    elif is_columns_table(root):
        yield from iterate_table_rows(root)
    else:
        yield Item("file", 0, root)


def iterate_table_rows(table: dict[str, dict[str, Any]]) -> Iterator[Item]:
    """Yield the rows of a pandas "columns" table in the order of the first column's labels.

    A row missing a cell in some column is yielded as a problem marker: an
    Item whose value is a TableRowError, which readers report and skip.
    """
    first_column, first_cells = next(iter(table.items()))
    labels = list(first_cells)
    known = set(labels)

    for index, label in enumerate(labels):
        missing = [column for column, cells in table.items() if label not in cells]
        if missing:
            message = (
                "missing; expected a value for every index label "
                f'of the first column "{first_column}"'
            )
            yield Item(
                f"record {label}", index, TableRowError(missing[0], message), row_label=label
            )
            continue
        row = {column: cells[label] for column, cells in table.items()}
        yield Item(f"record {label}", index, row, row_label=label)

    extra_index = len(labels)
    for column, cells in table.items():
        for label in cells:
            if label not in known:
                message = (
                    "found an extra index label; expected only the labels "
                    f'of the first column "{first_column}"'
                )
                yield Item(
                    f"record {label}", extra_index, TableRowError(column, message), row_label=label
                )
                extra_index += 1
                known.add(label)


@dataclass(frozen=True)
class TableRowError:
    """Marks a pandas table row that cannot be read, with the column at fault."""

    column: str
    message: str
