"""`netverify lint`: policy mistakes, from the check registry."""

import sys
from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_VIOLATED,
    OutputOption,
    PathsArgument,
    RlimitOption,
    StrictOption,
    TimeoutOption,
    input_error,
    print_warnings,
    write,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.loading import load_manifests
from netverify.model import InputError, Settings
from netverify.report.formats import LintFormat, lint_formatter


def lint(
    paths: PathsArgument,
    output_format: Annotated[
        LintFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LintFormat.TEXT,
    output: OutputOption = None,
    pod_cidrs: Annotated[
        list[str] | None,
        typer.Option("--pod-cidr", help="A pod CIDR, for ipBlocks that cover pods (repeatable)."),
    ] = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
) -> None:
    """Find policy mistakes (docs/lint.md); exit 1 when an error-severity finding exists."""
    from netverify.engine.lint import lint as run_lint
    from netverify.engine.tiers import set_aside_admin_tiers
    from netverify.loading.arguments import parse_pod_cidr

    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
        cidrs = tuple(parse_pod_cidr(text) for text in pod_cidrs or [])
    except InputError as error:
        input_error(error)
    loaded = set_aside_admin_tiers(loaded, "lint")
    print_warnings(loaded.warnings)
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    report = run_lint(loaded, Settings(), limits, cidrs)
    write(lint_formatter(output_format).format_lint(report), output)
    raise typer.Exit(EXIT_VIOLATED if report.has_errors else EXIT_HOLDS)
