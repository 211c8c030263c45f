"""Decide one concrete flow under the admin policy tiers and the NetworkPolicy v1 rules.

A connection is allowed when the source's egress side and the destination's ingress side
both allow it. Each side is decided by three layers in order: the Admin tier (policies by
priority, rules in written order, the first matching rule decides: Accept and Deny are
final, Pass skips the rest of the tier), NetworkPolicy (if any selects the pod for the
direction, it decides), the Baseline tier (the same walk; Pass there is no opinion); with no
opinion at all the flow is allowed (Kubernetes' default).

Two kinds of traffic bypass the sides: a pod's traffic to itself, and node-local traffic
between a node (its hostNetwork pods) and a pod on that node (the latter only as far as
NetworkPolicy is concerned; see `is_node_local`).
"""

from collections.abc import Callable
from itertools import product

from netverify.model import (
    AdminAction,
    AdminMatch,
    AdminPolicy,
    Cluster,
    Direction,
    Endpoint,
    Explanation,
    Flow,
    FlowDecision,
    Layer,
    NetworkPolicy,
    Pod,
    PodEndpoint,
    RuleRef,
    Settings,
    SideDecision,
    Tier,
)
from netverify.model.refs import network_policy_ref
from netverify.semantics.addresses import (
    AddressChoices,
    addressed_flows,
    given_an_address,
    mentioned_networks,
)
from netverify.semantics.admin import possible_firsts, tier_matches
from netverify.semantics.matching import (
    NO_PEER_MATCHES,
    first_matching_peer,
    governed_pod,
    policy_selects,
    port_matches,
)
from netverify.semantics.unmodelled import objects_deciding

TierChoice = Callable[[list[tuple[AdminPolicy, AdminMatch]]], AdminMatch | None]
"""Picks the deciding match of a tier among the matching policies (walk order)."""


def walk_order(matches: list[tuple[AdminPolicy, AdminMatch]]) -> AdminMatch | None:
    """netverify's order: priority, then ClusterNetworkPolicy before v1alpha1, then name.
    Where the API leaves the order open, prove checks every order (`possible_verdicts`)."""
    return matches[0][1] if matches else None


def side_ends(flow: Flow, direction: Direction) -> tuple[Endpoint, Endpoint]:
    """The end whose policies decide the side (the source for egress, the destination for
    ingress), then the other end, the peer its rules must match."""
    if direction is Direction.INGRESS:
        return flow.destination, flow.source
    return flow.source, flow.destination


def isolating_policies(
    cluster: Cluster, subject: Endpoint, direction: Direction
) -> list[NetworkPolicy]:
    """The NetworkPolicies that select the endpoint for the direction, in order: with none,
    NetworkPolicy has no opinion on its side."""
    pod = governed_pod(subject)
    candidates = cluster.policies_in(pod.pod.namespace) if pod is not None else ()
    return [
        policy
        for policy in candidates
        if direction in policy.policy_types and policy_selects(policy, subject)
    ]


def _network_policy_layer(
    cluster: Cluster, settings: Settings, flow: Flow, direction: Direction
) -> SideDecision | None:
    """NetworkPolicy: a selected endpoint is isolated and needs some rule to admit the flow."""
    subject, peer = side_ends(flow, direction)
    isolating = isolating_policies(cluster, subject, direction)
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
                    RuleRef(policy=network_policy_ref(policy), direction=direction, index=index)
                )
                matched.append(peer_index)
    return SideDecision(
        direction=direction,
        governed=True,
        isolated_by=tuple(network_policy_ref(policy) for policy in isolating),
        allowed_by=tuple(admitting),
        allowed_by_peer=tuple(matched),
        decided_by=Layer.NETWORK_POLICY,
        allowed=bool(admitting),
    )


def _tier_decision(direction: Direction, layer: Layer, match: AdminMatch) -> SideDecision:
    return SideDecision(
        direction=direction,
        governed=True,
        decided_by=layer,
        admin_rule=match,
        allowed=match.action is AdminAction.ACCEPT,
    )


def _decide_side(
    cluster: Cluster, settings: Settings, flow: Flow, direction: Direction, choose: TierChoice
) -> SideDecision:
    subject, _ = side_ends(flow, direction)
    if governed_pod(subject) is None:
        return SideDecision(direction=direction, governed=False, allowed=True)
    passed = choose(tier_matches(cluster, Tier.ADMIN, flow, direction))
    if passed is not None and passed.action is not AdminAction.PASS:
        return _tier_decision(direction, Layer.ADMIN_TIER, passed)
    decision = _network_policy_layer(cluster, settings, flow, direction)
    if decision is None:
        baseline = choose(tier_matches(cluster, Tier.BASELINE, flow, direction))
        if baseline is not None and baseline.action is not AdminAction.PASS:
            decision = _tier_decision(direction, Layer.BASELINE_TIER, baseline)
        else:
            decision = SideDecision(direction=direction, governed=True, allowed=True)
    return decision.model_copy(update={"passed_by": passed}) if passed else decision


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

    That promise is NetworkPolicy's alone. The admin policy API makes none: its `nodes` peer
    "selects the nodeIPs ... present in the node.Status.Addresses field" and for `networks`
    "cluster-internal traffic will be checked against the rule as well", with no exception
    for a pod's own node. So an Admin or Baseline tier rule that matches node-local traffic
    (only `nodes` and `networks` peers can: host-network pods are no subjects and no
    `namespaces`/`pods` peers) decides it, Deny included; only the NetworkPolicy layer and
    the default let it through (`SideDecision.allows_node_local`).
    """
    return flow.same_node and may_be_node_local(flow.source, flow.destination)


def evaluate(
    cluster: Cluster,
    flow: Flow,
    settings: Settings | None = None,
    choose: TierChoice = walk_order,
) -> FlowDecision:
    """The verdict on one flow, with the policies and rules behind it on both sides.

    `choose` picks a tier's deciding rule among the matching policies; by default the first
    in netverify's walk order (see `possible_verdicts` for every order the API allows)."""
    settings = settings or Settings()
    return FlowDecision(
        flow=flow,
        egress=_decide_side(cluster, settings, flow, Direction.EGRESS, choose),
        ingress=_decide_side(cluster, settings, flow, Direction.INGRESS, choose),
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
    """The flow's verdict on each placement its ends can have (see `placements`) and, where
    an end is a pod without a known address and `podCIDRs` are set, at every address the
    policies tell apart (`semantics.addresses`): shown at the first, with one where the
    verdict differs. Without `podCIDRs` such an end has no address; where the verdict rests
    on that, `unaddressed` names the ends."""
    chosen = settings or Settings()
    explanations = [
        _explain_placed(cluster, addressed, chosen)
        for addressed in AddressChoices(chosen, mentioned_networks(cluster)).flows(flow)
    ]
    first = explanations[0]
    if not any(given_an_address(end, chosen) for end in (flow.source, flow.destination)):
        unaddressed = _resting_on_no_address(cluster, flow, chosen, first.allowed)
        return first.model_copy(update={"unaddressed": unaddressed}) if unaddressed else first
    differing = next((one for one in explanations if one.allowed != first.allowed), None)
    return first.model_copy(
        update={
            "addresses": chosen.pod_cidrs,
            "address_dependent": None if differing is None else differing.decision,
        }
    )


def _resting_on_no_address(
    cluster: Cluster, flow: Flow, settings: Settings, allowed: bool
) -> tuple[PodEndpoint, ...]:
    """The ends without a known address that would turn the verdict (`allowed` without
    them) at some address (`addressed_flows`): those the first such flow gives one."""
    for addressed in addressed_flows(cluster, flow, settings):
        if (
            any(evaluate(cluster, one, settings).allowed for one in placements(addressed))
            != allowed
        ):
            return tuple(
                end
                for end, placed in (
                    (flow.source, addressed.source),
                    (flow.destination, addressed.destination),
                )
                if isinstance(end, PodEndpoint) and placed.ip != end.ip
            )
    return ()


def _explain_placed(cluster: Cluster, flow: Flow, settings: Settings) -> Explanation:
    """The flow's verdict on each placement its ends can have, at the flow's addresses."""
    placed = placements(flow)
    first, *others = (evaluate(cluster, one, settings) for one in placed)
    undecided = [one for one in placed if len(possible_verdicts(cluster, one, settings)) > 1]
    order_dependent = sorted(
        {
            match.rule.policy
            for one in undecided
            for options in open_choices(cluster, one)
            for match in options
        },
        key=lambda ref: (ref.kind, ref.name),
    )
    explanation = Explanation(
        decision=first,
        same_node=others[0] if others else None,
        order_dependent=tuple(order_dependent),
    )
    deciding = objects_deciding(cluster, flow, can_allow=not explanation.allowed)
    return explanation.model_copy(update={"may_be_decided_by": tuple(deciding)})


def open_choices(cluster: Cluster, flow: Flow) -> list[list[AdminMatch]]:
    """Per tier and direction where the API leaves it open, the matches that may come first
    (none without admin policies: the diff asks this of every flow it replays)."""
    options: list[list[AdminMatch]] = []
    if not cluster.admin_policies:
        return options
    for tier in Tier:
        for direction in Direction:
            firsts = [m for _, m in possible_firsts(tier_matches(cluster, tier, flow, direction))]
            if len(firsts) > 1:
                options.append(firsts)
    return options


def _choices(cluster: Cluster, flow: Flow) -> list[TierChoice]:
    """One chooser per way to pick, in each tier and direction, the deciding match among
    those some order puts first (`possible_firsts`); one chooser when the order is defined."""
    options = open_choices(cluster, flow)
    choosers: list[TierChoice] = [walk_order]
    for picks in product(*options) if options else ():
        chosen = {pick.rule: pick for pick in picks}

        def choose(
            matches: list[tuple[AdminPolicy, AdminMatch]],
            chosen: dict[RuleRef, AdminMatch] = chosen,
        ) -> AdminMatch | None:
            firsts = possible_firsts(matches)
            picked = [m for _, m in firsts if m.rule in chosen]
            return picked[0] if picked else walk_order(firsts)

        choosers.append(choose)
    return choosers


def possible_verdicts(
    cluster: Cluster, flow: Flow, settings: Settings | None = None
) -> dict[bool, FlowDecision]:
    """The flow's verdict under every order of its tiers' policies the API allows (equal
    priorities, or policies of both API versions, have no defined order), with a decision
    that reaches it: two entries when the order decides the flow."""
    verdicts: dict[bool, FlowDecision] = {}
    for choose in _choices(cluster, flow):
        decision = evaluate(cluster, flow, settings, choose)
        verdicts.setdefault(decision.allowed, decision)
    return verdicts
