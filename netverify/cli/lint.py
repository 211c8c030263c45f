"""`netverify lint`: policy mistakes, from the check registry."""

from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_VIOLATED,
    ClusterOption,
    ConfigOption,
    ContextOption,
    KubeconfigOption,
    NamespaceOption,
    NoConfigOption,
    OutputOption,
    PathsArgument,
    PodCidrOption,
    ProfileOption,
    RlimitOption,
    StrictOption,
    TimeoutOption,
    input_error,
    load_input,
    long_lived,
    print_warnings,
    settings_sources,
    write,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.model import InputError
from netverify.report.formats import LintFormat, lint_formatter


def lint(
    paths: PathsArgument = None,
    output_format: Annotated[
        LintFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LintFormat.TEXT,
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
    """Find policy mistakes (docs/lint.md); exit 1 when an error-severity finding exists."""
    from netverify.engine.lint import lint as run_lint
    from netverify.engine.scope import enforced

    settings = settings_sources(profile, pod_cidrs, config, no_config).settings()
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    try:
        inputs = long_lived(
            lambda: enforced(
                load_input(paths, strict, cluster, context, kubeconfig, namespace), settings
            )
        )
        with inputs as loaded:
            print_warnings(loaded.warnings)
            report = run_lint(loaded, settings, limits)
    except InputError as error:
        input_error(error)
    write(lint_formatter(output_format).format_lint(report), output)
    raise typer.Exit(EXIT_VIOLATED if report.has_errors else EXIT_HOLDS)
