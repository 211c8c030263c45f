"""The fast path of the YAML reader: yaml-rs (a Rust parser, about five times faster than
libyaml through PyYAML) for the text it reads exactly as the reference loader does.

yaml-rs reads YAML 1.2, the reference (PyYAML's safe loader, as sigs.k8s.io/yaml) YAML 1.1,
and yaml-rs says nothing of lines. So the fast path takes only text that cannot tell the two
apart: no anchors, aliases, tags, merge keys, directives or complex keys; no plain scalar
that either reads as something other than what the other reads (`yes`, `010`, `0o10`,
`1e3`, `1_000`, a numeric or boolean key, ...), no escaped UTF-16 surrogate, no flow
collection over several lines or with a scalar yaml-rs reads more liberally (`[|x]`), no
empty block scalar ending a document; printable, with `\\n` line breaks only. Any other
text, and any text yaml-rs refuses, goes the reference way, whose messages are the
reference too.

Lines are found on demand (`ScannedPositions`): a node's line is read off the block
structure of its document (indentation, `key:` and `- ` heads), checked against the parsed
data at every step (same keys in the same order, as many items); where that reading is not
certain (flow collections spanning lines, quoted keys, ...) the document is parsed by the
reference loader and its table used instead.
"""

import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import NamedTuple

import yaml_rs

from netverify.loading.yamlconvert import Path
from netverify.loading.yamllimits import MAX_DEPTH
from netverify.loading.yamlloaders import printable

_BOOL_1_1 = r"[Yy]es|YES|[Nn]o|NO|[Oo]n|ON|[Oo]ff|OFF"
"""YAML 1.1 booleans that YAML 1.2 reads as strings (`true`/`false` both read alike)."""
_SAFE_NUMBER = r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]+){2,}"
"""Plain scalars starting like a number that both read alike: decimal integers, decimal
fractions without exponent, dotted versions and IPv4 addresses (strings)."""
_NUMBER_LIKE = (
    r"[-+]?(?:0[xXoObB][0-9a-fA-F_]*|[.0-9][0-9_.:]*(?:[eE][-+]?[0-9_]*)?"
    r"|\.(?:inf|Inf|INF|nan|NaN|NAN))"
)
"""Plain scalars either may read as a number (YAML 1.1 and 1.2 forms, liberally)."""
_END = r"[ ]*(?:$|[,\]}]| #)"
_KEY_NOT_STRING = (
    r"(?:[-+.0-9~][^\s:,\[\]{}]*|[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL)[ ]*:(?: |$)"
)
"""A key yaml-rs would not read as a string."""
_READ_APART = re.compile(
    # Where a scalar or key may start (a line, after `:`, `- `, `[`, `{` or `,`), only what
    # starts like one of them: a complex key, an empty key, a plain scalar the two read
    # differently, a key yaml-rs reads as no string.
    rf"[\n:,\[{{-](?<![^\s-]-)[ ]*(?=[-+.0-9~?:YyNnOoTtFf])"
    rf"(?:[?:](?: |$)|(?:{_BOOL_1_1}|(?!(?:{_SAFE_NUMBER}){_END}){_NUMBER_LIKE}){_END}"
    rf"|{_KEY_NOT_STRING})",
    re.MULTILINE,
)
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
"""An escaped UTF-16 surrogate (`"\\ud83d\\ude00"`): PyYAML keeps each half as a character
of its own, yaml-rs joins a pair into one (and refuses a lone half)."""
_NOT_READ = ("&", "*", "!", "\t", "\r", "\x85", "\u2028", "\u2029", "<<", "\n%", "\n...")
"""Anchors, aliases, tags, merge keys, directives, document end markers; line breaks
other than `\\n`, and tabs (where PyYAML and yaml-rs count lines or columns apart)."""


_SHALLOW_COLUMN = (MAX_DEPTH - 20) // 2
_DEEP_LINE = re.compile(rf"\n[ -]{{{_SHALLOW_COLUMN}}}")
"""A line whose content starts at column `_SHALLOW_COLUMN` or further."""


def _within_depth(text: str, documents: list[object]) -> bool:
    """Whether no document nests deeper than `MAX_DEPTH` levels.

    In block style each level but a sequence written at its key's column starts further
    right, so a node starting at column c is at most 2c + 2 levels deep, plus one level per
    flow collection opened before it. Text that this does not bound is measured.
    """
    opened = text.count("[") + text.count("{") - text.count("[]") - text.count("{}")
    if opened <= 10 and _DEEP_LINE.search("\n" + text) is None:
        return True
    return all(_depth(document) <= MAX_DEPTH for document in documents)


def _depth(data: object) -> int:
    """Levels of nesting of mappings and lists (0 for a scalar)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(data, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            depth += 1
            if depth > MAX_DEPTH:
                return depth
            deepest = max(deepest, depth)
            pending.extend((child, depth) for child in node)
    return deepest


def _readable(text: str, lines: list[str]) -> bool:
    """Whether yaml-rs reads `text` (split into `lines`) as PyYAML's safe loader does."""
    if any(mark in text for mark in _NOT_READ) or text.startswith(("%", "...")):
        return False
    if not printable(text):
        return False
    distinct = _distinct_lines(lines)
    return (
        _READ_APART.search(distinct) is None
        and _SURROGATE_ESCAPE.search(distinct) is None
        and _flows_read_alike(distinct)
    )


def _distinct_lines(lines: list[str]) -> str:
    """Each distinct line once, each after a line break.

    The searches of `_readable` match within one line (and the line break before it), so
    they find a match here exactly when they find one in the text; manifests repeat most of
    their lines (`kind: Deployment`, `- port: 8080`), and the search is then about three
    times faster.
    """
    return "\n" + "\n".join(dict.fromkeys(lines))


_FLOW_LINE = re.compile(r"^.*[\[\]{}].*$", re.MULTILINE)
_OPENS = {"]": "[", "}": "{"}
_NOT_IN_FLOW = frozenset("?|>~#%@`")
"""Outside quotes in a flow collection, PyYAML refuses or reads apart a scalar with these
(`[|x]`, `[x?y]`, `{?x: 1}`); `#` may also start a comment that hides brackets."""


def _flows_read_alike(distinct: str) -> bool:
    """Whether every flow collection ends on the line it starts on, and holds nothing the
    two read apart.

    yaml-rs reads a flow mapping key continued on the next line (`{a\\n b: 1}`, `{"a"\\n: 1}`),
    which PyYAML refuses (a key is on one line), so text whose flow collections may span
    lines goes the reference way; so does text with a flow scalar yaml-rs reads more
    liberally (`[|x]`, `[:x]`, `[x?y]`).
    """
    return all(_flow_line_reads_alike(match.group()) for match in _FLOW_LINE.finditer(distinct))


def _flow_line_reads_alike(line: str) -> bool:
    """Whether every flow collection opened on `line` surely closes on it and holds only
    scalars the two read alike.

    In flow context every bracket outside quotes is an indicator, so a collection closes on
    its line exactly when the brackets after it nest and close there. A quote starts a
    quoted scalar only where a scalar starts (the line's start, after `- `, `? `, `: `, and
    in flow after a bracket, `,` or `:`); brackets of a plain scalar in block context are
    counted too, which can only make a line look unclosed. Not vouched for: a comment sign,
    a quote left open, `:` right before a quote, a collection as a key (`{}: a`, which
    PyYAML reads as the string `{}`), and in flow any of `_NOT_IN_FLOW` or a scalar starting
    with `:`.
    """
    stack: list[str] = []
    scalar_starts = True
    position = 0
    while position < len(line):
        char = line[position]
        position += 1
        follows = line[position : position + 1]
        if char == " ":
            continue
        if char in "\"'" and scalar_starts:
            position = _quoted_end(line, position, char)
            if position < 0:
                return False
            scalar_starts = False
        elif char == "#" or (stack and char in _NOT_IN_FLOW):
            return False
        elif char in "[{":
            stack.append(char)
            scalar_starts = True
        elif char in _OPENS:
            if not stack or stack.pop() != _OPENS[char]:
                return False
            scalar_starts = False
        elif char == ":" and (stack or follows in ("", " ")):
            key_end = line[: position - 1].rstrip(" ")[-1:]
            if follows in ("'", '"') or (stack and scalar_starts) or key_end in _OPENS:
                return False
            scalar_starts = True
        else:
            scalar_starts = (char == "," and bool(stack)) or (
                char in "-?" and scalar_starts and follows in ("", " ")
            )
    return not stack


def _quoted_end(line: str, position: int, quote: str) -> int:
    """Where the quoted scalar opened just before `position` ends (past its closing quote),
    -1 when it does not end on the line."""
    while True:
        end = line.find(quote, position)
        if end < 0:
            return -1
        if quote == "'" and line[end + 1 : end + 2] == "'":
            position = end + 2  # '' is an escaped quote
        elif quote == '"' and (end - position - len(line[position:end].rstrip("\\"))) % 2:
            position = end + 1  # an escaped quote
        else:
            return end + 1


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


def fast_documents(
    text: str,
    reference: Callable[[str, int], Mapping[Path, int]],
    parsed: MutableMapping[str, object] | None = None,
) -> list[tuple[object, int, Mapping[Path, int]]] | None:
    """(data, index, positions) of each non-empty document, or None when the text must go
    the reference way. `reference(text, first_line)` gives the reference loader's positions
    of the one document in `text` (which starts at 0-based line `first_line` of the file).

    Each document is parsed on its own (as fast as the whole stream at once), so a document
    whose text is in `parsed` (data by document text, filled here) is not parsed again: the
    revisions of a diff share most documents of a file they both have but do not share.
    """
    lines = text.split("\n")
    if not _readable(text, lines):
        return None
    segments = _segments(lines)
    if segments is None:
        return None
    if any(_ends_with_a_block_scalar_header(lines, start, end) for start, end in segments):
        return None
    datas: list[object] = []
    for start, end in segments:
        # The document's text exactly as in the stream (with the line break before the next
        # `---`: a `|+` block scalar at its end keeps it).
        part = "\n".join(lines[start:end]) + ("\n" if end < len(lines) else "")
        if parsed is not None and part in parsed:
            datas.append(parsed[part])
            continue
        try:
            read: object = yaml_rs.loads(part, parse_datetime=False)
        except (yaml_rs.YAMLDecodeError, ValueError, TypeError, RecursionError):
            return None
        if parsed is not None:
            parsed[part] = read
        datas.append(read)
    if not _within_depth(text, datas):
        return None
    documents: list[tuple[object, int, Mapping[Path, int]]] = []
    for index, ((start, end), data) in enumerate(zip(segments, datas, strict=True)):
        if data is not None:
            documents.append((data, index, ScannedPositions(lines, start, end, data, reference)))
    return documents


def _segments(lines: list[str]) -> list[tuple[int, int]] | None:
    """The (first, past-last) 0-based lines of each document, as PyYAML counts documents
    (an implicit first one only when content comes before the first `---`); None when a
    document start line holds content."""
    starts = [i for i, line in enumerate(lines) if line.startswith("---")]
    for start in starts:
        rest = lines[start][3:].lstrip(" ")
        if rest and not rest.startswith("#"):
            return None
    bounds = [*starts, len(lines)]
    segments = [(bounds[i], bounds[i + 1]) for i in range(len(starts))]
    if not starts or _rows(lines, 0, starts[0], first_only=True):
        segments.insert(0, (0, bounds[0]))
    return segments


_BLOCK_SCALAR_HEADER = re.compile(r"(?:^|[ ])[|>][-+0-9]*(?:[ ]+#.*)?$")


def _ends_with_a_block_scalar_header(lines: list[str], start: int, end: int) -> bool:
    """Whether the document's last line of content may open a block scalar (`k: |`).

    Such a scalar is empty, or holds only blank lines and `#` lines; at the end of the
    document yaml-rs reads it as a line break, PyYAML as an empty string.
    """
    for number in range(end - 1, start - 1, -1):
        content = lines[number].strip(" ")
        if content and not content.startswith("#") and not lines[number].startswith("---"):
            return _BLOCK_SCALAR_HEADER.search(content) is not None
    return False


def _rows(lines: list[str], start: int, end: int, first_only: bool = False) -> list[_Row]:
    rows = []
    for number in range(start, end):
        line = lines[number]
        content = line.lstrip(" ")
        if content and not content.startswith("#") and not line.startswith("---"):
            rows.append(_Row(number + 1, len(line) - len(content), content.rstrip(" ")))
            if first_only:
                break
    return rows


class ScannedPositions(Mapping[Path, int]):
    """The line of a node by its path, read off the document's block structure; the
    reference loader's table where that reading is not certain, and for iteration."""

    def __init__(
        self,
        lines: list[str],
        start: int,
        end: int,
        data: object,
        reference: Callable[[str, int], Mapping[Path, int]],
    ) -> None:
        self._lines = lines
        self._start = start
        self._end = end
        self._data = data
        self._reference = reference
        self._rows: list[_Row] | None = None
        self._table: Mapping[Path, int] | None = None

    def _referenced(self) -> Mapping[Path, int]:
        if self._table is None:
            part = "\n".join(self._lines[self._start : self._end])
            self._table = self._reference(part, self._start)
        return self._table

    def __getitem__(self, path: Path) -> int:
        if self._table is not None:
            return self._table[path]
        if not path:
            # Most lookups are of a document's own line: its first row, the others unread.
            (first,) = _rows(self._lines, self._start, self._end, first_only=True)
            return first.line
        if self._rows is None:
            self._rows = _rows(self._lines, self._start, self._end)
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
