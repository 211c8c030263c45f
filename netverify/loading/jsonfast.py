"""JSON input (`kubectl get -o json`, a `.json` file) read with the standard library's json
module, for the text it reads exactly as the reference loader (PyYAML's safe loader) does.

JSON is YAML, and PyYAML reads it as YAML 1.1: a number with an exponent but no `.` or no
sign in it (`1e3`, `1.0e3`) is a string, `NaN` and `Infinity` are strings, a duplicate key is
an error, nesting is bounded (`MAX_DEPTH`). The json module is made to read scalars so;
text where the two read apart otherwise (an escaped surrogate pair, which PyYAML keeps as two
characters; a key whose `:` is on a later line or over 1,024 characters on, which PyYAML
refuses; a line break other than `\\n` or `\\r\\n`; a character the YAML reader refuses) goes
the YAML way, as does anything the json module refuses.

Lines are found on demand (`JsonPositions`): the top two levels' are noted while parsing
(a `List`'s items), a deeper container's when a line in it is asked for, by scanning its
text again.
"""

import json
import json.scanner
import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from netverify.loading.yamlalike import SURROGATE_ESCAPE
from netverify.loading.yamlconvert import Path
from netverify.loading.yamllimits import MAX_DEPTH
from netverify.loading.yamlloaders import printable

_YAML_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?")
"""A JSON number PyYAML reads as a float (its YAML 1.1 pattern); any other is a string."""
_KEY_THEN_LINE_BREAK = re.compile(r'"[ \t\r]*\n[ \t\r\n]*:')
_LONG_KEY = 100
_LONG_SPACE = re.compile(r'"[ \t\r]{400}')
"""PyYAML refuses a key whose `:` is more than 1,024 characters after its start: a key of
fewer than `_LONG_KEY` characters is at most 6 times as long written (`\\u0041`), and
followed by less space than this."""
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _skip_whitespace(text: str, position: int) -> int:
    found = _WHITESPACE.match(text, position)
    assert found is not None  # the pattern matches the empty string
    return found.end()


class _ReadApart(Exception):
    """A mapping PyYAML reads otherwise: a duplicate key (an error), a key it may refuse as
    too long."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs) or max(map(len, mapping), default=0) >= _LONG_KEY:
        raise _ReadApart
    return mapping


def _yaml_float(literal: str) -> object:
    return float(literal) if _YAML_FLOAT.fullmatch(literal) else literal


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_float=_yaml_float, parse_constant=str
)
# The scanner reads the decoder's hooks (typeshed asks for a scanner as its context).
_scan_once = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]


class _Child(NamedTuple):
    line: int
    """1-based line of the entry's key, or of the item."""
    offset: int
    """Where the value starts in the text."""
    value_line: int


class _Lines:
    """Lines of increasing offsets in a text, counted from the last one asked."""

    def __init__(self, text: str, offset: int, line: int) -> None:
        self._text = text
        self._offset = offset
        self._line = line

    def at(self, offset: int) -> int:
        self._line += self._text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line


def json_document(text: str) -> tuple[object, Mapping[Path, int]] | None:
    """(data, positions) of the one document of `text`, or None when it must go the YAML
    way (not JSON, or JSON the reference reads otherwise)."""
    start = _skip_whitespace(text, 0)
    if not text.startswith(("{", "["), start) or not _reads_alike(text):
        return None
    positions = JsonPositions(text, start)
    try:
        data, end = positions.read_top()
    except (ValueError, StopIteration, RecursionError, _ReadApart, IndexError):
        return None
    if _skip_whitespace(text, end) != len(text) or not _within_depth(text):
        return None
    return data, positions


def _reads_alike(text: str) -> bool:
    if not printable(text) or any(mark in text for mark in _LINE_BREAKS):
        return False
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return False
    if SURROGATE_ESCAPE.search(text) or _KEY_THEN_LINE_BREAK.search(text):
        return False
    return _LONG_SPACE.search(text) is None


_DEPTH_MARKS = bytes(set(range(256)) - set(b'"[]{}'))
_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")


def _within_depth(text: str) -> bool:
    """Whether the (valid JSON) text surely nests no deeper than `MAX_DEPTH` levels, which
    the reference counts with the scalars in the innermost collections: its brackets outside
    strings, innermost pairs removed level by level, are gone within `MAX_DEPTH - 1` rounds."""
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return True
    # Without escaped backslashes and quotes, every quote left starts or ends a string; of
    # two adjacent quotes (an empty string, or the end of one and the start of the next)
    # neither is next to a bracket outside strings.
    raw = text.encode()
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = raw.translate(None, _DEPTH_MARKS).replace(b'""', b"")
    brackets = _STRING.sub(b"", marks)
    for _ in range(MAX_DEPTH - 1):
        if not brackets:
            return True
        brackets = _INNERMOST.sub(b"", brackets)
    return not brackets


class JsonPositions(Mapping[Path, int]):
    """The line of a node by its path: of a mapping entry its key's, of a list item its own."""

    def __init__(self, text: str, start: int) -> None:
        self._text = text
        self._start = start
        self._line = text.count("\n", 0, start) + 1
        self._children: dict[Path, dict[str | int, _Child]] = {}

    def read_top(self) -> tuple[object, int]:
        """(the data, where it ends), noting the lines of the top two levels."""
        lines = _Lines(self._text, self._start, self._line)
        return self._container((), self._start, lines, 1)

    def _container(self, path: Path, start: int, lines: _Lines, levels: int) -> tuple[object, int]:
        """(the data of the container at `start`, where it ends), noting its children's
        lines, and theirs down `levels` more levels."""
        text = self._text
        children: dict[str | int, _Child] = {}
        mapping = text[start] == "{"
        close = "}" if mapping else "]"
        values: list[object] = []
        position = _skip_whitespace(text, start + 1)
        if text[position] == close:
            self._children[path] = children
            return ({} if mapping else []), position + 1
        while True:
            name: str | int = len(values)
            line = lines.at(position)
            if mapping:
                if text[position] != '"':
                    raise ValueError(position)
                key, position = _scan_once(text, position)
                if key in children or len(key) >= _LONG_KEY:
                    raise _ReadApart
                name = key
                position = _skip_whitespace(text, position)
                if text[position] != ":":
                    raise ValueError(position)
                position = _skip_whitespace(text, position + 1)
            children[name] = _Child(line, position, lines.at(position))
            if levels > 0 and text[position] in "[{":
                value, position = self._container((*path, name), position, lines, levels - 1)
            else:
                value, position = _scan_once(text, position)
            values.append(value)
            position = _skip_whitespace(text, position)
            if text[position] == close:
                break
            if text[position] != ",":
                raise ValueError(position)
            position = _skip_whitespace(text, position + 1)
        self._children[path] = children
        data = dict(zip(children, values, strict=True)) if mapping else values
        return data, position + 1

    def _children_of(self, path: Path, child: _Child) -> dict[str | int, _Child]:
        known = self._children.get(path)
        if known is None:
            if self._text[child.offset] not in "[{":
                return {}
            lines = _Lines(self._text, child.offset, child.value_line)
            self._container(path, child.offset, lines, 0)
            known = self._children[path]
        return known

    def __getitem__(self, path: Path) -> int:
        node = _Child(self._line, self._start, self._line)
        for depth, part in enumerate(path):
            found = self._children_of(path[:depth], node).get(part)
            if found is None:
                raise KeyError(path)
            node = found
        return node.line

    def __iter__(self) -> Iterator[Path]:
        pending: list[tuple[Path, _Child]] = [((), _Child(self._line, self._start, self._line))]
        while pending:
            path, node = pending.pop()
            yield path
            children = self._children_of(path, node)
            pending.extend(((*path, name), child) for name, child in children.items())

    def __len__(self) -> int:
        return sum(1 for _ in self)
