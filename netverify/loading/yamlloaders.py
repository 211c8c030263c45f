"""The two YAML loaders: libyaml's, fast, where it is safe, and the pure-Python one, whose
messages and limits are the reference.

Both are PyYAML's safe loader (no tag ever constructs an object). The pure-Python loader
bounds nesting while it composes (so a hostile document fails with an `InputError` rather
than a `RecursionError`) and notes where aliases in lists are written.
"""

import yaml

from netverify.loading.yamllimits import MAX_DEPTH


class TooDeep(Exception):
    """Composing went deeper than `MAX_DEPTH` levels, at `line`."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class PureLoader(yaml.SafeLoader):
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
                raise TooDeep(event.start_mark.line + 1)
            if parent is not None and isinstance(index, int) and self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                self.alias_lines[(id(parent), index)] = event.start_mark.line + 1
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


CSafeLoader: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


class FastLoader(CSafeLoader or yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser and composer, several times faster than the pure-Python loader.

    It cannot refuse deep nesting while composing (its composer recurses in C, where
    nothing bounds the stack), so `fast_path_is_safe` vets the text first; and it does not
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


class NeedsPurePython(Exception):
    """The document uses aliases, whose positions only the pure-Python loader records."""


def fast_path_is_safe(text: str) -> bool:
    """Whether libyaml may compose the text.

    Its composer recurses in C, where nothing but libyaml's own nesting limit (1000 levels,
    since 0.2.5) bounds the stack; older builds are not used. Text the pure-Python reader
    would refuse (control characters) goes the pure-Python way for its message.
    """
    return CSafeLoader is not None and _libyaml_version() >= (0, 2, 5) and printable(text)


_PRINTABLE_ASCII = b"\t\n\r" + bytes(range(0x20, 0x7F))


def printable(text: str) -> bool:
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
