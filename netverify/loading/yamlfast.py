"""The fast path of the YAML reader: yaml-rs (a Rust parser, about five times faster than
libyaml through PyYAML) for the text it reads exactly as the reference loader does
(`yamlalike`), each document on its own, lines found on demand (`yamllines`).

Any other text, and any text yaml-rs refuses, goes the reference way, whose messages are
the reference too.
"""

from collections.abc import Callable, Mapping, MutableMapping

import yaml_rs

from netverify.loading.yamlalike import ends_with_a_block_scalar_header, readable, within_depth
from netverify.loading.yamlconvert import Path
from netverify.loading.yamllines import ScannedPositions, content_rows


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
    if not readable(text, lines):
        return None
    segments = _segments(lines)
    if segments is None:
        return None
    if any(ends_with_a_block_scalar_header(lines, start, end) for start, end in segments):
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
    if not within_depth(text, datas):
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
    if not starts or content_rows(lines, 0, starts[0], first_only=True):
        segments.insert(0, (0, bounds[0]))
    return segments
