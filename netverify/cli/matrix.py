"""`netverify matrix`: who can reach whom among the existing pods."""

from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_INPUT_ERROR,
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
    StrictOption,
    input_error,
    load_input,
    long_lived,
    memory_hint,
    print_warnings,
    settings_sources,
    write_stream,
)
from netverify.model import InputError
from netverify.model.matrix import GroupBy
from netverify.report.formats import MatrixFormat, matrix_entity_limit, matrix_formatter


def matrix(
    paths: PathsArgument = None,
    ports: Annotated[
        list[str] | None,
        typer.Option(
            "--port",
            help=r"PORT\[/PROTOCOL]: one cell per pair and port (repeatable); "
            "without it a cell says whether some port is open.",
        ),
    ] = None,
    group_by: Annotated[
        GroupBy, typer.Option("--group-by", help="What a row and a column stand for.")
    ] = GroupBy.POD,
    output_format: Annotated[
        MatrixFormat, typer.Option("--format", "-f", help="Output format.")
    ] = MatrixFormat.TEXT,
    output: OutputOption = None,
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
    """Who can reach whom among the existing pods (self traffic allowed, external addresses
    left out). csv and json are written a row at a time, whatever the size; text, markdown,
    dot and html refuse a matrix too large to read."""
    from netverify.engine.matrix import MatrixComputation
    from netverify.engine.scope import enforced
    from netverify.loading.arguments import parse_matrix_port

    settings = settings_sources(profile, pod_cidrs, config, no_config).settings()
    try:
        inputs = long_lived(
            lambda: enforced(
                load_input(paths, strict, cluster, context, kubeconfig, namespace), settings
            )
        )
        with inputs as loaded:
            asked = [parse_matrix_port(port) for port in ports or []]
            print_warnings(loaded.warnings)
            doing = f"computing the matrix of {len(loaded.cluster.pods):,} pods by {group_by.value}"
            with memory_hint(doing, "try --group-by namespace, or --format csv"):
                computation = MatrixComputation(loaded, settings, group_by, asked)
                entities = len(computation.matrix.entities)
                limit = matrix_entity_limit(output_format)
                if limit is not None and entities > limit:
                    typer.echo(
                        f"netverify: {entities:,} {group_by.value}s are too many for --format "
                        f"{output_format.value} (at most {limit:,} stay readable); use --group-by "
                        "workload or --group-by namespace, or --format csv",
                        err=True,
                    )
                    raise typer.Exit(EXIT_INPUT_ERROR)
                formatter = matrix_formatter(output_format)
                write_stream(
                    formatter.format_matrix(computation.matrix, computation.rows()), output
                )
    except InputError as error:
        input_error(error)
