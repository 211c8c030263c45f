"""Checks about Services: whether their backends can be reached through them at all."""

from collections.abc import Iterator

from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import finding, register
from netverify.model import (
    Endpoint,
    Flow,
    FlowDecision,
    ObjectRef,
    PodEndpoint,
    ServicePort,
    SideDecision,
    short_name,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity
from netverify.semantics.evaluator import possible_verdicts


@register(
    "NVL014",
    "service-unreachable",
    "Service backend that no existing pod can reach",
    FindingSeverity.WARNING,
    "Add an ingress rule to the backend's policies that admits the Service's clients on the "
    "target port (and, where clients are isolated for egress, an egress rule to the backend), "
    "or delete the Service if nothing should use it.",
)
def service_unreachable(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    by_pod = {endpoint.pod.identity: endpoint for endpoint in context.pods}
    for service in context.cluster.services:
        ref = ObjectRef(kind="Service", namespace=service.namespace, name=service.name)
        for port in service.ports:
            for pod in service.backends(context.cluster.pods):
                target = service.target_on(port, pod)
                if target is None:
                    continue
                witness = _unreachable(context, by_pod[pod.identity], port, target)
                if witness is None:
                    continue
                flow = _flow_text(witness.flow)
                yield finding(
                    info,
                    f"no existing pod can reach backend {_pod_name(witness.flow.destination)} "
                    f"of this Service through port {port} (target port {target}), e.g. {flow}: "
                    f"{_blocked_sides(witness)}",
                    span=context.sources.of_object(ref),
                    object=ref,
                    related=(flow,),
                )


def _unreachable(
    context: LintContext, backend: PodEndpoint, port: ServicePort, target: int
) -> FlowDecision | None:
    """The decision on the first client's flow when no client reaches `backend` on `target`
    (by the reference evaluator); None when one does or there is no client. The clients are
    the existing pods other than the backend, hostNetwork pods left out: their traffic is
    their node's, which always reaches the pods on it whatever the policies say. A flow that
    some order of the admin policies allows (the API leaves equal priorities open) reaches,
    and so does one that some address `podCIDRs` may give an end allows (prove and explain
    try them too)."""
    first: FlowDecision | None = None
    for client in context.pods:
        if client.pod.host_network or client.pod.identity == backend.pod.identity:
            continue
        flow = Flow(source=client, destination=backend, protocol=port.protocol, port=target)
        for addressed in context.addresses.flows(flow):
            verdicts = possible_verdicts(context.cluster, addressed, context.settings)
            if True in verdicts:
                return None
            first = first or verdicts[False]
    return first


def _pod_name(endpoint: Endpoint) -> str:
    assert isinstance(endpoint, PodEndpoint), "Service flows run between pods"
    return f"{endpoint.pod.namespace}/{endpoint.pod.name}"


def _flow_text(flow: Flow) -> str:
    source, destination = _pod_name(flow.source), _pod_name(flow.destination)
    return f"{source} -> {destination} {flow.protocol.value}/{flow.port}"


def _blocked_sides(decision: FlowDecision) -> str:
    """Which sides block, ingress first (the backend's own policies are the usual reason),
    with the policies that isolate each, or the admin rule that denies it."""
    return "; ".join(
        f"{side.direction.value.lower()} blocked: {_blocker(side)}"
        for side in (decision.ingress, decision.egress)
        if not side.allowed
    )


def _blocker(side: SideDecision) -> str:
    if side.admin_rule is not None:
        rule = side.admin_rule.rule
        where = f"{rule.direction.value.lower()}[{rule.index}]"
        return f"denied by {short_name(rule.policy)} {where} ({side.admin_rule.action})"
    isolating = ", ".join(f"{ref.namespace}/{ref.name}" for ref in side.isolated_by)
    return f"isolated by {isolating} and no rule admits it"
