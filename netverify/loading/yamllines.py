"""The line of a node of a document yaml-rs parsed, found on demand.

A node's line is read off the block structure of its document (indentation, `key:` and `- `
heads), checked against the parsed data at every step (same keys in the same order, as many
items); where that reading is not certain (flow collections spanning lines, quoted keys,
...) the document is parsed by the reference loader and its table used instead.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from netverify.loading.yamlconvert import Path


class _Unsupported(Exception):
    """The block structure does not say a node's line for certain."""


class _Row(NamedTuple):
    """One line of a document that holds YAML content (not blank, not only a comment)."""

    line: int
    """1-based."""
    indent: int
    content: str
    """The line without its indentation."""

    @property
    def is_item(self) -> bool:
        return self.content == "-" or self.content.startswith("- ")


def _content_rows(document: str, first_line: int) -> list[_Row]:
    """The rows of `document` (the text of one document, from its `---` line if it has one,
    which starts at 0-based line `first_line` of its file) that hold content."""
    rows = []
    for number, line in enumerate(document.split("\n"), first_line + 1):
        content = line.lstrip(" ")
        if content and not content.startswith("#") and not line.startswith("---"):
            rows.append(_Row(number, len(line) - len(content), content.rstrip(" ")))
    return rows


_CONTENT = re.compile(r"^[ ]*[^ \n#]", re.MULTILINE)
"""The start of a line that holds content."""


def first_content_line(text: str, start: int, end: int, first_line: int) -> int | None:
    """The 1-based line of the first line of content of the document `text[start:end]`
    (from its `---` line if it has one), which starts at 0-based line `first_line`; None
    when it has none."""
    position = start
    if text.startswith("---", start):
        position = text.find("\n", start, end)
        if position < 0:
            return None
    found = _CONTENT.search(text, position, end)
    if found is None:
        return None
    return first_line + text.count("\n", start, found.start()) + 1


class ScannedPositions(Mapping[Path, int]):
    """The line of a node by its path, read off the document's block structure; the
    reference loader's table where that reading is not certain, and for iteration."""

    def __init__(
        self,
        text: str,
        start: int,
        end: int,
        first_line: int,
        data: object,
        reference: Callable[[str, int], Mapping[Path, int]],
    ) -> None:
        """The document is `text[start:end]`, starting at 0-based line `first_line`."""
        self._text = text
        self._start = start
        self._end = end
        self._first_line = first_line
        self._data = data
        self._reference = reference
        self._rows: list[_Row] | None = None
        self._table: Mapping[Path, int] | None = None

    def _referenced(self) -> Mapping[Path, int]:
        if self._table is None:
            self._table = self._reference(self._text[self._start : self._end], self._first_line)
        return self._table

    def __getitem__(self, path: Path) -> int:
        if self._table is not None:
            return self._table[path]
        if not path:
            # Most lookups are of a document's own line: its first row, the others unread.
            line = first_content_line(self._text, self._start, self._end, self._first_line)
            if line is None:
                raise KeyError(path)
            return line
        if self._rows is None:
            self._rows = _content_rows(self._text[self._start : self._end], self._first_line)
        try:
            line = _locate(self._rows, self._data, path)
        except _Unsupported:
            return self._referenced()[path]
        if line is None:
            raise KeyError(path)
        return line

    def __iter__(self) -> Iterator[Path]:
        return iter(self._referenced())

    def __len__(self) -> int:
        return len(self._referenced())


def _locate(rows: list[_Row], data: object, path: Path) -> int | None:
    """The line of the node at `path`, None when there is none."""
    if not rows:
        raise _Unsupported
    line = rows[0].line
    for depth, part in enumerate(path):
        if rows[0].content.startswith(("{", "[")):
            # A flow collection: on one line, or not read here.
            if len(rows) > 1:
                raise _Unsupported
            return line if _exists(data, path[depth:]) else None
        if isinstance(data, dict):
            if not isinstance(part, str) or part not in data:
                return None
            line, rows = _mapping_entry(rows, list(data), part)
            data = data[part]
        elif isinstance(data, list):
            if not isinstance(part, int) or not 0 <= part < len(data):
                return None
            line, rows = _sequence_item(rows, len(data), part)
            data = data[part]
        else:
            return None
        if not rows:
            return line if _exists(data, path[depth + 1 :]) else None
    return line


def _exists(data: object, path: Path) -> bool:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str) and part in data:
            data = data[part]
            continue
        if not (isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)):
            return False
        data = data[part]
    return True


def _mapping_entry(rows: list[_Row], keys: list[str], key: str) -> tuple[int, list[_Row]]:
    """(line of `key`, rows of its value) in a block mapping; its value's rows are empty
    when the value is written on the key's line (a scalar or a one-line flow collection)."""
    indent = rows[0].indent
    heads: list[int] = []
    for position, row in enumerate(rows):
        if row.indent < indent:
            raise _Unsupported
        if row.indent == indent and not row.is_item:
            heads.append(position)
    if len(heads) != len(keys):
        raise _Unsupported
    wanted = keys.index(key)
    for position, name in zip(heads, keys, strict=True):
        written, _ = _split_key(rows[position].content)
        if written != name:
            raise _Unsupported
    head = rows[heads[wanted]]
    end = heads[wanted + 1] if wanted + 1 < len(heads) else len(rows)
    _, inline = _split_key(head.content)
    below = rows[heads[wanted] + 1 : end]
    if inline and not inline.startswith("#"):
        if inline.startswith(("|", ">")):
            return head.line, []
        if below:  # a value continued on the next lines
            raise _Unsupported
        return head.line, [_Row(head.line, head.indent, inline)]
    return head.line, below


def _split_key(content: str) -> tuple[str, str]:
    """(key as written, rest of the line) of a `key: value` line; quoted keys are not read."""
    if content.startswith(("'", '"')):
        raise _Unsupported
    colon = content.find(": ")
    if colon < 0:
        if not content.endswith(":"):
            raise _Unsupported
        return content[:-1].rstrip(" "), ""
    return content[:colon].rstrip(" "), content[colon + 2 :].strip(" ")


def _sequence_item(rows: list[_Row], count: int, index: int) -> tuple[int, list[_Row]]:
    """(line of item `index`, rows of the item with its dash read as indentation)."""
    indent = rows[0].indent
    heads: list[int] = []
    for position, row in enumerate(rows):
        if row.indent < indent or (row.indent == indent and not row.is_item):
            raise _Unsupported
        if row.indent == indent:
            heads.append(position)
    if len(heads) != count:
        raise _Unsupported
    head = rows[heads[index]]
    rest = head.content[1:].lstrip(" ")
    if not rest:
        raise _Unsupported
    end = heads[index + 1] if index + 1 < len(heads) else len(rows)
    first = _Row(head.line, indent + len(head.content) - len(rest), rest)
    below = rows[heads[index] + 1 : end]
    if rest.startswith(("|", ">")):
        return head.line, []
    if not below and ": " not in rest and not rest.endswith(":") and not rest.startswith("-"):
        return head.line, [first] if rest.startswith(("{", "[")) else []
    return head.line, [first, *below]
