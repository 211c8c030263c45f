"""The ports on which a flow is allowed, found in one pass over the policies.

The diff asks of many flows on which ports a change holds. Asking `evaluate` once per port
segment repeats the work that does not depend on the port: which policies isolate each end
and which rules' peers match the other end. Only a rule's `ports` depend on it, so a side's
allowed ports are the union of its admitting rules' ports, and the flow's those of both
sides. Where admin policies apply, their tiers (first match, Pass, an order the API may
leave open) are left to the evaluator, port by port.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from netverify.model import (
    MAX_PORT,
    Cluster,
    Direction,
    Endpoint,
    Flow,
    PodEndpoint,
    PolicyRule,
    PortRange,
    Protocol,
    Settings,
)
from netverify.semantics.evaluator import (
    is_node_local,
    is_self_traffic,
    isolating_policies,
    side_ends,
)
from netverify.semantics.matching import port_cuts, port_matches, rule_peers_match


@dataclass(frozen=True, slots=True)
class PortSet:
    """A set of port numbers as a bit mask, bit n for port n (1 to `MAX_PORT`): a union, an
    intersection or a difference is one integer operation."""

    mask: int = 0

    @classmethod
    def span(cls, start: int, end: int) -> "PortSet":
        """The ports from `start` to `end`, both included."""
        return cls(((1 << (end + 1)) - 1) ^ ((1 << start) - 1))

    def __bool__(self) -> bool:
        return bool(self.mask)

    def __contains__(self, port: int) -> bool:
        return bool(self.mask >> port & 1)

    def __and__(self, other: "PortSet") -> "PortSet":
        return PortSet(self.mask & other.mask)

    def __or__(self, other: "PortSet") -> "PortSet":
        return PortSet(self.mask | other.mask)

    def __sub__(self, other: "PortSet") -> "PortSet":
        return PortSet(self.mask & ~other.mask)

    def ranges(self) -> Iterator[tuple[int, int]]:
        """The set as maximal runs of ports, inclusive (start, end), in order."""
        mask = self.mask
        while mask:
            start = (mask & -mask).bit_length() - 1
            run = mask >> start
            length = (~run & (run + 1)).bit_length() - 1
            yield start, start + length - 1
            mask ^= ((1 << length) - 1) << start


EVERY_PORT = PortSet.span(1, MAX_PORT)
NO_PORT = PortSet()


def ports_where(
    test: Callable[[int], bool], ranges: Iterable[PortRange], destination: Endpoint
) -> PortSet:
    """The ports at which `test` holds, for a test of `ports` entries (their `ranges`, and
    names resolved on the destination's container ports) that can only change at their
    `port_cuts`: each segment between two cuts as its first port says."""
    numbers = (
        [port.port for port in destination.pod.ports]
        if isinstance(destination, PodEndpoint)
        else []
    )
    mask = 0
    for start, end in pairwise(port_cuts(ranges, numbers)):
        if test(start):
            mask |= PortSet.span(start, end - 1).mask
    return PortSet(mask)


def rule_ports(rule: PolicyRule, protocol: Protocol, destination: Endpoint) -> PortSet:
    """The ports of `protocol` to the destination that the rule's `ports` admit (every port
    when it has no entries)."""
    if not rule.ports:
        return EVERY_PORT
    return ports_where(
        lambda port: any(port_matches(entry, protocol, port, destination) for entry in rule.ports),
        (entry.port_range for entry in rule.ports if entry.port_range is not None),
        destination,
    )


def _side_ports(cluster: Cluster, settings: Settings, flow: Flow, direction: Direction) -> PortSet:
    """The ports on which NetworkPolicy lets the flow through its side: every port when no
    policy isolates the side's end, else those of the rules whose peers match the other."""
    subject, peer = side_ends(flow, direction)
    isolating = isolating_policies(cluster, subject, direction)
    if not isolating:
        return EVERY_PORT
    allowed = NO_PORT
    for policy in isolating:
        for rule in policy.rules(direction):
            if rule_peers_match(rule, policy.namespace, peer, settings):
                allowed |= rule_ports(rule, flow.protocol, flow.destination)
    return allowed


def allowed_ports(cluster: Cluster, flow: Flow, settings: Settings) -> PortSet | None:
    """The ports at which `evaluate` allows the flow (its ends, protocol and placement; its
    own port aside); None where the cluster has admin policies.

    Without admin policies a pod's traffic to itself and node-local traffic are allowed on
    every port, and an end no policy selects (an external one, a hostNetwork pod) leaves its
    side open."""
    if cluster.admin_policies:
        return None
    if is_self_traffic(flow.source, flow.destination) or is_node_local(flow):
        return EVERY_PORT
    return _side_ports(cluster, settings, flow, Direction.EGRESS) & _side_ports(
        cluster, settings, flow, Direction.INGRESS
    )
