"""Typed access to the raw fields of one Kubernetes object, reporting every problem found.

This is the only place that turns a raw value of the wrong type into a message: each
accessor returns the value when it has the expected type, and otherwise records an error at
the field's position and returns None, so that reading carries on and every error of every
object is reported at once.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from netverify.loading.validation import did_you_mean
from netverify.loading.yamlconvert import Path
from netverify.loading.yamlsource import YamlDocument
from netverify.model import Diagnostic, Severity, SourceSpan

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHOWN_CHARS = 40


def format_field(path: Path) -> str | None:
    """A field path as kubectl writes it: `spec.ingress[0].from[1]`, odd keys in `["..."]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text or None


def describe(value: object) -> str:
    """A value's YAML type, with the value itself when it is short, for "got ..." messages."""
    match value:
        case None:
            return "null"
        case bool():
            return f"a boolean ({'true' if value else 'false'})"
        case int():
            return f"an integer ({value})"
        case float():
            return f"a number ({value})"
        case str():
            shown = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "..."
            return f"a string ({json.dumps(shown, ensure_ascii=False)})"
        case list():
            return "a list"
        case dict():
            return "a mapping"
    return type(value).__name__


@dataclass
class Diagnostics:
    """Errors and warnings of a whole load; `strict` turns unknown fields into errors."""

    strict: bool = False
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class ObjectFields:
    """One object of a document: where it starts (`root`) and what to call it in messages."""

    document: YamlDocument
    root: Path
    sink: Diagnostics
    name: str | None = None
    """How diagnostics name the object, e.g. `NetworkPolicy ns/name`."""
    failed: bool = False
    """Whether any error was reported for this object (its model object must not be built)."""

    def span(self, path: Path = ()) -> SourceSpan:
        """The file and line of the field at `path` (relative to the object)."""
        return SourceSpan(file=self.document.file, line=self.document.line_of(self.root + path))

    def _diagnostic(self, severity: Severity, path: Path, message: str) -> Diagnostic:
        return Diagnostic(
            severity=severity,
            message=message,
            span=self.span(path),
            object=self.name,
            field=format_field(path),
        )

    def error(self, path: Path, message: str) -> None:
        """Report an error at `path`; the object is then not loaded."""
        self.failed = True
        self.sink.errors.append(self._diagnostic(Severity.ERROR, path, message))

    def warn(self, path: Path, message: str) -> None:
        """Report a warning at `path`; loading goes on."""
        self.sink.warnings.append(self._diagnostic(Severity.WARNING, path, message))

    def warn_or_fail(self, path: Path, message: str) -> None:
        """A warning, or an error under `strict`."""
        if self.sink.strict:
            self.error(path, message)
        else:
            self.warn(path, message)

    def check_fields(self, mapping: dict[str, object], path: Path, known: Iterable[str]) -> None:
        """Report fields the schema does not have, like kubectl's strict field validation."""
        allowed = tuple(known)
        for key in mapping:
            if key not in allowed:
                message = f'unknown field "{key}"{did_you_mean(key, allowed)}'
                self.warn_or_fail((*path, key), message)

    def expected(self, path: Path, what: str, value: object) -> None:
        """Report a value of the wrong type."""
        self.error(path, f"expected {what}, got {describe(value)}")

    def mapping(self, value: object, path: Path) -> dict[str, object] | None:
        """`value` if it is a mapping, else None after an error."""
        if isinstance(value, dict):
            return value
        self.expected(path, "a mapping", value)
        return None

    def sequence(self, value: object, path: Path) -> list[object] | None:
        """`value` if it is a list, else None after an error."""
        if isinstance(value, list):
            return value
        self.expected(path, "a list", value)
        return None

    def string(self, value: object, path: Path) -> str | None:
        """`value` if it is a string, else None after an error."""
        if isinstance(value, str):
            return value
        self.expected(path, "a string", value)
        return None

    def integer(self, value: object, path: Path) -> int | None:
        """`value` if it is an integer (not a boolean), else None after an error."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.expected(path, "an integer", value)
        return None

    def boolean(self, value: object, path: Path) -> bool | None:
        """`value` if it is a boolean, else None after an error."""
        if isinstance(value, bool):
            return value
        self.expected(path, "a boolean", value)
        return None

    def one_of(
        self, mapping: dict[str, object], path: Path, choices: tuple[str, ...]
    ) -> str | None:
        """The one key of `choices` that `mapping` sets (a union: MinProperties=1,
        MaxProperties=1), or None after an error."""
        self.check_fields(mapping, path, choices)
        given = [key for key in choices if mapping.get(key) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            # The field set in the wrong place (an ingress peer's `networks`), which the
            # unknown-field warning names only where loading goes on.
            others = [key for key in mapping if key not in choices]
            if not given and others:
                found += f"; not allowed here: {', '.join(others)}"
            self.error(path, f"must set exactly one of {', '.join(choices)} (set: {found})")
            return None
        return given[0]

    def check_count(self, items: list[object], path: Path, most: int) -> None:
        """A list field's MinItems=1 and MaxItems=`most`."""
        if not items:
            self.error(path, "must have at least 1 item")
        elif len(items) > most:
            self.error(path, f"must have at most {most} items (has {len(items)})")

    def required(self, mapping: dict[str, object], path: Path, key: str) -> object:
        """`mapping[key]`, reporting it as missing when it is absent or null."""
        value = mapping.get(key)
        if value is None:
            self.error((*path, key), f'missing required field "{key}"')
        return value
