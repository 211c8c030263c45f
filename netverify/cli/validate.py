"""`netverify validate`: load the manifests and summarise them."""

from typing import Annotated

import typer

from netverify.cli.common import (
    ClusterOption,
    ContextOption,
    KubeconfigOption,
    NamespaceOption,
    PathsArgument,
    StrictOption,
    input_error,
    load_input,
    print_warnings,
)
from netverify.model import InputError
from netverify.report.listing import NAMES_SHOWN


def validate(
    paths: PathsArgument = None,
    strict: StrictOption = False,
    namespace: NamespaceOption = None,
    cluster: ClusterOption = False,
    context: ContextOption = None,
    kubeconfig: KubeconfigOption = None,
    every_name: Annotated[
        bool,
        typer.Option(
            "--all-names",
            help=f"List every pod and policy name (by default a list stops after "
            f"{NAMES_SHOWN} names and says how many more there are).",
        ),
    ] = False,
) -> None:
    """Load and validate manifests; summarise namespaces, pods, policies and isolation."""
    from netverify.engine.summary import summarise
    from netverify.report.text import format_validate

    try:
        loaded = load_input(paths, strict, cluster, context, kubeconfig, namespace)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    typer.echo(format_validate(summarise(loaded), every_name), nl=False)
