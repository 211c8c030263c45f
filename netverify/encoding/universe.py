"""The finite universe the encoding works over.

Labels are symbolic: each label key that some selector or invariant mentions becomes one
integer variable per endpoint, whose value is a code: `ABSENT`, one code per mentioned
value, or `OTHER` ("some value nobody mentions"). Selectors cannot tell two unmentioned
values apart, so this is exact. Addresses become integers on one line: IPv4 in
[0, 2**32), IPv6 in [2**128, 2**129), so that a CIDR is an interval and families never mix.
"""

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_network

from netverify.model import (
    NAMESPACE_NAME_LABEL,
    AdminPeer,
    AdminPolicy,
    Cluster,
    EndpointPattern,
    Invariant,
    IPAddress,
    IPNetwork,
    LabelSelector,
    NamespacedPods,
    PortPattern,
)

ABSENT = 0
"""The code of a label key an object does not carry."""

IPV6_OFFSET = 2**128
IP_SPACE_END = 2**129


def ip_number(ip: IPAddress) -> int:
    """The address as a point on the encoding's line of addresses."""
    return int(ip) if isinstance(ip, IPv4Address) else IPV6_OFFSET + int(ip)


def ip_from_number(number: int) -> IPAddress:
    """The inverse of `ip_number`."""
    if number < IPV6_OFFSET:
        return IPv4Address(number)
    return IPv6Address(number - IPV6_OFFSET)


def network_interval(network: IPNetwork) -> tuple[int, int]:
    """The inclusive interval of the network's addresses on the line."""
    low = ip_number(network.network_address)
    return low, low + network.num_addresses - 1


IPV4_INTERVAL = network_interval(IPv4Network("0.0.0.0/0"))


@dataclass
class LabelUniverse:
    """Mentioned keys and, per key, the mentioned values (code i+1 for values[i])."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def mention(self, key: str, value: str | None = None) -> None:
        known = self.values.setdefault(key, [])
        if value is not None and value not in known:
            known.append(value)

    def mention_selector(self, selector: LabelSelector | None) -> None:
        if selector is None:
            return
        for key, value in selector.match_labels.items():
            self.mention(key, value)
        for requirement in selector.match_expressions:
            self.mention(requirement.key)
            for value in requirement.values:
                self.mention(requirement.key, value)

    def freeze(self) -> None:
        """Sort keys and values so that codes do not depend on input order."""
        self.values = {key: sorted(self.values[key]) for key in sorted(self.values)}

    @property
    def keys(self) -> list[str]:
        return list(self.values)

    def other(self, key: str) -> int:
        """The code of every value of `key` that nothing mentions."""
        return len(self.values[key]) + 1

    def code(self, key: str, value: str | None) -> int:
        """The code of a value (None: the key is absent)."""
        if value is None:
            return ABSENT
        known = self.values[key]
        return known.index(value) + 1 if value in known else self.other(key)

    def codes(self, labels: Mapping[str, str]) -> tuple[int, ...]:
        """The codes of an object's labels, one per universe key."""
        return tuple(self.code(key, labels.get(key)) for key in self.values)

    def value(self, key: str, code: int) -> str | None:
        """A concrete value with this code (a fresh one for OTHER; None for ABSENT)."""
        if code == ABSENT:
            return None
        known = self.values[key]
        if code <= len(known):
            return known[code - 1]
        return _fresh_value(known)


def _fresh_value(taken: Iterable[str]) -> str:
    """A valid label value that differs from every value in `taken`."""
    taken_set = set(taken)
    index = 0
    while (candidate := f"other{index}" if index else "other") in taken_set:
        index += 1
    return candidate


@dataclass
class Universe:
    """Everything finite the encoding needs: label keys and values, named ports, CIDRs."""

    pod_labels: LabelUniverse
    namespace_labels: LabelUniverse
    port_names: list[str]
    networks: list[IPNetwork]
    """Every CIDR a policy, invariant or setting mentions (for classing pod addresses)."""

    @cached_property
    def segment_starts(self) -> list[int]:
        """Where the elementary address intervals start: the line cut at every CIDR's ends.

        Every mentioned CIDR is a union of whole segments, so two addresses in one segment
        are in the same CIDRs: no policy or invariant can tell them apart.
        """
        cuts = {0, IP_SPACE_END}
        for network in self.networks:
            low, high = network_interval(network)
            cuts |= {low, high + 1}
        return sorted(cuts)

    def mentions(self) -> tuple[object, ...]:
        """All the universe says, as one hashable value: universes with equal mentions give
        the same codes, port names and segments."""
        return (
            tuple((key, tuple(values)) for key, values in self.pod_labels.values.items()),
            tuple((key, tuple(values)) for key, values in self.namespace_labels.values.items()),
            tuple(self.port_names),
            tuple(self.networks),
        )

    def segment_of(self, ip: IPAddress) -> int:
        """The index of the elementary interval that holds the address."""
        return bisect_right(self.segment_starts, ip_number(ip)) - 1

    def segment_interval(self, segment: int) -> tuple[int, int]:
        """The inclusive interval of an elementary segment."""
        return self.segment_starts[segment], self.segment_starts[segment + 1] - 1


def build_universe(
    clusters: Iterable[Cluster], invariants: Iterable[Invariant], pod_cidrs: Iterable[IPNetwork]
) -> Universe:
    """Collect what the clusters' namespaces and policies and the invariants mention."""
    pod_labels = LabelUniverse()
    namespace_labels = LabelUniverse()
    port_names: set[str] = set()
    networks: set[IPNetwork] = set(pod_cidrs)
    namespace_labels.mention(NAMESPACE_NAME_LABEL)
    clusters = tuple(clusters)
    for namespace in (ns for cluster in clusters for ns in cluster.namespaces):
        namespace_labels.mention(NAMESPACE_NAME_LABEL, namespace.name)
    for policy in (policy for cluster in clusters for policy in cluster.policies):
        namespace_labels.mention(NAMESPACE_NAME_LABEL, policy.namespace)
        pod_labels.mention_selector(policy.pod_selector)
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                pod_labels.mention_selector(peer.pod_selector)
                namespace_labels.mention_selector(peer.namespace_selector)
                if peer.ip_block is not None:
                    networks.add(peer.ip_block.cidr)
                    networks.update(peer.ip_block.excepts)
            port_names.update(port.named_port for port in rule.ports if port.named_port)
    for admin in (admin for cluster in clusters for admin in cluster.admin_policies):
        _mention_admin_policy(admin, pod_labels, namespace_labels, networks, port_names)
    for cluster in clusters:
        if any(peer.nodes is not None for peer in _admin_peers(cluster)):
            # Every node address is a segment of its own: a `nodes` peer tells them apart.
            networks.update(ip_network(a) for node in cluster.nodes for a in node.addresses)
    for invariant in invariants:
        for pattern in (invariant.source, invariant.destination):
            _mention_pattern(pattern, pod_labels, namespace_labels, networks)
        port_names.update(_named_ports(invariant.ports))
    pod_labels.freeze()
    namespace_labels.freeze()
    return Universe(
        pod_labels=pod_labels,
        namespace_labels=namespace_labels,
        port_names=sorted(port_names),
        networks=sorted(networks, key=lambda network: (network.version, network)),
    )


def _admin_peers(cluster: Cluster) -> Iterator[AdminPeer]:
    for policy in cluster.admin_policies:
        for rule in (*policy.ingress, *policy.egress):
            yield from rule.peers


def _mention_pods(
    pods: NamespacedPods | None, pod_labels: LabelUniverse, namespace_labels: LabelUniverse
) -> None:
    if pods is not None:
        pod_labels.mention_selector(pods.pod_selector)
        namespace_labels.mention_selector(pods.namespace_selector)


def _mention_admin_policy(
    policy: AdminPolicy,
    pod_labels: LabelUniverse,
    namespace_labels: LabelUniverse,
    networks: set[IPNetwork],
    port_names: set[str],
) -> None:
    namespace_labels.mention_selector(policy.subject.namespaces)
    _mention_pods(policy.subject.pods, pod_labels, namespace_labels)
    for rule in (*policy.ingress, *policy.egress):
        for peer in rule.peers:
            namespace_labels.mention_selector(peer.namespaces)
            _mention_pods(peer.pods, pod_labels, namespace_labels)
            networks.update(peer.networks)
        port_names.update(port.named_port for port in rule.ports if port.named_port)


def _mention_pattern(
    pattern: EndpointPattern,
    pod_labels: LabelUniverse,
    namespace_labels: LabelUniverse,
    networks: set[IPNetwork],
) -> None:
    pod_labels.mention_selector(pattern.pod_selector)
    namespace_labels.mention_selector(pattern.namespace_selector)
    if pattern.namespace_name is not None:
        namespace_labels.mention(NAMESPACE_NAME_LABEL, pattern.namespace_name)
    if pattern.ip is not None:
        networks.add(pattern.ip)


def _named_ports(ports: Iterable[PortPattern]) -> set[str]:
    return {port.named_port for port in ports if port.named_port}
