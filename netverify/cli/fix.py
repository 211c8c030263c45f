"""`netverify fix`: the smallest proved policy change for each violated invariant."""

from typing import TYPE_CHECKING, Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_VIOLATED,
    ConfigOption,
    JobsOption,
    NoConfigOption,
    OutputOption,
    PodCidrOption,
    ProfileOption,
    RlimitOption,
    TimeoutOption,
    input_error,
    jobs_or_cores,
    long_lived,
    print_warnings,
    settings_sources,
    write,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.model import InputError
from netverify.report.formats import FixFormat

if TYPE_CHECKING:
    from netverify.loading.settings import SettingsSources
    from netverify.model.fix import FixReport


def fix(
    specs: Annotated[list[str], typer.Argument(help="Spec files (see docs/spec.md).")],
    output_format: Annotated[
        FixFormat,
        typer.Option("--format", "-f", help="text, json, or patch (a diff for `git apply`)."),
    ] = FixFormat.TEXT,
    output: OutputOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    profile: ProfileOption = None,
    pod_cidrs: PodCidrOption = None,
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Write the proved fixes into the manifest files (every file or none).",
        ),
    ] = False,
    jobs: JobsOption = None,
) -> None:
    """Propose, prove and rank the smallest policy change for each violated invariant
    (docs/fix.md). Exit 0 when every violated invariant got a proved fix (and, with
    `--apply`, it was written), 1 otherwise."""
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    sources = settings_sources(profile, pod_cidrs, config, no_config)
    try:
        reports = [
            _fix_spec(spec_path, sources, limits, jobs_or_cores(jobs)) for spec_path in specs
        ]
    except InputError as error:
        input_error(error)
    from netverify.report.fix import format_fix

    write(format_fix(reports, output_format), output)
    applied = _apply(reports) if apply else True
    complete = applied and all(report.complete for report in reports)
    raise typer.Exit(EXIT_HOLDS if complete else EXIT_VIOLATED)


def _apply(reports: list["FixReport"]) -> bool:
    """Write the fixes in place, naming each file written; False, with why, when they cannot
    all be applied as proved (nothing is written then)."""
    from netverify.cli.inplace import NotApplied, patches_to_apply, write_in_place

    try:
        patches = patches_to_apply(reports)
        write_in_place(patches)
    except NotApplied as refusal:
        typer.echo(f"netverify: fix --apply: nothing written: {refusal}", err=True)
        return False
    except InputError as error:
        input_error(error)
    for patch in patches:
        typer.echo(f"netverify: fixed {patch.path}", err=True)
    return True


def _fix_spec(
    spec_path: str, sources: "SettingsSources", limits: SolverLimits, jobs: int
) -> "FixReport":
    from netverify.engine.fix import fix as fix_spec
    from netverify.engine.scope import enforced
    from netverify.loading import load_manifests
    from netverify.loading.spec import resolve_spec
    from netverify.loading.specfile import read_spec

    raw = read_spec(spec_path)
    with long_lived(
        lambda: load_manifests(raw.manifest_paths, strict=False, clusters=raw.clusters)
    ) as loaded:
        spec = resolve_spec(raw, loaded.cluster, sources)
        loaded = enforced(loaded, spec.spec.settings)
        print_warnings(loaded.warnings)
        return fix_spec(loaded, spec, limits, jobs)
