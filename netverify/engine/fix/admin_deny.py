"""The Admin tier candidate: a new ClusterNetworkPolicy denying a forbid's flows ahead of
every Admin tier policy. It is proposed where admin tiers are in use, or for node-local flows,
which no NetworkPolicy can block."""

from collections.abc import Iterator
from ipaddress import ip_network

from netverify.engine.fix.patterns import matching_ports, namespaces_of, pods_selector, unique_name
from netverify.model import (
    ANP_API_VERSION,
    CNP_API_VERSION,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    Direction,
    Invariant,
    LabelSelector,
    NamespacedPods,
    PolicyPort,
    PortRange,
    Tier,
)
from netverify.model.fix import Candidate, ChangeKind, PolicyEdit
from netverify.model.flow import Endpoint, Flow, PodEndpoint
from netverify.model.invariants import EndpointPattern
from netverify.model.objects import MAX_PORT

ADMIN_DENY_PRIORITY = 100
"""The priority of a new Admin tier Deny when the cluster has no Admin tier policy (any
would do; this leaves room before and after it). With Admin tier policies, the new Deny
comes just before the first of those with rules on its side."""


def admin_deny(
    cluster: Cluster, invariant: Invariant, flow: Flow, direction: Direction
) -> Iterator[Candidate]:
    """A new Admin tier ClusterNetworkPolicy denying the invariant's flows on one side,
    before every Admin tier policy with rules on that side (none when one of them has
    priority 0); an AdminNetworkPolicy when those (else all Admin tier policies) are
    v1alpha1, which come in no defined order with a ClusterNetworkPolicy.

    None either when the API would not order the Deny before every Admin tier policy with
    rules on its side (the others decide nothing there): with policies of both API versions
    among them, the API orders policies of one version only, so a Deny of either version
    has no defined order with the other version's. Its proof could then only end unknown
    (it blocks the flows only in the orders the API leaves open where it comes first), so
    proposing it would spend a proof on a candidate never kept."""
    ingress = direction is Direction.INGRESS
    own, other = (flow.destination, flow.source) if ingress else (flow.source, flow.destination)
    own_pattern, other_pattern = (
        (invariant.destination, invariant.source)
        if ingress
        else (invariant.source, invariant.destination)
    )
    admin_tier = [policy for policy in cluster.admin_policies if policy.tier is Tier.ADMIN]
    deciding = [policy for policy in admin_tier if policy.rules(direction)]
    priority = _priority(deciding, admin_tier)
    # NOTE: the API orders policies of one version only: among v1alpha1 Admin tier policies
    # a new ClusterNetworkPolicy has no defined place, whatever its priority.
    versions = {policy.api_version for policy in deciding or admin_tier}
    kind = (
        (ANP_API_VERSION, "AdminNetworkPolicy")
        if versions == {ANP_API_VERSION}
        else (CNP_API_VERSION, "ClusterNetworkPolicy")
    )
    peers = _admin_peers(other_pattern, other, ingress)
    if priority is None or own_pattern.ip is not None or not peers:
        return
    names = {policy.name for policy in cluster.admin_policies}
    name = unique_name(f"deny-{invariant.name}", names)
    rule = AdminRule(
        name=invariant.name[:63],
        action=AdminAction.DENY,
        peers=peers,
        ports=tuple(_numbered(port) for port in matching_ports(invariant.ports)),
    )
    policy = AdminPolicy.model_validate(
        {
            "api_version": kind[0],
            "kind": kind[1],
            "name": name,
            "tier": Tier.ADMIN,
            "priority": priority,
            "subject": _admin_subject(own_pattern, own),
            "ingress" if ingress else "egress": (rule,),
        }
    )
    if not all(policy.precedes(existing) for existing in deciding):
        return
    edit = PolicyEdit(before=None, after=policy, direction=direction, rule_index=0)
    yield Candidate(
        invariant=invariant.name,
        change=ChangeKind.ADD_ADMIN_DENY,
        edits=(edit,),
        why=(
            f"an Admin tier Deny at priority {priority}, {_placement(deciding, direction)}, "
            f"blocks the forbidden flows at {direction.value.lower()}, whatever "
            "NetworkPolicies say"
        ),
    )


def _priority(deciding: list[AdminPolicy], admin_tier: list[AdminPolicy]) -> int | None:
    """The new Deny's priority: just before the first Admin tier policy with rules on its
    side (None when that one has priority 0). With none, before the first Admin tier policy
    but at 0 at least (it need not come before policies deciding nothing on its side), or
    ADMIN_DENY_PRIORITY in an empty tier."""
    priorities = [
        policy.priority for policy in deciding or admin_tier if policy.priority is not None
    ]
    if not priorities:
        return ADMIN_DENY_PRIORITY
    first = min(priorities)
    if deciding:
        return first - 1 if first > 0 else None
    return max(first - 1, 0)


def _placement(deciding: list[AdminPolicy], direction: Direction) -> str:
    """Where the Deny comes in the Admin tier as the API orders it: before the policies with
    rules on its side (all of its own API version); a policy of the other version, which has
    no defined order with it, decides nothing there."""
    side = direction.value.lower()
    if deciding:
        return f"before every Admin tier policy with {side} rules"
    return f"where no Admin tier policy has {side} rules"


def _admin_subject(pattern: EndpointPattern, endpoint: Endpoint) -> AdminSubject:
    """The subject selecting exactly the pattern's pods."""
    namespaces = namespaces_of(pattern)
    pods = pods_selector(pattern, endpoint)
    if pods is None:
        return AdminSubject(namespaces=namespaces)
    return AdminSubject(pods=NamespacedPods(namespace_selector=namespaces, pod_selector=pods))


def _admin_peers(
    pattern: EndpointPattern, endpoint: Endpoint, ingress: bool
) -> tuple[AdminPeer, ...]:
    """Peers matching the pattern's endpoints; an address range only as an egress peer
    (ingress peers of admin policies select pods only), and a pattern of every endpoint as
    every pod, and every address for egress. A host-network pod is its node to admin
    policies: egress to it is egress to every node (the pattern says which pods, not
    which nodes, so no narrower peer is sure to match it), and ingress from it has no peer."""
    if isinstance(endpoint, PodEndpoint) and endpoint.pod.host_network:
        return () if ingress else (AdminPeer(nodes=LabelSelector()),)
    if pattern.ip is not None:
        return () if ingress else (AdminPeer(networks=(pattern.ip,)),)
    if not pattern.pods_only:
        everywhere = () if ingress else (AdminPeer(networks=_EVERY_ADDRESS),)
        return (AdminPeer(namespaces=LabelSelector()), *everywhere)
    namespaces = namespaces_of(pattern)
    pods = pods_selector(pattern, endpoint)
    if pods is None:
        return (AdminPeer(namespaces=namespaces),)
    return (AdminPeer(pods=NamespacedPods(namespace_selector=namespaces, pod_selector=pods)),)


_EVERY_ADDRESS = (ip_network("0.0.0.0/0"), ip_network("::/0"))


def _numbered(port: PolicyPort) -> PolicyPort:
    """Admin policy ports always name a number, a range or a name: "every TCP port" is the
    range of every port."""
    if port.named_port is None and port.port_range is None:
        return port.model_copy(update={"port_range": PortRange(start=1, end=MAX_PORT)})
    return port
