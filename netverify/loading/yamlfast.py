"""The fast path of the YAML reader: yaml-rs (a Rust parser, about five times faster than
libyaml through PyYAML) for the text it reads exactly as the reference loader does
(`yamlalike`), each document on its own, lines found on demand (`yamllines`).

Any other text, and any text yaml-rs refuses, goes the reference way, whose messages are
the reference too.
"""

from collections.abc import Callable, Iterator, Mapping, MutableMapping

import yaml_rs

from netverify.loading.yamlalike import readable, within_depth
from netverify.loading.yamlconvert import Path
from netverify.loading.yamllines import ScannedPositions, first_content_line


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
    if not readable(text):
        return None
    segments = _segments(text)
    if segments is None:
        return None
    datas: list[object] = []
    for start, end, _ in segments:
        # The document's text exactly as in the stream (with the line break before the next
        # `---`: a `|+` block scalar at its end keeps it).
        part = text[start:end]
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
    if not within_depth(text, datas):
        return None
    return [
        (data, index, ScannedPositions(text, start, end, first_line, data, reference))
        for index, ((start, end, first_line), data) in enumerate(zip(segments, datas, strict=True))
        if data is not None
    ]


def _segments(text: str) -> list[tuple[int, int, int]] | None:
    """(start, end, 0-based first line) of each document in `text`, as PyYAML counts
    documents (an implicit first one only when content comes before the first `---`); None
    when a line starting with `---` holds more than a document start and a comment."""
    starts: list[int] = []
    for start in _dash_lines(text):
        line_end = text.find("\n", start)
        rest = text[start + 3 : len(text) if line_end < 0 else line_end]
        comment = rest.lstrip(" ")
        if rest and (rest[0] != " " or (comment and not comment.startswith("#"))):
            return None
        starts.append(start)
    if not starts or first_content_line(text, 0, starts[0], 0) is not None:
        starts.insert(0, 0)
    segments = []
    first_line = text.count("\n", 0, starts[0])
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        segments.append((start, end, first_line))
        first_line += text.count("\n", start, end)
    return segments


def _dash_lines(text: str) -> Iterator[int]:
    """Where each line that starts with `---` starts. Found with `str.find`: a multi-line
    `^---` regular expression tries every line (~50 ms on the 10,000-pod tier's files, this
    a few)."""
    if text.startswith("---"):
        yield 0
    found = text.find("\n---")
    while found >= 0:
        yield found + 1
        found = text.find("\n---", found + 1)
