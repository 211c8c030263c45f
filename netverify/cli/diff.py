"""`netverify diff`: connectivity added and removed between two revisions."""

from enum import StrEnum
from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_INPUT_ERROR,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    ClusterOption,
    ConfigOption,
    ContextOption,
    FormatOption,
    KubeconfigOption,
    MaxFindingsOption,
    NamespaceOption,
    NoConfigOption,
    OutputOption,
    PodCidrOption,
    ProfileOption,
    RlimitOption,
    StrictOption,
    TimeoutOption,
    cluster_source,
    input_error,
    keep_until_exit,
    long_lived,
    print_warnings,
    settings_sources,
    write,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.model import InputError, NamespaceScope, PodScope
from netverify.model.diff import DEFAULT_MAX_FINDINGS, Change, DiffReport
from netverify.report.formats import OutputFormat, diff_formatter


class FailOn(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    ANY = "any"


def diff(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="BASE HEAD (two manifest paths), BASE with --cluster, or with --base-ref the "
            "paths of both sides."
        ),
    ],
    base_ref: Annotated[
        str | None,
        typer.Option("--base-ref", help="Read BASE from this git revision of the same paths."),
    ] = None,
    pods: Annotated[
        PodScope, typer.Option("--pods", help="existing: the pods of either side; any: every pod.")
    ] = PodScope.EXISTING,
    namespaces: Annotated[
        NamespaceScope, typer.Option("--namespaces", help="existing or any namespace.")
    ] = NamespaceScope.EXISTING,
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 when findings of this kind exist."),
    ] = None,
    max_findings: MaxFindingsOption = DEFAULT_MAX_FINDINGS,
    output_format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
    namespace: NamespaceOption = None,
    profile: ProfileOption = None,
    pod_cidrs: PodCidrOption = None,
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
    cluster: ClusterOption = False,
    context: ContextOption = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Connectivity added and removed between two revisions of the manifests, or from the
    manifests (BASE) to a live cluster (HEAD: --cluster or --context)."""
    from netverify.engine.diff import diff as diff_sides
    from netverify.engine.scope import enforced
    from netverify.loading.diff_sides import load_diff_sides

    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    settings = settings_sources(profile, pod_cidrs, config, no_config).settings()
    try:
        head_cluster = cluster_source(cluster, context, kubeconfig)
        sides_loaded = long_lived(
            lambda: load_diff_sides(
                paths, base_ref, strict=strict, namespace=namespace, head_cluster=head_cluster
            )
        )
        with sides_loaded as sides:
            base, head = enforced(sides.base, settings), enforced(sides.head, settings)
            print_warnings((*base.warnings, *head.warnings))
            report = diff_sides(
                base,
                head,
                settings,
                pods,
                namespaces,
                limits,
                sides.labels,
                max_findings,
                keep=keep_until_exit,
            )
    except InputError as error:  # from loading: the diff itself reports in `report.error`
        input_error(error)
    write(diff_formatter(output_format).format_diff(report), output)
    raise typer.Exit(_exit_code(report, fail_on))


def _exit_code(report: DiffReport, fail_on: FailOn | None) -> int:
    if report.error:
        return EXIT_INPUT_ERROR
    changes = {finding.change for finding in report.findings}
    failing = {
        None: set(),
        FailOn.ADDED: {Change.ADDED},
        FailOn.REMOVED: {Change.REMOVED},
        FailOn.ANY: {Change.ADDED, Change.REMOVED},
    }[fail_on]
    if changes & failing:
        return EXIT_VIOLATED
    return EXIT_HOLDS if report.complete else EXIT_UNKNOWN
