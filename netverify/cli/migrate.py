"""`netverify migrate`: AdminNetworkPolicy/BaselineAdminNetworkPolicy -> ClusterNetworkPolicy,
written as YAML and proved equivalent."""

from pathlib import Path
from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    ConfigOption,
    NoConfigOption,
    PodCidrOption,
    ProfileOption,
    RlimitOption,
    StrictOption,
    TimeoutOption,
    input_error,
    load_input,
    print_warnings,
    settings_sources,
)
from netverify.encoding.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS, SolverLimits
from netverify.model import Diagnostic, InputError, Severity


def migrate(
    paths: Annotated[list[str], typer.Argument(help="Manifest files or folders; - for stdin.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The folder to write one ClusterNetworkPolicy file per converted policy to.",
        ),
    ],
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
    profile: ProfileOption = None,
    pod_cidrs: PodCidrOption = None,
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
) -> None:
    """Convert every AdminNetworkPolicy and BaselineAdminNetworkPolicy into a
    ClusterNetworkPolicy (docs/admin-policies.md), write them to --output, and prove that
    the cluster with them decides every flow as before: exit 0 proved, 1 flows differ
    (listed), 2 input errors or something v1alpha2 cannot say (nothing written), 3 not
    proved within the solver's limits."""
    from netverify.engine.equivalence import admin_equivalence
    from netverify.loading import load_manifests
    from netverify.loading.migrate import convert_v1alpha1, migrated_cluster
    from netverify.report.text import format_migrate

    settings = settings_sources(profile, pod_cidrs, config, no_config).settings()
    try:
        if output.exists() and not output.is_dir():
            raise InputError(
                [Diagnostic(severity=Severity.ERROR, message=f"--output {output}: not a folder")]
            )
        loaded = load_input(paths, strict)
        converted = convert_v1alpha1(loaded)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    if not converted:
        typer.echo("migrate: no AdminNetworkPolicy or BaselineAdminNetworkPolicy to convert")
        raise typer.Exit(EXIT_HOLDS)
    written = _publish({one.file_name: one.yaml_text for one in converted}, output)
    # The proof is about the files as written: they are loaded back, as kubectl would read them.
    after = load_manifests([str(path) for path in written], strict=True)
    cluster = migrated_cluster(loaded.cluster, after.cluster)
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    equivalence = admin_equivalence(loaded.cluster, cluster, settings, limits)
    sources = loaded.sources.model_copy(
        update={
            "objects": {**loaded.sources.objects, **after.sources.objects},
            "rules": {**loaded.sources.rules, **after.sources.rules},
        }
    )
    typer.echo(
        format_migrate([str(path) for path in written], equivalence, loaded.sources, sources),
        nl=False,
    )
    if equivalence.differences:
        raise typer.Exit(EXIT_VIOLATED)
    raise typer.Exit(EXIT_UNKNOWN if equivalence.unknown_reason else EXIT_HOLDS)


def _publish(files: dict[str, str], folder: Path) -> list[Path]:
    """Write every file into a new folder beside `folder`, then move them into it (renames:
    no file is ever half-written, and none is moved before all are written)."""
    import os
    import shutil
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        folder.mkdir(exist_ok=True)
        for name in files:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in sorted(files)]
