"""`netverify matrix`: who can reach whom among the existing pods."""

import sys
from typing import Annotated

import typer

from netverify.cli.common import (
    OutputOption,
    PathsArgument,
    StrictOption,
    input_error,
    print_warnings,
    write,
)
from netverify.loading import load_manifests
from netverify.model import InputError, Settings
from netverify.model.matrix import GroupBy
from netverify.report.formats import MatrixFormat, matrix_formatter


def matrix(
    paths: PathsArgument,
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
) -> None:
    """Who can reach whom among the existing pods (self traffic allowed, external addresses
    left out)."""
    from netverify.engine.matrix import connectivity_matrix
    from netverify.engine.tiers import set_aside_admin_tiers
    from netverify.loading.arguments import parse_matrix_port

    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
        asked = [parse_matrix_port(port) for port in ports or []]
    except InputError as error:
        input_error(error)
    loaded = set_aside_admin_tiers(loaded, "matrix")
    print_warnings(loaded.warnings)
    result = connectivity_matrix(loaded, Settings(), group_by, asked)
    write(matrix_formatter(output_format).format_matrix(result), output)
