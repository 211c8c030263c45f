"""Input files: which files the paths on a command line name, and their text.

Directories are searched recursively for manifests; a file's text must be UTF-8 and no larger
than `max_file_bytes()`, which is checked before the file is read.
"""

import errno
import os
import stat
import sys
from collections.abc import Sequence
from typing import TextIO

from netverify.loading.inputerrors import input_error
from netverify.model import Diagnostic, InputError, Severity

MAX_FILE_BYTES = 50 * 1024 * 1024
"""The largest input file read, in bytes, unless `NETVERIFY_MAX_FILE_BYTES` says otherwise."""
MAX_FILE_BYTES_VARIABLE = "NETVERIFY_MAX_FILE_BYTES"

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"
_WIDE_ENCODINGS = (
    ("UTF-32", (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")),
    ("UTF-16", (b"\xff\xfe", b"\xfe\xff")),
)
"""Byte order marks of the encodings Windows tools write, longest first."""


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
        raise input_error(
            f"{MAX_FILE_BYTES_VARIABLE} must be a positive number of bytes, got {setting!r}"
        )
    return int(setting)


def _too_large(name: str, size: int, limit: int) -> InputError:
    return input_error(
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
                raise input_error(
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
                raise input_error(
                    f"{name}: file too large (more than {limit} bytes; "
                    f"set {MAX_FILE_BYTES_VARIABLE} to change the limit)"
                )
            for encoding, marks in _WIDE_ENCODINGS:
                if raw.startswith(marks):
                    raise input_error(
                        f"{name}: {encoding} text, expected UTF-8 (re-encode it as UTF-8)"
                    )
            if b"\0" in raw:
                raise input_error(
                    f"{name}: binary file (contains a NUL byte), expected YAML or JSON"
                )
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                raise input_error(
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}; re-encode the file as UTF-8)",
                    name,
                    line,
                ) from None
    except UnicodeDecodeError as exc:
        raise input_error(f"{name}: not UTF-8 text ({exc.reason})") from None
    except IsADirectoryError:
        raise input_error(f"{name}: is a directory, expected a file") from None
    except OSError as exc:
        if os.path.islink(path) and not os.path.exists(path):
            raise InputError([_missing(path)]) from None
        raise input_error(f"{name}: cannot read: {exc.strerror or exc}") from None
    if "\0" in text:
        raise input_error(f"{name}: binary input (contains a NUL character), expected YAML or JSON")
    return text.removeprefix("\ufeff")
