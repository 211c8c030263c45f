"""Which YAML text yaml-rs reads exactly as the reference loader (PyYAML's safe loader, as
sigs.k8s.io/yaml) does.

yaml-rs reads YAML 1.2, the reference YAML 1.1. The text both read alike has no anchors,
aliases, tags, merge keys, directives or complex keys; no plain scalar that either reads as
something other than what the other reads (`yes`, `010`, `0o10`, `1e3`, `1_000`, a numeric
or boolean key, ...), no escaped UTF-16 surrogate, no flow collection over several lines or
with a scalar yaml-rs reads more liberally (`[|x]`), no empty block scalar ending a
document, no nesting deeper than `MAX_DEPTH`; it is printable, with `\\n` line breaks only.
"""

import re

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
SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
"""An escaped UTF-16 surrogate (`"\\ud83d\\ude00"`): PyYAML keeps each half as a character
of its own, yaml-rs joins a pair into one (and refuses a lone half)."""
_NOT_READ = ("&", "*", "!", "\t", "\r", "\x85", "\u2028", "\u2029", "<<", "\n%", "\n...")
"""Anchors, aliases, tags, merge keys, directives, document end markers; line breaks
other than `\\n`, and tabs (where PyYAML and yaml-rs count lines or columns apart)."""


_SHALLOW_COLUMN = (MAX_DEPTH - 20) // 2
_DEEP_LINE = re.compile(rf"\n[ -]{{{_SHALLOW_COLUMN}}}")
"""A line whose content starts at column `_SHALLOW_COLUMN` or further."""


def within_depth(text: str, documents: list[object]) -> bool:
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
    """Levels of nodes, the root's the first (as the reference loader counts them: a
    scalar in a list at level 200 is at level 201)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        node, level = pending.pop()
        if level > MAX_DEPTH:
            return level
        deepest = max(deepest, level)
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            pending.extend((child, level + 1) for child in node)
    return deepest


def readable(text: str) -> bool:
    """Whether yaml-rs reads `text` as PyYAML's safe loader does."""
    if any(mark in text for mark in _NOT_READ) or text.startswith(("%", "...")):
        return False
    if not printable(text) or _empty_block_scalar_at_the_end(text):
        return False
    distinct = _distinct_lines(text.split("\n"))
    return (
        _READ_APART.search(distinct) is None
        and SURROGATE_ESCAPE.search(distinct) is None
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


_BRACKET = re.compile(r"[\[\]{}]")
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
    line_end = -1
    for bracket in _BRACKET.finditer(distinct):
        if bracket.start() < line_end:
            continue  # a bracket of a line already read
        line_start = distinct.rfind("\n", 0, bracket.start()) + 1
        line_end = distinct.find("\n", bracket.start())
        if line_end < 0:
            line_end = len(distinct)
        if not _flow_line_reads_alike(distinct[line_start:line_end]):
            return False
    return True


def _flow_line_reads_alike(line: str) -> bool:
    """Whether every flow collection opened on `line` surely closes on it and holds only
    scalars the two read alike.

    In flow context every bracket outside quotes is an indicator, so a collection closes on
    its line exactly when the brackets after it nest and close there. A quote starts a
    quoted scalar only where a scalar starts (the line's start, after `- `, `? `, `: `, and
    in flow after a bracket, `,` or `:`); brackets of a plain scalar in block context are
    counted too, which can only make a line look unclosed. A comment (`#` at the line's start
    or after a space, outside quotes) ends what is read, and a collection still open there
    spans lines. Not vouched for: a quote left open, `:` right before a quote, a collection
    as a key (`{}: a`, which PyYAML reads as the string `{}`), and in flow any of
    `_NOT_IN_FLOW` or a scalar starting with `:`.
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
        elif char == "#" and line[position - 2 : position - 1] in ("", " "):
            return not stack  # a comment: the rest of the line holds no flow collection
        elif stack and char in _NOT_IN_FLOW:
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


_EMPTY_BLOCK_SCALAR_AT_THE_END = re.compile(
    r"[|>][-+0-9]*(?:[ ]+#[^\n]*)?[ ]*(?:\n[ ]*(?:#[^\n]*)?)*(?:\n---|\Z)"
)


def _empty_block_scalar_at_the_end(text: str) -> bool:
    """Whether a line of `text` ends with what may open a block scalar (`k: |`), and after
    it only blank lines and `#` lines come up to the end of its document: that scalar is
    empty, or holds only those lines; yaml-rs reads it as a line break, PyYAML as ""."""
    if "|" not in text and ">" not in text:
        return False
    return any(
        found.start() == 0 or text[found.start() - 1] in " \n"
        for found in _EMPTY_BLOCK_SCALAR_AT_THE_END.finditer(text)
    )
