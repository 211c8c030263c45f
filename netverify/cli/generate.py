"""`netverify generate`: a synthetic cluster and spec with known verdicts."""

from pathlib import Path
from typing import Annotated

import typer

from netverify.cli.common import EXIT_INPUT_ERROR


def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the manifests and spec.yaml.")],
    namespaces: Annotated[
        int, typer.Option("--namespaces", help="Namespaces, kube-system and monitoring included.")
    ] = 20,
    pods: Annotated[int, typer.Option("--pods", help="Bare Pods plus workloads.")] = 1000,
    policies: Annotated[int, typer.Option("--policies", help="NetworkPolicies.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files.")] = 0,
    leak: Annotated[
        bool, typer.Option("--leak", help="Plant one rule that lets env=dev pods into prod.")
    ] = False,
) -> None:
    """Write a synthetic cluster and a spec whose verdicts are known (tests, benchmarks)."""
    from netverify.generate import GeneratorOptions, write_cluster

    options = GeneratorOptions(
        namespaces=namespaces, pods=pods, policies=policies, seed=seed, leak=leak
    )
    if problems := options.problems():
        typer.echo("netverify: invalid options:", err=True)
        for problem in problems:
            typer.echo(f"- {problem}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    typer.echo(write_cluster(options, out).summary(), nl=False)
