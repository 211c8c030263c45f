"""What each piece of an admin policy (ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy) matches for one concrete flow, and which rule of a tier decides.

Reference: the doc comments of kubernetes-sigs/network-policy-api `apis/v1alpha2` and
`apis/v1alpha1`.
"""

from collections.abc import Iterable

from netverify.model import (
    AdminMatch,
    AdminPeer,
    AdminPolicy,
    AdminSubject,
    Cluster,
    Direction,
    Endpoint,
    Flow,
    LabelSelector,
    NamespacedPods,
    Node,
    PodEndpoint,
    RuleRef,
    Tier,
)
from netverify.semantics.matching import governed_pod, port_matches, selector_matches


def _namespaces_or_pods(
    namespaces: LabelSelector | None, pods: NamespacedPods | None, endpoint: Endpoint
) -> bool:
    """`namespaces` (every pod of the selected namespaces) or `pods` (namespace AND pod
    selectors), whichever is set; never a host-network pod or an address."""
    pod = governed_pod(endpoint)
    if pod is None:
        return False
    if namespaces is not None:
        return selector_matches(namespaces, pod.namespace.labels)
    assert pods is not None
    return selector_matches(pods.namespace_selector, pod.namespace.labels) and (
        selector_matches(pods.pod_selector, pod.pod.labels)
    )


def subject_selects(subject: AdminSubject, endpoint: Endpoint) -> bool:
    """Whether the subject selects the endpoint.

    NOTE: host-network pods are never subjects (and addresses never are)."""
    return _namespaces_or_pods(subject.namespaces, subject.pods, endpoint)


def has_nodes_peers(cluster: Cluster, selective: bool = False) -> bool:
    """Whether some admin rule has a `nodes` peer (host-network pods then need their node);
    with `selective`, only one that does not select every node (only those depend on which
    node a host-network pod runs on)."""
    return any(
        peer.nodes is not None and not (selective and selects_every_node(peer.nodes))
        for policy in cluster.admin_policies
        for rule in (*policy.ingress, *policy.egress)
        for peer in rule.peers
    )


def selects_every_node(selector: LabelSelector) -> bool:
    """An empty `nodes` selector: every node, so every host-network pod, whichever node it
    runs on."""
    return not selector.match_labels and not selector.match_expressions


def node_of(cluster: Cluster, endpoint: Endpoint) -> Node | None:
    """The loaded node an endpoint's traffic comes from or goes to: a host-network pod's node
    (by `spec.nodeName`, else by its address), or the node that has an external address.
    None for ordinary pods and for addresses no loaded node has."""
    if isinstance(endpoint, PodEndpoint):
        if not endpoint.pod.host_network:
            return None
        if endpoint.pod.node_name is not None:
            return cluster.node(endpoint.pod.node_name)
    return None if endpoint.ip is None else cluster.node_at(endpoint.ip)


def node_is_unknown(cluster: Cluster, endpoint: Endpoint) -> bool:
    """A host-network pod whose node netverify cannot tell (no `nodeName` of a loaded node,
    no loaded node's address): it may run on any node, so a `nodes` peer may or may not
    match it."""
    return (
        isinstance(endpoint, PodEndpoint)
        and endpoint.pod.host_network
        and node_of(cluster, endpoint) is None
    )


def admin_peer_matches(cluster: Cluster, peer: AdminPeer, endpoint: Endpoint) -> bool:
    """Whether one `from`/`to` entry matches the endpoint.

    NOTE: `namespaces`/`pods` never match host-network pods; `nodes` matches the addresses
    of the selected nodes, so host-network pods on them too; `networks` matches every
    address, pods' and nodes' included ("if you Deny 0.0.0.0/0, that will deny all IPv4
    pod-to-pod traffic as well"); `domainNames` never matches a concrete flow here, as the
    addresses a name resolves to are unknown (prove reports such verdicts as `unknown`)."""
    if peer.networks:
        return endpoint.ip is not None and any(endpoint.ip in net for net in peer.networks)
    if peer.nodes is not None:
        node = node_of(cluster, endpoint)
        if node is None:
            return selects_every_node(peer.nodes) and node_is_unknown(cluster, endpoint)
        return selector_matches(peer.nodes, node.labels)
    if peer.domain_names:
        return False
    return _namespaces_or_pods(peer.namespaces, peer.pods, endpoint)


def first_match(
    cluster: Cluster, policy: AdminPolicy, flow: Flow, direction: Direction
) -> AdminMatch | None:
    """The first rule of `policy` (in written order) that matches the flow in `direction`,
    when the policy's subject is the flow's end on that side."""
    subject, peer = (
        (flow.destination, flow.source)
        if direction is Direction.INGRESS
        else (flow.source, flow.destination)
    )
    if not subject_selects(policy.subject, subject):
        return None
    for index, rule in enumerate(policy.rules(direction)):
        if not any(admin_peer_matches(cluster, entry, peer) for entry in rule.peers):
            continue
        if rule.ports and not any(
            port_matches(entry, flow.protocol, flow.port, flow.destination) for entry in rule.ports
        ):
            continue
        return AdminMatch(
            rule=RuleRef(policy=policy.ref, direction=direction, index=index),
            name=rule.name,
            action=rule.action,
        )
    return None


def tier_matches(
    cluster: Cluster, tier: Tier, flow: Flow, direction: Direction
) -> list[tuple[AdminPolicy, AdminMatch]]:
    """Every policy of the tier with a rule matching the flow, in netverify's walk order."""
    found = (
        (policy, first_match(cluster, policy, flow, direction)) for policy in cluster.tier(tier)
    )
    return [(policy, match) for policy, match in found if match is not None]


def possible_firsts(
    matches: Iterable[tuple[AdminPolicy, AdminMatch]],
) -> list[tuple[AdminPolicy, AdminMatch]]:
    """The matches that some order the API allows puts first: those no other matching
    policy must precede (lower priority, same API version). With distinct priorities in one
    API version this is exactly one; equal priorities, or policies of both API versions,
    leave several, and upstream may apply any of them."""
    listed = list(matches)
    return [
        (policy, match)
        for policy, match in listed
        if not any(other.precedes(policy) for other, _ in listed)
    ]
