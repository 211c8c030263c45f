"""Helpers for loading tests: write manifests into a temporary directory and load them."""

import textwrap
from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.model import Diagnostic, InputError, LoadedCluster, Severity, SourceSpan

POLICY_FILE = "np.yaml"
POLICY_OBJECT = "NetworkPolicy prod/np"
SPEC_FIRST_LINE = 7
"""The file line of the first line of the `spec` body written by `policy()`."""


def policy(spec: str) -> str:
    """A NetworkPolicy prod/np whose spec body (unindented YAML) starts at line 7."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    return (
        "apiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\n"
        "metadata:\n"
        "  name: np\n"
        "  namespace: prod\n"
        "spec:\n"
        f"{body}\n"
    )


def write(directory: Path, text: str, name: str = POLICY_FILE) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(
    directory: Path, text: str, *, name: str = POLICY_FILE, strict: bool = False
) -> LoadedCluster:
    """Load one manifest file written from `text` (paths are relative to `directory`)."""
    write(directory, text, name)
    return load_manifests([name], strict=strict)


def load_errors(
    directory: Path, text: str, *, name: str = POLICY_FILE, strict: bool = False
) -> list[Diagnostic]:
    """The diagnostics of the `InputError` that loading `text` must raise."""
    with pytest.raises(InputError) as caught:
        load(directory, text, name=name, strict=strict)
    return caught.value.diagnostics


def error(
    message: str,
    line: int,
    field: str | None,
    *,
    obj: str | None = POLICY_OBJECT,
    file: str = POLICY_FILE,
    severity: Severity = Severity.ERROR,
) -> Diagnostic:
    """The diagnostic a test expects."""
    return Diagnostic(
        severity=severity,
        message=message,
        span=SourceSpan(file=file, line=line),
        object=obj,
        field=field,
    )
