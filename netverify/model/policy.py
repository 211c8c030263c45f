"""NetworkPolicy (networking.k8s.io/v1), normalised at load time.

Normalisation: `policyTypes` is the effective list (defaulted as the API server does),
`endPort` becomes a port range, an absent `protocol` is TCP, and absent or empty `from`/`to`/
`ports` lists become empty tuples (which mean "every peer" / "every port").
"""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.labels import LabelSelector
from netverify.model.objects import IPNetwork, Protocol


class Direction(StrEnum):
    """A policy direction, spelled as in `policyTypes`."""

    INGRESS = "Ingress"
    EGRESS = "Egress"


class PortRange(Frozen):
    """An inclusive range of port numbers (a single port has start == end)."""

    start: int
    end: int


class PolicyPort(Frozen):
    """One entry of a rule's `ports`: a protocol and a number, range, name or every port."""

    protocol: Protocol = Protocol.TCP
    port_range: PortRange | None = None
    named_port: str | None = None
    """Resolved on the destination pod's containerPorts of the same protocol."""


class IPBlock(Frozen):
    """An `ipBlock` peer: addresses in `cidr` but in none of `excepts`."""

    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()


class PolicyPeer(Frozen):
    """One entry of `from`/`to`.

    Exactly one of: `ip_block`; or one or both selectors. `namespace_selector` None with a
    `pod_selector` means "the policy's own namespace"; `pod_selector` None with a
    `namespace_selector` means "every pod of the selected namespaces".
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


class PolicyRule(Frozen):
    """An ingress or egress rule; empty `peers` match every peer, empty `ports` every port."""

    peers: tuple[PolicyPeer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


class NetworkPolicy(Frozen):
    """A NetworkPolicy with effective `policy_types`."""

    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[Direction]
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()
    ignored_checks: frozenset[str] = frozenset()
    """Lint check ids silenced on this policy by the `netverify.io/ignore` annotation."""

    def rules(self, direction: Direction) -> tuple[PolicyRule, ...]:
        """The rules of one direction."""
        return self.ingress if direction is Direction.INGRESS else self.egress
