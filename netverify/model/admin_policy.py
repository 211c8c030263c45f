"""Admin policy tiers, normalised across both API versions of policy.networking.k8s.io:
`ClusterNetworkPolicy` (v1alpha2, tier Admin or Baseline) and `AdminNetworkPolicy` /
`BaselineAdminNetworkPolicy` (v1alpha1, the Admin and the Baseline tier).

Normalisation: v1alpha1 `Allow` is `Accept`; v1alpha1 `ports` and v1alpha2 `protocols` both
become `PolicyPort`s (a named port, which names no protocol, becomes one entry per
protocol); an absent `ports`/`protocols` is the empty tuple, meaning every protocol and port.
Reference: https://github.com/kubernetes-sigs/network-policy-api (`apis/v1alpha2`, `apis/v1alpha1`).
"""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.labels import LabelSelector
from netverify.model.objects import IPAddress, IPNetwork
from netverify.model.policy import Direction, PolicyPort
from netverify.model.refs import ObjectRef

CNP_API_VERSION = "policy.networking.k8s.io/v1alpha2"
ANP_API_VERSION = "policy.networking.k8s.io/v1alpha1"


class Tier(StrEnum):
    """Where a policy sits: the Admin tier before NetworkPolicy, the Baseline tier after."""

    ADMIN = "Admin"
    BASELINE = "Baseline"


class AdminAction(StrEnum):
    """What a matching rule does: Accept and Deny decide the direction, Pass skips the rest
    of the tier."""

    ACCEPT = "Accept"
    DENY = "Deny"
    PASS = "Pass"


class NamespacedPods(Frozen):
    """`pods`: pods matching `pod_selector` in namespaces matching `namespace_selector`."""

    namespace_selector: LabelSelector = LabelSelector()
    pod_selector: LabelSelector = LabelSelector()


class AdminSubject(Frozen):
    """Exactly one of `namespaces` (every pod of the selected namespaces) or `pods`.

    NOTE: host-network pods are never subjects."""

    namespaces: LabelSelector | None = None
    pods: NamespacedPods | None = None


class AdminPeer(Frozen):
    """One entry of `from`/`to`: exactly one field is set (`networks` and `domain_names`
    non-empty when set). `namespaces`/`pods` never match host-network pods; `nodes` matches
    the addresses of the selected nodes (so host-network pods on them); `networks` matches
    any address, pods' and nodes' included."""

    namespaces: LabelSelector | None = None
    pods: NamespacedPods | None = None
    nodes: LabelSelector | None = None
    networks: tuple[IPNetwork, ...] = ()
    domain_names: tuple[str, ...] = ()


class AdminRule(Frozen):
    """An ingress or egress rule; empty `ports` match every protocol and port."""

    name: str | None = None
    action: AdminAction
    peers: tuple[AdminPeer, ...]
    ports: tuple[PolicyPort, ...] = ()


class AdminPolicy(Frozen):
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy."""

    api_version: str
    kind: str
    name: str
    tier: Tier
    priority: int | None
    """0-1000, lower first; None for a BaselineAdminNetworkPolicy, which has none."""
    subject: AdminSubject
    ingress: tuple[AdminRule, ...] = ()
    egress: tuple[AdminRule, ...] = ()
    ignored_checks: frozenset[str] = frozenset()
    """Lint check ids silenced on this policy by the `netverify.io/ignore` annotation."""

    def rules(self, direction: Direction) -> tuple[AdminRule, ...]:
        """The rules of one direction, in written order."""
        return self.ingress if direction is Direction.INGRESS else self.egress

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(kind=self.kind, namespace=None, name=self.name)

    def precedes(self, other: "AdminPolicy") -> bool:
        """Whether the API orders this policy before `other` in their tier: only policies of
        one API version are ordered, by priority (equal priorities and policies of different
        API versions have no defined order)."""
        return (
            self.tier is other.tier
            and self.api_version == other.api_version
            and self.priority is not None
            and other.priority is not None
            and self.priority < other.priority
        )

    @property
    def sort_key(self) -> tuple[int, str, str]:
        """The order netverify walks a tier in when it must pick one (explain): priority,
        then newer API version first, then name; a policy without priority last."""
        priority = 1001 if self.priority is None else self.priority
        return priority, "0" if self.api_version == CNP_API_VERSION else "1", self.name


class Node(Frozen):
    """A node: its labels (for `nodes` peers) and `status.addresses` (InternalIP, ExternalIP)."""

    name: str
    labels: dict[str, str] = {}
    addresses: tuple[IPAddress, ...] = ()


SHORT_NAMES = {
    "ClusterNetworkPolicy": "cnp",
    "AdminNetworkPolicy": "anp",
    "BaselineAdminNetworkPolicy": "banp",
}
"""The CRDs' short names (`kubectl get cnp`), as messages name admin policies."""


def short_name(ref: ObjectRef) -> str:
    """`cnp/NAME` for an admin policy (other kinds: as `ObjectRef` prints them)."""
    short = SHORT_NAMES.get(ref.kind)
    return f"{short}/{ref.name}" if short else str(ref)
