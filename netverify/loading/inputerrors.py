"""Refused input in words a user can act on, at the file and line where it is refused."""

import yaml

from netverify.model import Diagnostic, InputError, Severity, SourceSpan


def input_error(message: str, file: str | None = None, line: int = 1) -> InputError:
    span = SourceSpan(file=file, line=line) if file is not None else None
    return InputError([Diagnostic(severity=Severity.ERROR, message=message, span=span)])


def unprintable(exc: yaml.reader.ReaderError, text: str, file: str) -> InputError:
    """A character YAML does not allow anywhere in a stream, at its line."""
    line = text[: exc.position].count("\n") + 1
    what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
    return input_error(
        f"invalid YAML: character {what} is not allowed (a control character or a non-character)",
        file,
        line,
    )


def syntax_error(exc: yaml.MarkedYAMLError, file: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    language = "JSON" if file.endswith(".json") else "YAML"
    message = f"invalid {language}: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context:
        where = f" started at line {exc.context_mark.line + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    return input_error(message, file, line)
