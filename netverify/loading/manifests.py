"""Kubernetes manifests (files, directories, stdin) to a `LoadedCluster`.

Every file is read and every object checked before anything is returned: either the whole
input is loaded, or one `InputError` carries every error of every file. What each object
becomes is `builder.ClusterBuilder`'s job.
"""

import os
from collections.abc import Sequence
from typing import TextIO

from netverify.loading.builder import ClusterBuilder
from netverify.loading.fields import Diagnostics
from netverify.loading.identity import ObjectIdentities
from netverify.loading.inputfiles import (
    MANIFEST_SUFFIXES,
    STDIN,
    collect_files,
    display_name,
    read_text,
)
from netverify.loading.live import ClusterSource, read_cluster
from netverify.loading.parsecache import ParseCache
from netverify.loading.templates import chart_error, chart_of, template_error
from netverify.loading.validation import dns1123_label_error
from netverify.loading.yamlsource import parse_documents
from netverify.model import Diagnostic, InputError, LoadedCluster, Severity


def load_manifests(
    paths: Sequence[str],
    *,
    strict: bool = False,
    stdin: TextIO | None = None,
    require_objects: bool = True,
    parse_cache: ParseCache | None = None,
    namespace: str | None = None,
    clusters: Sequence[ClusterSource] = (),
) -> LoadedCluster:
    """Load every manifest under `paths` (`-` is stdin), and the objects of every live
    cluster of `clusters` (`live`), into one cluster.

    `namespace` is `kubectl apply -n`'s: objects without a namespace land in it (instead of
    `default`), and an object in another namespace is an error.

    Raises `InputError` with every error of every file; warnings (unmodelled kinds, unknown
    fields) are returned in `LoadedCluster.warnings`, and are errors under `strict`. A
    directory without any manifest file is an error, and so, under `require_objects`, is an
    input without any Kubernetes object at all (nothing to prove anything about). Loads that
    share a `parse_cache` parse a text they have in common once, and read an object of it
    once.
    """
    parse = parse_documents if parse_cache is None else parse_cache.parse
    diagnostics = Diagnostics(strict=strict)
    builder = ClusterBuilder(diagnostics, ObjectIdentities(namespace), parse_cache=parse_cache)
    if namespace is not None and (problem := dns1123_label_error(namespace, "namespace")):
        raise InputError(
            [Diagnostic(severity=Severity.ERROR, message=f"--namespace {namespace}: {problem}")]
        )
    for path in paths:
        try:
            files = collect_files([path])
        except InputError as exc:
            diagnostics.errors.extend(exc.diagnostics)
            continue
        if not files:
            diagnostics.errors.append(
                Diagnostic(
                    severity=Severity.ERROR,
                    message=f"{path}: no manifest files ({', '.join(MANIFEST_SUFFIXES)}) "
                    "in this directory",
                )
            )
        charts: set[str] = set()
        for file in files:
            errors = len(diagnostics.errors)
            text = ""
            try:
                text = read_text(file, stdin)
                documents = parse(text, display_name(file))
            except InputError as exc:
                diagnostics.errors.extend(exc.diagnostics)
                documents = []
            # Each document's data is let go once it is read (unless a parse cache keeps
            # it): the next file is parsed without the last one's data still in memory.
            documents.reverse()
            while documents:
                builder.add_document(documents.pop())
            if len(diagnostics.errors) > errors:
                _said_as_template(diagnostics.errors, errors, file, path, text, charts)
    labels = []
    for source in clusters:
        try:
            read = read_cluster(source)
        except InputError as exc:
            diagnostics.errors.extend(exc.diagnostics)
            continue
        labels.append(read.label)
        for document in read.documents():
            builder.add_document(document)
    if require_objects and not diagnostics.errors and builder.object_count == 0:
        named = [display_name(path) for path in paths] + labels
        listed = ", ".join(named) or "no paths given"
        diagnostics.errors.append(
            Diagnostic(
                severity=Severity.ERROR,
                message=f"no Kubernetes objects in the manifests ({listed}): nothing to verify",
            )
        )
    if diagnostics.errors:
        raise InputError(diagnostics.errors)
    return builder.build()


def _said_as_template(
    errors: list[Diagnostic], first: int, file: str, path: str, text: str, charts: set[str]
) -> None:
    """The errors from `first` on, of a file that is a template rather than manifests, said
    as one error: the Helm chart it is in (once per chart), or its first template action. A
    file under the folder given is in a chart when a folder up to that one has a Chart.yaml;
    a file that fails on a template action, when any folder above it has one (a chart's
    `templates` given)."""
    lines = [error.span.line for error in errors[first:] if error.span is not None]
    template = template_error(text, display_name(file), lines)
    chart = None
    if path != STDIN:
        top = path if os.path.isdir(path) else os.path.dirname(file)
        chart = chart_of(file, top if template is None else os.sep)
    said = chart_error(chart) if chart is not None else template
    if said is None:
        return
    del errors[first:]
    if chart is not None:
        if chart in charts:
            return
        charts.add(chart)
    errors.append(said)
