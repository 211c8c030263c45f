"""The addresses a pod without a known one may use, as far as the policies can tell them
apart.

With `podCIDRs` set, such a pod has some address in them (`docs/settings.md`), and an
`ipBlock` or `networks` peer may match it or not depending on which. The CIDRs the policies
mention cut the pod CIDRs into stretches whose addresses every peer treats alike, so
deciding a flow at one address per stretch decides it at every address the pod may have.
Without `podCIDRs` the pod keeps no address, and matches no such peer; `explain` says where
its verdict rests on that, by deciding the flow at one address per stretch of the whole
address space that the peers which could match the pod cut.
"""

from collections.abc import Iterable
from ipaddress import ip_address, ip_network

from netverify.model import (
    AdminPolicy,
    Cluster,
    Direction,
    Endpoint,
    Flow,
    IPAddress,
    IPNetwork,
    NetworkPolicy,
    PodEndpoint,
    Settings,
)
from netverify.semantics.admin import subject_selects
from netverify.semantics.matching import policy_selects

EVERY_ADDRESS = (ip_network("0.0.0.0/0"), ip_network("::/0"))
"""Where a pod without a known address may be when no `podCIDRs` say where."""


def mentioned_networks(cluster: Cluster) -> set[IPNetwork]:
    """Every CIDR an `ipBlock` (with its `except`s) or an admin `networks` peer names."""
    return _networks_named(cluster.policies, cluster.admin_policies, tuple(Direction))


def _networks_named(
    policies: Iterable[NetworkPolicy],
    admin_policies: Iterable[AdminPolicy],
    directions: tuple[Direction, ...],
) -> set[IPNetwork]:
    """Every CIDR an `ipBlock` (with its `except`s) of `policies` or a `networks` peer of
    `admin_policies` names in their rules of `directions`."""
    networks: set[IPNetwork] = set()
    for policy in policies:
        for direction in directions:
            for rule in policy.rules(direction):
                for peer in rule.peers:
                    if peer.ip_block is not None:
                        networks.add(peer.ip_block.cidr)
                        networks.update(peer.ip_block.excepts)
    for admin in admin_policies:
        for direction in directions:
            for admin_rule in admin.rules(direction):
                for admin_peer in admin_rule.peers:
                    networks.update(admin_peer.networks)
    return networks


def _unaddressed_pod(endpoint: Endpoint) -> bool:
    """A pod without a known address that is not a hostNetwork pod (whose address is its
    node's, outside the pod CIDRs)."""
    return (
        isinstance(endpoint, PodEndpoint) and endpoint.ip is None and not endpoint.pod.host_network
    )


def given_an_address(endpoint: Endpoint, settings: Settings) -> bool:
    """Whether the endpoint is a pod without a known address that `podCIDRs` give one."""
    return _unaddressed_pod(endpoint) and bool(settings.pod_cidrs)


class AddressChoices:
    """The addresses a pod without a known one is tried at, for one `settings` and the
    `networks` the policies name: worked out once, as lint tries every existing pod."""

    def __init__(self, settings: Settings, networks: set[IPNetwork]) -> None:
        self.settings = settings
        self._addresses = {
            last: tuple(
                {
                    ip_address(high if last else low): None
                    for pod_cidr in settings.pod_cidrs
                    for low, high in _stretches(pod_cidr, networks)
                }
            )
            for last in (False, True)
        }

    def of(self, endpoint: Endpoint, last: bool = False) -> tuple[Endpoint, ...]:
        """The endpoint at one address per stretch of the pod CIDRs that the networks do
        not cut (the stretch's first address, or its `last`, so that two ends in one
        stretch read apart); the endpoint alone when its address is known, when it is no
        pod or a hostNetwork pod (the node's address), or when no `podCIDRs` are set."""
        if not given_an_address(endpoint, self.settings):
            return (endpoint,)
        return tuple(endpoint.model_copy(update={"ip": ip}) for ip in self._addresses[last])

    def flows(self, flow: Flow) -> tuple[Flow, ...]:
        """The flow with its ends at every pair of addresses `of` gives them (the source at
        the first address of each stretch, the destination at the last): deciding each
        decides the flow at every address its ends may have; the flow alone when no end is
        given an address."""
        return tuple(
            flow.model_copy(update={"source": source, "destination": destination})
            for source in self.of(flow.source)
            for destination in self.of(flow.destination, last=True)
        )


def _taken_unaddressed(endpoint: Endpoint, settings: Settings) -> bool:
    """Whether the endpoint is a pod without a known address that no `podCIDRs` give one:
    it then matches no ipBlock or networks peer, wherever the pod really is."""
    return _unaddressed_pod(endpoint) and not settings.pod_cidrs


def _facing_networks(
    cluster: Cluster, flow: Flow, direction: Direction, settings: Settings
) -> set[IPNetwork]:
    """The CIDRs of the peers that could match the flow's other end on its `direction` side
    (the source on the ingress side, the destination on the egress side): the ipBlocks,
    when they match pods, of the NetworkPolicies that select the side's pod, and the
    networks of the admin policies whose subject it is. Only these can decide that side
    by the other end's address."""
    subject = flow.destination if direction is Direction.INGRESS else flow.source
    if not isinstance(subject, PodEndpoint):
        return set()
    policies = [
        policy
        for policy in cluster.policies_in(subject.pod.namespace)
        if settings.ip_block_matches_pods
        and direction in policy.policy_types
        and policy_selects(policy, subject)
    ]
    admin_policies = [
        admin for admin in cluster.admin_policies if subject_selects(admin.subject, subject)
    ]
    return _networks_named(policies, admin_policies, (direction,))


def addressed_flows(cluster: Cluster, flow: Flow, settings: Settings) -> list[Flow]:
    """The flow with its ends that are `_taken_unaddressed` given addresses: such an end at
    one address per stretch of the address space that the CIDRs `_facing_networks` it cut,
    the source alone first, then the destination alone, then both. Deciding each tells
    whether the verdict rests on those ends having no address; empty when no end is such a
    pod or no peer could match one."""
    sources = _everywhere(cluster, flow, Direction.INGRESS, settings)
    destinations = _everywhere(cluster, flow, Direction.EGRESS, settings)
    return [
        *(flow.model_copy(update={"source": source}) for source in sources),
        *(flow.model_copy(update={"destination": destination}) for destination in destinations),
        *(
            flow.model_copy(update={"source": source, "destination": destination})
            for source in sources
            for destination in destinations
        ),
    ]


def _everywhere(
    cluster: Cluster, flow: Flow, direction: Direction, settings: Settings
) -> tuple[Endpoint, ...]:
    """The flow's end that the `direction` side's peers match (the source for ingress), at
    the first address of each stretch of its family's address space that the networks
    facing it cut; none when it is not `_taken_unaddressed` or no network faces it."""
    end = flow.source if direction is Direction.INGRESS else flow.destination
    if not _taken_unaddressed(end, settings):
        return ()
    networks = _facing_networks(cluster, flow, direction, settings)
    return tuple(
        end.model_copy(update={"ip": ip_address(low)})
        for space in EVERY_ADDRESS
        if any(network.version == space.version for network in networks)
        for low, _ in _stretches(space, networks)
    )


def _stretches(pod_cidr: IPNetwork, networks: set[IPNetwork]) -> list[tuple[int, int]]:
    """The pod CIDR cut where a network of its family starts or ends inside it: the
    inclusive intervals, as integers, whose addresses are in the same networks."""
    low, high = int(pod_cidr.network_address), int(pod_cidr.broadcast_address)
    cuts = {low}
    for network in networks:
        if network.version != pod_cidr.version:
            continue
        start, after = int(network.network_address), int(network.broadcast_address) + 1
        cuts.update(cut for cut in (start, after) if low < cut <= high)
    starts = sorted(cuts)
    return [(start, end - 1) for start, end in zip(starts, [*starts[1:], high + 1], strict=True)]


def alike_address(pod_cidrs: Iterable[IPNetwork], networks: set[IPNetwork]) -> IPAddress | None:
    """The first address of the pod CIDRs when `networks` treat all their addresses alike
    (each stretch in the same networks), so that it stands for every address a pod without
    a known one may have; None when they tell some apart, or there are no pod CIDRs."""
    firsts = [ip_address(low) for cidr in pod_cidrs for low, _ in _stretches(cidr, networks)]
    if not firsts:
        return None
    memberships = {tuple(first in network for network in networks) for first in firsts}
    return firsts[0] if len(memberships) == 1 else None
