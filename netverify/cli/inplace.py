"""`fix --apply`: the proved patches written into the manifest files, every file or none.

Each file's new text is first written beside it to a temporary file; only when all are
written are they renamed into place, and a rename that fails puts back the files already
renamed. A file that changed since `fix` read it is not overwritten: the proof was about
the text that was read.
"""

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from netverify.model import Diagnostic, InputError, Severity
from netverify.model.fix import FilePatch, FixReport


class NotApplied(Exception):
    """The fixes cannot all be applied as proved; nothing was written. The message says
    why and what to do instead."""


def patches_to_apply(reports: Sequence[FixReport]) -> tuple[FilePatch, ...]:
    """Every spec's patches, when each was proved safe together and no two specs change one
    file differently; else NotApplied (nothing is applied unless everything is)."""
    by_path: dict[str, FilePatch] = {}
    for report in reports:
        if any(entry.fixes for entry in report.invariants) and not report.patches:
            raise NotApplied(
                f"{report.spec_file}: the proved fixes have no manifest file to go to "
                "(objects read from a cluster or a JSON file); the text output shows them"
            )
        if report.patches and not report.together_safe:
            raise NotApplied(
                f"{report.spec_file}: the fixes together were not proved to keep every "
                "invariant that held; review `--format patch` and apply the fixes one by one"
            )
        for patch in report.patches:
            other = by_path.setdefault(patch.path, patch)
            if other.patched != patch.patched:
                raise NotApplied(
                    f"{patch.path}: two specs change this file differently; "
                    "run `fix --apply` on one spec at a time"
                )
    return tuple(by_path[path] for path in sorted(by_path))


def write_in_place(patches: Sequence[FilePatch]) -> None:
    """Write each patch's text to its file, all or none; InputError (nothing written) when a
    file changed since it was read or cannot be written."""
    for patch in patches:
        current = _current(Path(patch.path))
        if current != patch.original:
            raise _error(f"{patch.path}: changed since netverify read it; run `fix` again")
    staged: list[tuple[Path, Path, str]] = []
    try:
        for patch in patches:
            path = Path(patch.path)
            staged.append((path, _staged(path, patch.patched), patch.original))
        _rename_all(staged)
    except OSError as error:
        raise _error(f"{error.filename or 'a file'}: {error.strerror or error}") from error
    finally:
        for _, temporary, _ in staged:
            temporary.unlink(missing_ok=True)


def _current(path: Path) -> str:
    """The file's text, "" when it does not exist (a new file's `original`)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _staged(path: Path, text: str) -> Path:
    """`text` in a temporary file beside `path`, with `path`'s permissions when it exists."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _rename_all(staged: Sequence[tuple[Path, Path, str]]) -> None:
    """Rename each temporary file over its target; on a failure, put back the targets
    already replaced (their old text, or no file for a new one) and raise it."""
    done: list[tuple[Path, str | None]] = []
    try:
        for path, temporary, original in staged:
            existed = path.exists()
            os.replace(temporary, path)
            done.append((path, original if existed else None))
    except OSError:
        for path, previous in reversed(done):
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(_staged(path, previous), path)
        raise


def _error(message: str) -> InputError:
    return InputError(
        [Diagnostic(severity=Severity.ERROR, message=f"fix --apply: {message}; nothing written")]
    )
