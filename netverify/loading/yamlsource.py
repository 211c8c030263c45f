"""YAML and JSON text to plain Python documents that remember the line of every node.

JSON that the json module reads exactly as PyYAML's safe loader does is read by it
(`jsonfast`), YAML that yaml-rs reads so by yaml-rs (`yamlfast`), lines found on demand.
Other text is composed into nodes by one of the loaders of `yamlloaders` (libyaml's where
safe), measured as if its aliases were expanded (`yamllimits`, so that an alias bomb or a
self-referencing alias is refused at once), then converted to plain data while recording
each node's line (`yamlconvert`).
"""

import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

import yaml

from netverify.loading.inputerrors import input_error, syntax_error, unprintable
from netverify.loading.jsonfast import json_document
from netverify.loading.yamlconvert import Converter, Path
from netverify.loading.yamlfast import fast_documents
from netverify.loading.yamllimits import MAX_DEPTH, check_expansion
from netverify.loading.yamlloaders import (
    FastLoader,
    NeedsPurePython,
    PureLoader,
    TooDeep,
    fast_path_is_safe,
)
from netverify.model import InputError


@dataclass(frozen=True)
class YamlDocument:
    """One document of an input file, as plain data, with the line of each node."""

    data: object
    file: str
    """The file as the user named it (`<stdin>` for standard input)."""
    index: int
    """0-based position of the document in its file, counting empty documents."""
    positions: Mapping[Path, int]
    """1-based line of each node by path; a mapping entry's line is that of its key."""

    def line_of(self, path: Path) -> int:
        """The line of the node at `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.positions.get(path[:end])
            if line is not None:
                return line
        return 1


def _without_json_tabs(text: str) -> str:
    """JSON may be indented with tabs, which YAML refuses outside strings.

    Valid JSON has no literal tab inside a string, so every tab in it is whitespace and a
    space in its place changes neither the data nor any line number.
    """
    if "\t" not in text:
        return text
    try:
        json.loads(text)
    except ValueError:
        return text
    return text.replace("\t", " ")


def parse_documents(
    text: str, file: str, parsed: MutableMapping[str, object] | None = None
) -> list[YamlDocument]:
    """The non-empty documents of a YAML (or JSON) stream, each with its node positions.

    The json module reads JSON that PyYAML reads alike, yaml-rs YAML it reads as the
    reference does, libyaml input it can read safely; anything else, and every input they
    find an error in, goes through the pure-Python loader, whose messages and limits are
    the reference. On the yaml-rs path a document whose text is in `parsed` (data by
    document text, filled as documents are parsed) is not parsed again.
    """
    read_as_json = json_document(text)
    if read_as_json is not None:
        data, positions = read_as_json
        return [YamlDocument(data, file, 0, positions)]
    prepared = _without_json_tabs(text)
    fast = fast_documents(prepared, lambda part, first: _positions(part, first, file), parsed)
    if fast is not None:
        return [YamlDocument(data, file, index, positions) for data, index, positions in fast]
    return _reference_documents(prepared, text, file)


def _positions(part: str, first_line: int, file: str) -> Mapping[Path, int]:
    """The reference loader's positions of the one document in `part`, which starts at
    0-based line `first_line` of its file."""
    (document,) = _reference_documents("\n" * first_line + part, "\n" * first_line + part, file)
    return document.positions


def _reference_documents(prepared: str, text: str, file: str) -> list[YamlDocument]:
    if fast_path_is_safe(prepared):
        try:
            return _documents(FastLoader, prepared, text, file)
        except (InputError, NeedsPurePython):
            pass
    return _documents(PureLoader, prepared, text, file)


def _documents(
    loader_class: type[PureLoader] | type[FastLoader], prepared: str, text: str, file: str
) -> list[YamlDocument]:
    try:
        # The reader refuses control characters as soon as it is given the text.
        loader = loader_class(prepared)
    except yaml.reader.ReaderError as exc:
        raise unprintable(exc, text, file) from None
    documents: list[YamlDocument] = []
    # Without an anchor there is no alias: every document is as big as its text.
    has_anchors = "&" in prepared
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                shared = has_anchors and check_expansion(node, file)
                if shared and loader_class is FastLoader:
                    raise NeedsPurePython

                converter = Converter(loader, file, shared)
                data = converter.convert(node, (), 0)
                if data is not None:
                    documents.append(YamlDocument(data, file, index, converter.positions))
            # Node ids are only unique while their document is alive.
            loader.alias_lines.clear()
            index += 1
    except TooDeep as exc:
        raise input_error(
            f"document nests deeper than {MAX_DEPTH} levels", file, exc.line
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(exc, file) from None
    except yaml.reader.ReaderError as exc:
        raise unprintable(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise input_error(f"invalid YAML: {exc}", file) from None
    finally:
        loader.dispose()
    return documents
