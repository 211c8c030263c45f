"""Manifests as they were at a git revision, read through git itself.

`git archive` writes the revision's files into a temporary folder; the user's work tree,
index and stash are never touched. Paths keep the names they have in the work tree.
"""

import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from netverify.model import Diagnostic, InputError, Severity


def _git(args: Sequence[str], cwd: str) -> bytes:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, timeout=120
        )
    except FileNotFoundError:
        raise _error("git is not installed") from None
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip()
        raise _error(f"git {' '.join(args[:2])} failed: {message}")
    return completed.stdout


def _error(message: str) -> InputError:
    return InputError([Diagnostic(severity=Severity.ERROR, message=message)])


@contextmanager
def paths_at_revision(revision: str, paths: Sequence[str]) -> Iterator[list[str]]:
    """Inside the block: the current directory is a copy of the revision's tree (at the same
    place in it as the real one), and the given paths that existed then, as given."""
    here = os.getcwd()
    root = _git(["rev-parse", "--show-toplevel"], here).decode().strip()
    _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], here)
    offset = os.path.relpath(here, root)
    with tempfile.TemporaryDirectory(prefix="netverify-base-") as folder:
        existing = []
        for path in paths:
            in_repo = os.path.normpath(os.path.join(offset, path))
            listed = _git(["ls-tree", "-r", "--name-only", revision, "--", in_repo], root)
            if not listed.strip():
                continue
            archive = _git(["archive", "--format=tar", revision, "--", in_repo], root)
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(folder, filter="data")
            existing.append(path)
        inside = os.path.join(folder, offset)
        os.makedirs(inside, exist_ok=True)
        os.chdir(inside)
        try:
            yield existing
        finally:
            os.chdir(here)
