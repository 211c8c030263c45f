"""`netverify prove`: prove or refute the invariants of spec files."""

from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_INPUT_ERROR,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    FormatOption,
    OutputOption,
    Progress,
    RlimitOption,
    StrictOption,
    TimeoutOption,
    input_error,
    long_lived,
    print_warnings,
    progress_line,
    write,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.model import InputError, Report
from netverify.model.results import StatusRank
from netverify.report.formats import OutputFormat, prove_formatter


def prove(
    specs: Annotated[list[str], typer.Argument(help="Spec files (see docs/spec.md).")],
    output_format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
) -> None:
    """Prove or refute every invariant of the spec files."""
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    try:
        with progress_line() as progress:
            reports = [_prove_spec(spec_path, strict, limits, progress) for spec_path in specs]
    except InputError as error:
        input_error(error)
    write(prove_formatter(output_format).format_prove(reports), output)
    raise typer.Exit(_exit_code(reports))


def _prove_spec(spec_path: str, strict: bool, limits: SolverLimits, progress: Progress) -> Report:
    from netverify.engine import prove as prove_spec
    from netverify.loading import load_manifests
    from netverify.loading.spec import read_spec, resolve_spec

    raw = read_spec(spec_path)
    progress(0, 0, f"loading {spec_path}")
    with long_lived(
        lambda: load_manifests(raw.manifest_paths, strict=strict, clusters=raw.clusters)
    ) as loaded:
        print_warnings(loaded.warnings)
        spec = resolve_spec(raw, loaded.cluster)
        return prove_spec(loaded, spec, limits, strict=strict, progress=progress)


def _exit_code(reports: list[Report]) -> int:
    worst = max((report.worst for report in reports), default=StatusRank.HOLDS)
    return {
        StatusRank.HOLDS: EXIT_HOLDS,
        StatusRank.UNKNOWN: EXIT_UNKNOWN,
        StatusRank.ERROR: EXIT_INPUT_ERROR,
        StatusRank.VIOLATED: EXIT_VIOLATED,
    }[worst]
