"""Decide one concrete flow under the NetworkPolicy v1 rules.

A connection is allowed when the source's egress side and the destination's ingress side
both allow it. Each side is decided by an ordered list of policy layers; the first layer
with an opinion decides, and with no opinion at all the flow is allowed (Kubernetes'
default). Today the only layer is NetworkPolicy; AdminNetworkPolicy (before it) and
BaselineAdminNetworkPolicy (after it) slot into `_LAYERS` as further entries.

Two kinds of traffic bypass the sides: a pod's traffic to itself, and node-local traffic
between a node (its hostNetwork pods) and a pod on that node.
"""

from collections.abc import Callable, Sequence

from netverify.model import (
    Cluster,
    Direction,
    Endpoint,
    Explanation,
    Flow,
    FlowDecision,
    Layer,
    NetworkPolicy,
    ObjectRef,
    Pod,
    PodEndpoint,
    RuleRef,
    Settings,
    SideDecision,
)
from netverify.semantics.matching import (
    NO_PEER_MATCHES,
    first_matching_peer,
    governed_pod,
    policy_selects,
    port_matches,
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
    matched: list[int | None] = []
    for policy in isolating:
        for index, rule in enumerate(policy.rules(direction)):
            peer_index = first_matching_peer(rule, policy.namespace, peer, settings)
            port_ok = not rule.ports or any(
                port_matches(entry, flow.protocol, flow.port, flow.destination)
                for entry in rule.ports
            )
            if peer_index is not NO_PEER_MATCHES and port_ok:
                admitting.append(
                    RuleRef(policy=_policy_ref(policy), direction=direction, index=index)
                )
                matched.append(peer_index)
    return SideDecision(
        direction=direction,
        governed=True,
        isolated_by=tuple(_policy_ref(policy) for policy in isolating),
        allowed_by=tuple(admitting),
        allowed_by_peer=tuple(matched),
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
        and source.pod.identity == destination.pod.identity
    )


def may_share_node(first: Pod, second: Pod) -> bool:
    """Pods may run on one node unless both are bound (`spec.nodeName`) to different nodes."""
    return (
        first.node_name is None or second.node_name is None or first.node_name == second.node_name
    )


def may_be_node_local(source: Endpoint, destination: Endpoint) -> bool:
    """Two pods, one of them a hostNetwork pod (whose traffic is its node's), that may run on
    one node: placed there, their traffic is node-local."""
    return (
        isinstance(source, PodEndpoint)
        and isinstance(destination, PodEndpoint)
        and (source.pod.host_network or destination.pod.host_network)
        and may_share_node(source.pod, destination.pod)
    )


def is_node_local(flow: Flow) -> bool:
    """Traffic between a node and a pod on it, either way.

    NOTE: "traffic to and from the node where a Pod is running is always allowed, regardless
    of the IP address of the Pod or the node"
    (https://kubernetes.io/docs/concepts/services-networking/network-policies/).
    """
    return flow.same_node and may_be_node_local(flow.source, flow.destination)


def evaluate(cluster: Cluster, flow: Flow, settings: Settings | None = None) -> FlowDecision:
    """The verdict on one flow, with the policies and rules behind it on both sides."""
    settings = settings or Settings()
    return FlowDecision(
        flow=flow,
        egress=_decide_side(cluster, settings, flow, Direction.EGRESS),
        ingress=_decide_side(cluster, settings, flow, Direction.INGRESS),
        self_traffic=is_self_traffic(flow.source, flow.destination),
        node_local=is_node_local(flow),
    )


def placements(flow: Flow) -> tuple[Flow, ...]:
    """The flow on every placement its ends can have, across nodes first: two pods that may
    be node-local (one a hostNetwork pod) can be on different nodes or on one, and two bound
    to the same node only on one; any other flow has one placement, across nodes."""
    across = flow.model_copy(update={"same_node": False})
    if not may_be_node_local(flow.source, flow.destination):
        return (across,)
    same = flow.model_copy(update={"same_node": True})
    assert isinstance(flow.source, PodEndpoint) and isinstance(flow.destination, PodEndpoint)
    bound = flow.source.pod.node_name
    if bound is not None and bound == flow.destination.pod.node_name:
        return (same,)
    return across, same


def explain_flow(cluster: Cluster, flow: Flow, settings: Settings | None = None) -> Explanation:
    """The flow's verdict on each placement its ends can have (see `placements`)."""
    first, *others = (evaluate(cluster, placed, settings) for placed in placements(flow))
    return Explanation(decision=first, same_node=others[0] if others else None)
