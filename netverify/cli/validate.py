"""`netverify validate`: load the manifests and summarise them."""

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


def validate(
    paths: PathsArgument = None,
    strict: StrictOption = False,
    namespace: NamespaceOption = None,
    cluster: ClusterOption = False,
    context: ContextOption = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Load and validate manifests; summarise namespaces, pods, policies and isolation."""
    from netverify.engine.summary import summarise
    from netverify.report.text import format_validate

    try:
        loaded = load_input(paths, strict, cluster, context, kubeconfig, namespace)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    typer.echo(format_validate(summarise(loaded)), nl=False)
