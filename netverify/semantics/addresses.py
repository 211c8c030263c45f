"""The addresses a pod without a known one may use, as far as the policies can tell them
apart.

With `podCIDRs` set, such a pod has some address in them (`docs/settings.md`), and an
`ipBlock` or `networks` peer may match it or not depending on which. The CIDRs the policies
mention cut the pod CIDRs into stretches whose addresses every peer treats alike, so
deciding a flow at one address per stretch decides it at every address the pod may have.
Without `podCIDRs` the pod keeps no address, and matches no such peer.
"""

from collections.abc import Iterable
from ipaddress import ip_address

from netverify.model import (
    Cluster,
    Endpoint,
    Flow,
    IPAddress,
    IPNetwork,
    PodEndpoint,
    Settings,
)


def mentioned_networks(cluster: Cluster) -> set[IPNetwork]:
    """Every CIDR an `ipBlock` (with its `except`s) or an admin `networks` peer names."""
    networks: set[IPNetwork] = set()
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is not None:
                    networks.add(peer.ip_block.cidr)
                    networks.update(peer.ip_block.excepts)
    for admin in cluster.admin_policies:
        for admin_rule in (*admin.ingress, *admin.egress):
            for admin_peer in admin_rule.peers:
                networks.update(admin_peer.networks)
    return networks


def given_an_address(endpoint: Endpoint, settings: Settings) -> bool:
    """Whether the endpoint is a pod without a known address that `podCIDRs` give one."""
    return (
        isinstance(endpoint, PodEndpoint)
        and endpoint.ip is None
        and not endpoint.pod.host_network
        and bool(settings.pod_cidrs)
    )


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
