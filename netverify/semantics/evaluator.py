"""Decide one concrete flow under the NetworkPolicy v1 rules.

A connection is allowed when the source's egress side and the destination's ingress side
both allow it. Each side is decided by an ordered list of policy layers; the first layer
with an opinion decides, and with no opinion at all the flow is allowed (Kubernetes'
default). Today the only layer is NetworkPolicy; AdminNetworkPolicy (before it) and
BaselineAdminNetworkPolicy (after it) slot into `_LAYERS` as further entries.
"""

from collections.abc import Callable, Sequence

from netverify.model import (
    Cluster,
    Direction,
    Endpoint,
    Flow,
    FlowDecision,
    Layer,
    NetworkPolicy,
    ObjectRef,
    PodEndpoint,
    RuleRef,
    Settings,
    SideDecision,
)
from netverify.semantics.matching import (
    governed_pod,
    policy_selects,
    port_matches,
    rule_peers_match,
)

LayerDecider = Callable[[Cluster, Settings, Flow, Direction], SideDecision | None]


def _network_policy_layer(
    cluster: Cluster, settings: Settings, flow: Flow, direction: Direction
) -> SideDecision | None:
    """NetworkPolicy: a selected endpoint is isolated and needs some rule to admit the flow."""
    subject, peer = (
        (flow.destination, flow.source)
        if direction is Direction.INGRESS
        else (flow.source, flow.destination)
    )
    pod = governed_pod(subject)
    candidates = cluster.policies_in(pod.pod.namespace) if pod is not None else ()
    isolating = [
        policy
        for policy in candidates
        if direction in policy.policy_types and policy_selects(policy, subject)
    ]
    if not isolating:
        return None
    admitting: list[RuleRef] = []
    for policy in isolating:
        for index, rule in enumerate(policy.rules(direction)):
            peer_ok = rule_peers_match(rule, policy.namespace, peer, settings)
            port_ok = not rule.ports or any(
                port_matches(entry, flow.protocol, flow.port, flow.destination)
                for entry in rule.ports
            )
            if peer_ok and port_ok:
                admitting.append(
                    RuleRef(policy=_policy_ref(policy), direction=direction, index=index)
                )
    return SideDecision(
        direction=direction,
        governed=True,
        isolated_by=tuple(_policy_ref(policy) for policy in isolating),
        allowed_by=tuple(admitting),
        decided_by=Layer.NETWORK_POLICY,
        allowed=bool(admitting),
    )


_LAYERS: Sequence[LayerDecider] = (_network_policy_layer,)


def _policy_ref(policy: NetworkPolicy) -> ObjectRef:
    return ObjectRef(kind="NetworkPolicy", namespace=policy.namespace, name=policy.name)


def _decide_side(
    cluster: Cluster, settings: Settings, flow: Flow, direction: Direction
) -> SideDecision:
    subject = flow.destination if direction is Direction.INGRESS else flow.source
    if governed_pod(subject) is None:
        return SideDecision(direction=direction, governed=False, allowed=True)
    for layer in _LAYERS:
        decision = layer(cluster, settings, flow, direction)
        if decision is not None:
            return decision
    return SideDecision(direction=direction, governed=True, allowed=True)


def is_self_traffic(source: Endpoint, destination: Endpoint) -> bool:
    """The same existing bare Pod on both ends.

    A workload stands for its replicas, so traffic from a workload to itself is traffic
    between replicas, which policies govern; a pod that could exist has no identity.
    """
    return (
        isinstance(source, PodEndpoint)
        and isinstance(destination, PodEndpoint)
        and source.pod.name is not None
        and source.pod.kind == "Pod"
        and (source.pod.namespace, source.pod.kind, source.pod.name)
        == (destination.pod.namespace, destination.pod.kind, destination.pod.name)
    )


def evaluate(cluster: Cluster, flow: Flow, settings: Settings | None = None) -> FlowDecision:
    """The verdict on one flow, with the policies and rules behind it on both sides."""
    settings = settings or Settings()
    return FlowDecision(
        flow=flow,
        egress=_decide_side(cluster, settings, flow, Direction.EGRESS),
        ingress=_decide_side(cluster, settings, flow, Direction.INGRESS),
        self_traffic=is_self_traffic(flow.source, flow.destination),
    )
