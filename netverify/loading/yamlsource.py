"""Input files to plain Python documents that remember the line of every node.

YAML is composed into nodes with PyYAML's safe loader (so no tag ever constructs an object),
then converted to dict/list/str/int/float/bool/None while recording each node's line in a
side table keyed by its path. Before conversion, the composed graph is measured as if its
aliases were expanded, so that an alias bomb or a self-referencing alias is refused at once;
nesting depth is also bounded while composing, so a hostile document fails with an
`InputError` rather than a `RecursionError`.
"""

import errno
import json
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

import yaml

from netverify.model import Diagnostic, InputError, Severity, SourceSpan

Path = tuple[str | int, ...]

MAX_NODES = 1_000_000
"""Nodes a document may expand to, counting every expansion of every alias (as consumers that
walk the data would)."""
MAX_DEPTH = 200
"""How deeply mappings and lists may nest; Kubernetes objects need a few dozen at most."""

MAX_FILE_BYTES = 50 * 1024 * 1024
"""The largest input file read, in bytes, unless `NETVERIFY_MAX_FILE_BYTES` says otherwise."""
MAX_FILE_BYTES_VARIABLE = "NETVERIFY_MAX_FILE_BYTES"

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_WIDE_ENCODINGS = (
    ("UTF-32", (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")),
    ("UTF-16", (b"\xff\xfe", b"\xfe\xff")),
)
"""Byte order marks of the encodings Windows tools write, longest first."""


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


def _error(message: str, file: str | None = None, line: int = 1) -> InputError:
    span = SourceSpan(file=file, line=line) if file is not None else None
    return InputError([Diagnostic(severity=Severity.ERROR, message=message, span=span)])


def collect_files(paths: Sequence[str]) -> list[str]:
    """The files to load: files as given, directories searched recursively, `-` for stdin.

    Inside a directory only `.yaml`, `.yml` and `.json` files are taken, ordered by their
    relative path so that the result does not depend on the file system; symbolic links to
    directories are followed, and one that leads back to a directory being searched is an
    error. Every missing path, broken link and unreadable directory is reported, in one
    `InputError`.
    """
    files: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path == STDIN or os.path.isfile(path):
            files.append(path)
        elif os.path.isdir(path):
            files.extend(_files_under(path, problems))
        else:
            problems.append(_missing(path))
    if problems:
        raise InputError(problems)
    return files


def _missing(path: str) -> Diagnostic:
    """Why `path` names neither a file nor a directory."""
    message = f"{path}: no such file or directory"
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                message = f"{path}: symbolic link loop (too many levels of symbolic links)"
            else:
                message = f"{path}: broken symbolic link to {os.readlink(path)}"
        else:
            message = f"{path}: not a regular file or directory"
    elif os.path.exists(path):
        message = f"{path}: not a regular file or directory"
    return Diagnostic(severity=Severity.ERROR, message=message)


def _files_under(directory: str, problems: list[Diagnostic]) -> list[str]:
    found: list[str] = []
    ancestors: dict[str, str] = {}
    """The directories being searched: the path as named, by real path."""

    def visit(folder: str) -> None:
        real = os.path.realpath(folder)
        if real in ancestors:
            problems.append(
                Diagnostic(
                    severity=Severity.ERROR,
                    message=f"{folder}: symbolic link loop (leads back to {ancestors[real]})",
                )
            )
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            problems.append(
                Diagnostic(
                    severity=Severity.ERROR,
                    message=f"{folder}: cannot read directory: {exc.strerror or exc}",
                )
            )
            return
        ancestors[real] = folder
        for entry in entries:
            path = os.path.join(folder, entry.name)
            if _is_directory(entry):
                visit(path)
            elif entry.name.endswith(MANIFEST_SUFFIXES):
                found.append(path)
        del ancestors[real]

    visit(directory.rstrip(os.sep) or os.sep)
    return found


def _is_directory(entry: os.DirEntry[str]) -> bool:
    """Whether `entry` is a directory, following symbolic links; a broken link is not."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def display_name(path: str) -> str:
    """How a path appears in messages and source spans."""
    return STDIN_NAME if path == STDIN else path


def max_file_bytes() -> int:
    """The size limit of one input file: `NETVERIFY_MAX_FILE_BYTES`, else `MAX_FILE_BYTES`."""
    setting = os.environ.get(MAX_FILE_BYTES_VARIABLE, "").strip()
    if not setting:
        return MAX_FILE_BYTES
    if not setting.isdigit() or int(setting) < 1:
        raise _error(
            f"{MAX_FILE_BYTES_VARIABLE} must be a positive number of bytes, got {setting!r}"
        )
    return int(setting)


def _too_large(name: str, size: int, limit: int) -> InputError:
    return _error(
        f"{name}: file too large ({size} bytes; the limit is {limit} bytes, "
        f"set {MAX_FILE_BYTES_VARIABLE} to change it)"
    )


def read_text(path: str, stdin: TextIO | None = None) -> str:
    """The text of a file (or of stdin for `-`); binary, non-UTF-8, unreadable input fails,
    and so does a file larger than `max_file_bytes()`, before it is read."""
    name = display_name(path)
    limit = max_file_bytes()
    try:
        if path == STDIN:
            text = (stdin if stdin is not None else sys.stdin).read(limit + 1)
            if len(text) > limit:
                raise _error(
                    f"{name}: input too large (more than {limit} characters; "
                    f"set {MAX_FILE_BYTES_VARIABLE} to change the limit)"
                )
        else:
            with open(path, "rb") as handle:
                status = os.fstat(handle.fileno())
                if stat.S_ISREG(status.st_mode) and status.st_size > limit:
                    raise _too_large(name, status.st_size, limit)
                raw = handle.read(limit + 1)
            if len(raw) > limit:
                raise _error(
                    f"{name}: file too large (more than {limit} bytes; "
                    f"set {MAX_FILE_BYTES_VARIABLE} to change the limit)"
                )
            for encoding, marks in _WIDE_ENCODINGS:
                if raw.startswith(marks):
                    raise _error(f"{name}: {encoding} text, expected UTF-8 (re-encode it as UTF-8)")
            if b"\0" in raw:
                raise _error(f"{name}: binary file (contains a NUL byte), expected YAML or JSON")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                raise _error(
                    f"{name}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line})"
                ) from None
    except UnicodeDecodeError as exc:
        raise _error(f"{name}: not UTF-8 text ({exc.reason})") from None
    except IsADirectoryError:
        raise _error(f"{name}: is a directory, expected a file") from None
    except OSError as exc:
        if os.path.islink(path) and not os.path.exists(path):
            raise InputError([_missing(path)]) from None
        raise _error(f"{name}: cannot read: {exc.strerror or exc}") from None
    if "\0" in text:
        raise _error(f"{name}: binary input (contains a NUL character), expected YAML or JSON")
    return text.removeprefix("\ufeff")


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing to compose nodes nested more than `MAX_DEPTH` deep."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.alias_lines: dict[tuple[int, int], int] = {}
        """Line of each alias written as a list item, by (id of the list node, index)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _TooDeep(event.start_mark.line + 1)
            if parent is not None and isinstance(index, int) and self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                self.alias_lines[(id(parent), index)] = event.start_mark.line + 1
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_CSafeLoader: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


class _FastLoader(_CSafeLoader or yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser and composer, several times faster than the pure-Python loader.

    It cannot refuse deep nesting while composing (its composer recurses in C, where
    nothing bounds the stack), so `_fast_path_is_safe` vets the text first; and it does not
    note where aliases in lists are written, so those fall back to their list's line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_lines: dict[tuple[int, int], int] = {}
        self._tags: dict[tuple[type[yaml.Node], str | None, tuple[bool, bool]], str] = {}

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        """The safe loader's tag for a node, remembered: manifests repeat the same keys and
        values thousands of times, and each fresh answer tries a list of regular expressions.
        (The answer depends on nothing else: the safe loader has no path resolvers.)"""
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


class _NeedsPurePython(Exception):
    """The document uses aliases, whose positions only the pure-Python loader records."""


def _fast_path_is_safe(text: str) -> bool:
    """Whether libyaml may compose the text.

    Its composer recurses in C, where nothing but libyaml's own nesting limit (1000 levels,
    since 0.2.5) bounds the stack; older builds are not used. Text the pure-Python reader
    would refuse (control characters) goes the pure-Python way for its message.
    """
    return _CSafeLoader is not None and _libyaml_version() >= (0, 2, 5) and _printable(text)


_PRINTABLE_ASCII = b"\t\n\r" + bytes(range(0x20, 0x7F))


def _printable(text: str) -> bool:
    """No character the YAML reader refuses (its `NON_PRINTABLE`); plain ASCII, the usual
    case, is checked byte-wise, several times faster than the reader's pattern."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return not yaml.reader.Reader.NON_PRINTABLE.search(text)


def _libyaml_version() -> tuple[int, ...]:
    try:
        from yaml import _yaml
    except ImportError:
        return (0,)
    return tuple(_yaml.get_version())


class _Converter:
    """Turns one composed document into plain data, recording the line of each node.

    A node reached again through an alias is converted once and shared, and gets no positions
    under the alias's path beyond the line where the alias is written, which `line_of` falls
    back to. The caller has already refused documents that expand too much or nest too deep,
    and says whether any node is shared (without, no node is reached twice and none needs
    remembering).
    """

    def __init__(self, loader: "_Loader | _FastLoader", file: str, shared: bool) -> None:
        self._alias_lines = loader.alias_lines
        self._construct_bool = loader.construct_yaml_bool
        self._construct_int = loader.construct_yaml_int
        self._construct_float = loader.construct_yaml_float
        self._file = file
        self._converted: dict[int, object] | None = {} if shared else None
        self.positions: dict[Path, int] = {}

    def convert(self, node: yaml.Node, path: Path, depth: int) -> object:
        converted = self._converted
        if converted is not None and id(node) in converted:
            return converted[id(node)]
        if depth >= MAX_DEPTH:  # depth 0 is the first level
            line = node.start_mark.line + 1
            raise _error(f"document nests deeper than {MAX_DEPTH} levels", self._file, line)
        self.positions.setdefault(path, node.start_mark.line + 1)
        value: object
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            if self._alias_lines:
                for index in range(len(node.value)):
                    alias_line = self._alias_lines.get((id(node), index))
                    if alias_line is not None:
                        self.positions.setdefault((*path, index), alias_line)
            value = [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        else:
            assert isinstance(node, yaml.MappingNode)
            value = self._mapping(node, path, depth)
        if converted is not None:
            converted[id(node)] = value
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, object]:
        result: dict[str, object] = {}
        merges: list[yaml.Node] = []
        positions = self.positions
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node, path, depth)
            key_path = (*path, key)
            key_line = key_node.start_mark.line + 1
            if key in result:
                raise _error(
                    f'duplicate key "{key}" (first written at line {positions[key_path]})',
                    self._file,
                    key_line,
                )
            positions.setdefault(key_path, key_line)
            result[key] = self.convert(value_node, key_path, depth + 1)
        # `<<: *base` (or a list of them): explicit keys win, then earlier sources.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                merged = self.convert(source, path, depth)
                if not isinstance(merged, dict):
                    raise _error(
                        "a merge key (<<) must refer to a mapping or a list of mappings",
                        self._file,
                        source.start_mark.line + 1,
                    )
                for key, value in merged.items():
                    result.setdefault(key, value)
        return result

    def _key(self, node: yaml.Node, path: Path, depth: int) -> str:
        # NOTE: a scalar key is kept as written (`80: x` gives "80", `on: x` gives "on").
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        return str(self.convert(node, (*path, "<key>"), depth + 1))

    def _scalar(self, node: yaml.ScalarNode) -> object:
        """Null, booleans and numbers as the safe loader resolves them; anything else a string."""
        tag = node.tag
        if tag == _STR_TAG:
            return str(node.value)
        try:
            match tag:
                case "tag:yaml.org,2002:null":
                    return None
                case "tag:yaml.org,2002:bool":
                    return self._construct_bool(node)
                case "tag:yaml.org,2002:int":
                    return self._construct_int(node)
                case "tag:yaml.org,2002:float":
                    return self._construct_float(node)
        except (ValueError, yaml.YAMLError):
            pass
        return str(node.value)


def _check_expansion(root: yaml.Node, file: str) -> bool:
    """Refuse a document whose aliases expand it too much or nest it too deep.

    Size and height are computed over the graph of shared nodes, each distinct node once, so
    a document of a few kilobytes that would expand to billions of nodes (an alias bomb) is
    refused at once, as is an alias that refers to its own ancestor. Returns whether any
    node is shared (the document uses aliases).
    """
    measured: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()
    shared: list[yaml.Node] = []

    def refuse(message: str, node: yaml.Node) -> InputError:
        return _error(message, file, node.start_mark.line + 1)

    def measure(node: yaml.Node) -> tuple[int, int]:
        """(nodes once expanded, levels of nesting) of the subtree at `node`."""
        known = measured.get(id(node))
        if known is not None:
            shared.append(node)
            return known
        if id(node) in in_progress:
            raise refuse(f"document nests deeper than {MAX_DEPTH} levels", node)
        in_progress.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        size, height = 1, 0
        for child in children:
            child_size, child_height = measure(child)
            size += child_size
            height = max(height, child_height + 1)
        in_progress.discard(id(node))
        if size > MAX_NODES:
            raise refuse(
                f"document expands to more than {MAX_NODES} nodes (YAML alias bomb?)", node
            )
        if height > MAX_DEPTH:
            raise refuse(f"document nests deeper than {MAX_DEPTH} levels", node)
        measured[id(node)] = (size, height)
        return size, height

    measure(root)
    return bool(shared)


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


def parse_documents(text: str, file: str) -> list[YamlDocument]:
    """The non-empty documents of a YAML (or JSON) stream, each with its node positions.

    libyaml reads input it can read safely; anything else, and every input it finds an error
    in, goes through the pure-Python loader, whose messages and limits are the reference.
    """
    prepared = _without_json_tabs(text)
    if _fast_path_is_safe(prepared):
        try:
            return _documents(_FastLoader, prepared, text, file)
        except (InputError, _NeedsPurePython):
            pass
    return _documents(_Loader, prepared, text, file)


def _documents(
    loader_class: "type[_Loader] | type[_FastLoader]", prepared: str, text: str, file: str
) -> list[YamlDocument]:
    try:
        # The reader refuses control characters as soon as it is given the text.
        loader = loader_class(prepared)
    except yaml.reader.ReaderError as exc:
        raise _unprintable(exc, text, file) from None
    documents: list[YamlDocument] = []
    # Without an anchor there is no alias: every document is as big as its text.
    has_anchors = "&" in prepared
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                shared = has_anchors and _check_expansion(node, file)
                if shared and loader_class is _FastLoader:
                    raise _NeedsPurePython

                converter = _Converter(loader, file, shared)
                data = converter.convert(node, (), 0)
                if data is not None:
                    documents.append(YamlDocument(data, file, index, converter.positions))
            # Node ids are only unique while their document is alive.
            loader.alias_lines.clear()
            index += 1
    except _TooDeep as exc:
        raise _error(f"document nests deeper than {MAX_DEPTH} levels", file, exc.line) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.reader.ReaderError as exc:
        raise _unprintable(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise _error(f"invalid YAML: {exc}", file) from None
    finally:
        loader.dispose()
    return documents


def _unprintable(exc: yaml.reader.ReaderError, text: str, file: str) -> InputError:
    """A character YAML does not allow anywhere in a stream, at its line."""
    line = text[: exc.position].count("\n") + 1
    what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
    return _error(
        f"invalid YAML: character {what} is not allowed (a control character or a non-character)",
        file,
        line,
    )


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    language = "JSON" if file.endswith(".json") else "YAML"
    message = f"invalid {language}: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context:
        where = f" started at line {exc.context_mark.line + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    return _error(message, file, line)
