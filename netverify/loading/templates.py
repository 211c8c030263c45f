"""Input that is a template for manifests rather than manifests: a Helm chart's folder, or a
file with Go template actions (`{{ .Values.x }}`). Loaded as it is, it fails with YAML
errors that do not say what to do (a Chart.yaml has no `kind`, `{{ ... }}` reads as a flow
mapping); each template fails with one error that says to render it first.
"""

import os
import re
from collections.abc import Iterable

from netverify.model import Diagnostic, Severity, SourceSpan

CHART_FILE = "Chart.yaml"
"""The file that makes a folder a Helm chart."""

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
"""A Go template action, as Helm and other generators write it."""


def chart_of(file: str, top: str) -> str | None:
    """The Helm chart folder (one holding a Chart.yaml) that `file` is in, searching up from
    the file's folder to `top`, the folder it was found under; None outside any chart."""
    folder = os.path.dirname(file)
    top = os.path.normpath(top)
    while True:
        if os.path.isfile(os.path.join(folder, CHART_FILE)):
            return folder
        if os.path.normpath(folder) == top or not folder:
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def chart_error(chart: str) -> Diagnostic:
    """A Helm chart's folder given as manifests."""
    return Diagnostic(
        severity=Severity.ERROR,
        message=f"{chart} is a Helm chart, not rendered manifests: render it first and pass "
        f"the output, e.g. `helm template {chart} | netverify validate -`",
        span=SourceSpan(file=os.path.join(chart, CHART_FILE), line=1),
    )


def template_error(text: str, file: str, error_lines: Iterable[int]) -> Diagnostic | None:
    """The file's first Go template action as an error, when the file failed on a line with
    one (or the line after, where YAML notices): it is a template to fill, not a manifest.
    None otherwise: a `{{ $labels }}` inside an alert's text is a string like any other, and
    does not hide the file's real errors."""
    actions = [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in _ACTION.finditer(text)]
    failed = set(error_lines)
    if not any(line in failed or line + 1 in failed for line, _ in actions):
        return None
    line, action = actions[0]
    return Diagnostic(
        severity=Severity.ERROR,
        message=f"unrendered template: {action!r} is a Go template action; render the "
        "template first (helm template, or the tool that fills it) and pass the output",
        span=SourceSpan(file=file, line=line),
    )
