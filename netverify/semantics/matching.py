"""What each piece of a NetworkPolicy matches, for one concrete endpoint or port.

Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from collections.abc import Iterable, Mapping

from netverify.model import (
    MAX_PORT,
    Endpoint,
    IPAddress,
    IPBlock,
    LabelRequirement,
    LabelSelector,
    NetworkPolicy,
    Operator,
    PodEndpoint,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
    Settings,
)


def requirement_matches(requirement: LabelRequirement, labels: Mapping[str, str]) -> bool:
    """One `matchExpressions` entry.

    NOTE: `NotIn` and `DoesNotExist` match objects that do not have the key at all.
    """
    value = labels.get(requirement.key)
    match requirement.operator:
        case Operator.IN:
            return value is not None and value in requirement.values
        case Operator.NOT_IN:
            return value is None or value not in requirement.values
        case Operator.EXISTS:
            return value is not None
        case Operator.DOES_NOT_EXIST:
            return value is None


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """All of `matchLabels` and all of `matchExpressions`; the empty selector matches all."""
    return all(labels.get(key) == value for key, value in selector.match_labels.items()) and all(
        requirement_matches(requirement, labels) for requirement in selector.match_expressions
    )


def governed_pod(endpoint: Endpoint) -> PodEndpoint | None:
    """The endpoint as a pod that NetworkPolicy can select, or None (external, hostNetwork)."""
    if isinstance(endpoint, PodEndpoint) and not endpoint.pod.host_network:
        return endpoint
    return None


def policy_selects(policy: NetworkPolicy, endpoint: Endpoint) -> bool:
    """Whether `spec.podSelector` of the policy selects the endpoint (its own namespace only)."""
    pod = governed_pod(endpoint)
    return (
        pod is not None
        and pod.pod.namespace == policy.namespace
        and selector_matches(policy.pod_selector, pod.pod.labels)
    )


def ip_block_contains(block: IPBlock, ip: IPAddress) -> bool:
    """In `cidr` and in no `except` (an address of another family is in neither)."""
    return ip in block.cidr and not any(ip in excepted for excepted in block.excepts)


def peer_matches(
    peer: PolicyPeer, policy_namespace: str, endpoint: Endpoint, settings: Settings
) -> bool:
    """Whether one `from`/`to` entry of a policy in `policy_namespace` matches the endpoint."""
    if peer.ip_block is not None:
        # NOTE: upstream conformance requires ipBlock to match pod IPs; Cilium does not.
        if isinstance(endpoint, PodEndpoint) and not settings.ip_block_matches_pods:
            return False
        return endpoint.ip is not None and ip_block_contains(peer.ip_block, endpoint.ip)
    pod = governed_pod(endpoint)
    if pod is None:
        return False
    if peer.namespace_selector is None:
        in_namespace = pod.pod.namespace == policy_namespace
    else:
        in_namespace = selector_matches(peer.namespace_selector, pod.namespace.labels)
    pod_selected = peer.pod_selector is None or selector_matches(peer.pod_selector, pod.pod.labels)
    return in_namespace and pod_selected


def rule_peers_match(
    rule: PolicyRule, policy_namespace: str, endpoint: Endpoint, settings: Settings
) -> bool:
    """Whether a rule's `from`/`to` admits the endpoint: no peers admit every endpoint."""
    return not rule.peers or any(
        peer_matches(peer, policy_namespace, endpoint, settings) for peer in rule.peers
    )


NO_PEER_MATCHES = -1
"""`first_matching_peer` of a rule whose `from`/`to` admits nothing of the endpoint."""


def first_matching_peer(
    rule: PolicyRule, policy_namespace: str, endpoint: Endpoint, settings: Settings
) -> int | None:
    """The index of the rule's first `from`/`to` entry that matches the endpoint; None when
    the rule has no entries (it admits every endpoint); `NO_PEER_MATCHES` when none does."""
    if not rule.peers:
        return None
    return next(
        (
            index
            for index, peer in enumerate(rule.peers)
            if peer_matches(peer, policy_namespace, endpoint, settings)
        ),
        NO_PEER_MATCHES,
    )


def port_matches(
    policy_port: PolicyPort, protocol: Protocol, port: int, destination: Endpoint
) -> bool:
    """Whether one `ports` entry admits `protocol`/`port` to the destination.

    NOTE: a named port is resolved on the destination pod's containerPorts with the
    entry's protocol, for ingress and egress rules alike; it never matches an external
    destination.
    """
    if policy_port.protocol != protocol:
        return False
    if policy_port.port_range is not None:
        return policy_port.port_range.start <= port <= policy_port.port_range.end
    if policy_port.named_port is not None:
        if not isinstance(destination, PodEndpoint):
            return False
        return any(
            container_port.name == policy_port.named_port
            and container_port.protocol == protocol
            and container_port.port == port
            for container_port in destination.pod.ports
        )
    return True


def port_cuts(ranges: Iterable[PortRange], numbers: Iterable[int]) -> list[int]:
    """Where `port_matches` can change along the ports, in order, from 1 to one past
    `MAX_PORT`: where one of the rules' `ranges` starts or ends, and around each container
    port number a named port may resolve to. Every port between two cuts is decided alike,
    so one port per segment stands for the segment."""
    cuts = {1, MAX_PORT + 1}
    for port_range in ranges:
        cuts |= {port_range.start, port_range.end + 1}
    for number in numbers:
        cuts |= {number, number + 1}
    return sorted(cut for cut in cuts if 1 <= cut <= MAX_PORT + 1)
