"""`netverify prove`: prove or refute the invariants of spec files."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_INPUT_ERROR,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    ConfigOption,
    FormatOption,
    JobsOption,
    MaxFindingsOption,
    NoConfigOption,
    OutputOption,
    PodCidrOption,
    ProfileOption,
    Progress,
    RlimitOption,
    StrictOption,
    TimeoutOption,
    input_error,
    jobs_or_cores,
    keep_until_exit,
    long_lived,
    print_warnings,
    progress_line,
    settings_sources,
    write,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.model import InputError, Report
from netverify.model.diff import DEFAULT_MAX_FINDINGS
from netverify.model.results import StatusRank
from netverify.report.formats import OutputFormat, prove_formatter

if TYPE_CHECKING:
    from netverify.loading.settings import SettingsSources


def prove(
    specs: Annotated[list[str], typer.Argument(help="Spec files (see docs/spec.md).")],
    output_format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
    profile: ProfileOption = None,
    pod_cidrs: PodCidrOption = None,
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
    all_profiles: Annotated[
        bool,
        typer.Option(
            "--all-profiles",
            help="Prove each invariant under every CNI profile and name those where it fails.",
        ),
    ] = False,
    jobs: JobsOption = None,
    all_findings: Annotated[
        bool,
        typer.Option(
            "--all",
            help="List every violating flow of a violated forbid or require, grouped.",
        ),
    ] = False,
    max_findings: MaxFindingsOption = DEFAULT_MAX_FINDINGS,
) -> None:
    """Prove or refute every invariant of the spec files (settings: docs/settings.md)."""
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    sources = settings_sources(profile, pod_cidrs, config, no_config)
    run = _Run(
        sources,
        strict,
        limits,
        all_profiles,
        jobs_or_cores(jobs),
        max_findings if all_findings else None,
    )
    try:
        with progress_line() as progress:
            reports = [
                run.prove_spec(spec_path, progress, last=index == len(specs) - 1)
                for index, spec_path in enumerate(specs)
            ]
    except InputError as error:
        input_error(error)
    write(prove_formatter(output_format).format_prove(reports), output)
    raise typer.Exit(_exit_code(reports))


@dataclass(frozen=True)
class _Run:
    """What every spec of one command line is proved with."""

    sources: "SettingsSources"
    strict: bool
    limits: SolverLimits
    all_profiles: bool
    jobs: int
    max_findings: int | None
    """`--all`: list up to this many findings per violated invariant."""

    def prove_spec(self, spec_path: str, progress: Progress, last: bool) -> Report:
        """The spec's report; what the `last` spec's proof built is kept until the process
        ends (`keep_until_exit`), an earlier spec's is freed before the next is loaded."""
        from netverify.engine.prove import prove
        from netverify.engine.scope import enforced
        from netverify.loading import load_manifests
        from netverify.loading.spec import resolve_spec
        from netverify.loading.specfile import read_spec

        raw = read_spec(spec_path)
        progress(0, 0, f"loading {spec_path}")
        strict = self.strict
        with long_lived(
            lambda: load_manifests(raw.manifest_paths, strict=strict, clusters=raw.clusters),
            kept=last,
        ) as loaded:
            spec = resolve_spec(raw, loaded.cluster, self.sources)
            print_warnings(enforced(loaded, spec.spec.settings).warnings)
            return prove(
                loaded,
                spec,
                self.limits,
                strict,
                progress,
                all_profiles=self.all_profiles,
                jobs=self.jobs,
                max_findings=self.max_findings,
                keep=keep_until_exit if last else None,
            )


def _exit_code(reports: list[Report]) -> int:
    """The worst status's code (an incomplete `prove --all` listing is of a violated
    invariant, whose 1 wins)."""
    worst = max((report.worst for report in reports), default=StatusRank.HOLDS)
    return {
        StatusRank.HOLDS: EXIT_HOLDS,
        StatusRank.UNKNOWN: EXIT_UNKNOWN,
        StatusRank.ERROR: EXIT_INPUT_ERROR,
        StatusRank.VIOLATED: EXIT_VIOLATED,
    }[worst]
