"""`netverify snapshot`: write what a live cluster serves as YAML manifests."""

from pathlib import Path
from typing import Annotated

import typer

from netverify.cli.common import (
    ClusterOption,
    ContextOption,
    KubeconfigOption,
    cluster_source,
    input_error,
)
from netverify.model import Diagnostic, InputError, Severity


def snapshot(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The folder to write (created if missing).")
    ],
    cluster: ClusterOption = False,
    context: ContextOption = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Read a live cluster (--cluster or --context) and write one YAML file per kind into
    the folder, for review and for CI runs without cluster access."""
    from netverify.loading.live import read_cluster
    from netverify.loading.snapshot import write_snapshot

    try:
        live = cluster_source(cluster, context, kubeconfig)
        if live is None:
            message = "snapshot reads a live cluster: give --cluster or --context NAME"
            raise InputError([Diagnostic(severity=Severity.ERROR, message=message)])
        read = read_cluster(live)
        written = write_snapshot(read, output)
    except InputError as error:
        input_error(error)
    for listed in read.not_served:
        typer.echo(
            f"note: {read.label} does not serve {listed.kind} ({listed.api_version}): none read",
            err=True,
        )
    count = sum(len(items) for items in read.objects.values())
    typer.echo(f"{read.label}: {count} objects written to {len(written)} files in {output}")
