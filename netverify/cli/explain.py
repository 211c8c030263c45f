"""`netverify explain`: decide one flow with the reference evaluator."""

from collections.abc import Sequence
from typing import Annotated

import typer

from netverify.cli.common import (
    EXIT_HOLDS,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    ClusterOption,
    ConfigOption,
    ContextOption,
    KubeconfigOption,
    NamespaceOption,
    NoConfigOption,
    PathsArgument,
    PodCidrOption,
    ProfileOption,
    StrictOption,
    input_error,
    load_input,
    print_warnings,
    settings_sources,
    write,
)
from netverify.model import Explanation, InputError
from netverify.report.formats import ExplainFormat, explain_formatter


def explain(
    source: Annotated[
        str, typer.Option("--from", help="Source: NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP.")
    ],
    destination: Annotated[
        str,
        typer.Option(
            "--to",
            help="Destination: NAMESPACE/NAME, NAMESPACE/KIND/NAME (KIND Service: its "
            "backends) or an IP (a ClusterIP: its Service).",
        ),
    ],
    # Help texts are rich markup: a literal "[" is written "\[".
    port: Annotated[str, typer.Option("--port", help=r"PORT\[/PROTOCOL] or NAME\[/PROTOCOL].")],
    paths: PathsArgument = None,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.TEXT,
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
    """Decide one flow and show the rules on both sides. Exit 0 allowed (on some node
    placement: traffic between a node and its pods is always allowed), 1 blocked, 3 unknown
    (a policy kind netverify does not model may decide it otherwise, or the verdict depends
    on an order of admin policies that the API leaves open, on the node of a host-network end
    that a `nodes` peer may select, on a `domainNames` peer, or on the address in the pod
    CIDRs of a pod whose address the manifests do not give). Without pod CIDRs such a pod
    matches no ipBlock or networks peer, as prove assumes: a note says where the verdict
    rests on that, and with --strict the verdict is then unknown (exit 3), as prove
    --strict makes a "holds" resting on an assumption unknown.

    A flow to a Service (by name or ClusterIP) is decided for each backend on its target
    port: exit 0 when some backend is reachable, 1 when none is, 2 when it has none."""
    from netverify.engine.explain import explained
    from netverify.engine.scope import enforced
    from netverify.loading.flows import parse_request
    from netverify.model import Flow, ServiceExplanation

    settings = settings_sources(profile, pod_cidrs, config, no_config).settings()
    try:
        loaded = enforced(
            load_input(paths, strict, cluster, context, kubeconfig, namespace), settings
        )
        request = parse_request(loaded.cluster, source, destination, port, loaded.skipped)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    formatter = explain_formatter(output_format)
    if isinstance(request, Flow):
        explanation = explained(loaded.cluster, request, settings)
        write(formatter.format_explain(explanation, loaded.sources), None)
        raise typer.Exit(_exit_code([explanation], strict))
    translated = ServiceExplanation(
        flows=request,
        explanations=tuple(
            explained(loaded.cluster, backend.flow, settings) for backend in request.backends
        ),
    )
    write(formatter.format_service_explain(translated, loaded.sources), None)
    raise typer.Exit(_exit_code(translated.explanations, strict))


def _exit_code(explanations: Sequence[Explanation], strict: bool) -> int:
    """0 when some flow is allowed, 1 when none is; 3 (unknown) when every allowed flow,
    or where none is, some blocked one, may be decided otherwise: by a policy object
    netverify does not model, or by an order of admin policies the API leaves open (with
    `strict`, also where the verdict rests on an end without a known address)."""
    allowed = [explanation for explanation in explanations if explanation.allowed]
    if allowed:
        sure = any(_decided(explanation, strict) for explanation in allowed)
    else:
        sure = all(_decided(explanation, strict) for explanation in explanations)
    if not sure:
        return EXIT_UNKNOWN
    return EXIT_HOLDS if allowed else EXIT_VIOLATED


def _decided(explanation: Explanation, strict: bool) -> bool:
    """Whether the verdict shown is the cluster's whatever netverify cannot know (the
    policies it does not model, the order the API leaves open, the pods' addresses; with
    `strict`, whether a pod without a known address matches an ipBlock or networks peer,
    which is otherwise assumed it does not, as prove assumes)."""
    return (
        not explanation.may_be_decided_by
        and not explanation.order_dependent
        and explanation.doubt is None
        and explanation.address_dependent is None
        and not (strict and explanation.unaddressed)
    )
