"""`netverify explain`: decide one flow with the reference evaluator."""

from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_VIOLATED,
    ClusterOption,
    ContextOption,
    KubeconfigOption,
    PathsArgument,
    StrictOption,
    input_error,
    load_input,
    print_warnings,
    write,
)
from netverify.model import InputError
from netverify.report.formats import ExplainFormat, explain_formatter


def explain(
    source: Annotated[str, typer.Option("--from", help="Source: NAMESPACE/POD or an IP.")],
    destination: Annotated[str, typer.Option("--to", help="Destination: NAMESPACE/POD or an IP.")],
    # Help texts are rich markup: a literal "[" is written "\[".
    port: Annotated[str, typer.Option("--port", help=r"PORT\[/PROTOCOL] or NAME\[/PROTOCOL].")],
    paths: PathsArgument = None,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.TEXT,
    strict: StrictOption = False,
    cluster: ClusterOption = False,
    context: ContextOption = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Decide one flow and show the rules on both sides. Exit 0 allowed (on some node
    placement: traffic between a node and its pods is always allowed), 1 blocked."""
    from netverify.loading.flows import parse_flow
    from netverify.semantics import explain_flow

    try:
        loaded = load_input(paths, strict, cluster, context, kubeconfig)
        flow = parse_flow(loaded.cluster, source, destination, port)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    explanation = explain_flow(loaded.cluster, flow)
    write(explain_formatter(output_format).format_explain(explanation, loaded.sources), None)
    raise typer.Exit(EXIT_HOLDS if explanation.allowed else EXIT_VIOLATED)
