"""`netverify explain`: decide one flow with the reference evaluator."""

import sys
from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_VIOLATED,
    ConfigOption,
    NamespaceOption,
    NoConfigOption,
    PathsArgument,
    PodCidrOption,
    ProfileOption,
    StrictOption,
    input_error,
    print_warnings,
    settings_sources,
    write,
)
from netverify.loading import load_manifests
from netverify.model import InputError
from netverify.report.formats import ExplainFormat, explain_formatter


def explain(
    paths: PathsArgument,
    source: Annotated[
        str, typer.Option("--from", help="Source: NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP.")
    ],
    destination: Annotated[
        str, typer.Option("--to", help="Destination: NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP.")
    ],
    # Help texts are rich markup: a literal "[" is written "\[".
    port: Annotated[str, typer.Option("--port", help=r"PORT\[/PROTOCOL] or NAME\[/PROTOCOL].")],
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.TEXT,
    strict: StrictOption = False,
    namespace: NamespaceOption = None,
    profile: ProfileOption = None,
    pod_cidrs: PodCidrOption = None,
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
) -> None:
    """Decide one flow and show the rules on both sides. Exit 0 allowed (on some node
    placement: traffic between a node and its pods is always allowed), 1 blocked."""
    from netverify.loading.flows import parse_flow
    from netverify.semantics import explain_flow

    settings = settings_sources(profile, pod_cidrs, config, no_config).settings()
    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin, namespace=namespace)
        flow = parse_flow(loaded.cluster, source, destination, port, loaded.skipped)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    explanation = explain_flow(loaded.cluster, flow, settings)
    write(explain_formatter(output_format).format_explain(explanation, loaded.sources), None)
    raise typer.Exit(EXIT_HOLDS if explanation.allowed else EXIT_VIOLATED)
