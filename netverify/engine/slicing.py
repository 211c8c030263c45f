"""Query-directed slicing: the part of a cluster one invariant's verdict depends on.

A flow from a source to a destination is decided by the egress policies of the source's
namespace, the ingress policies of the destination's namespace and the admin tiers. Every
flow an invariant talks about has a source its source pattern matches and a destination its
destination pattern matches, so the policies of the other namespaces, the other direction
and the pods neither pattern can match cannot change its verdict. A slice keeps every
namespace, Service, node and admin policy (cheap, and an admin subject may select any
pod); the encoding of a slice still keeps every loaded pod's address out of the addresses
other endpoints may have (see `ClusterEncoding`'s `whole`).
"""

from dataclasses import dataclass

from netverify.model import (
    Cluster,
    Direction,
    EndpointPattern,
    Invariant,
    IPNetwork,
    NamespaceScope,
    NetworkPolicy,
    Pod,
    PodScope,
    Settings,
)
from netverify.semantics.matching import selector_matches

SLICING_THRESHOLD = 2_000
"""Clusters with fewer pods and policies than this are encoded whole, once for every
invariant: a slice changes the solver's search and so which of many equally good flows it
returns, and below this size one shared encoding is fast anyway."""


@dataclass(frozen=True)
class Slice:
    """What an invariant needs of a cluster, by position in the cluster's tuples (so that a
    slice is cheap to send to a worker process and equal slices are found by equality)."""

    policies: tuple[int, ...]
    pods: tuple[int, ...]

    def of(self, cluster: Cluster) -> Cluster:
        """The cluster with only this slice's policies and pods."""
        return cluster.model_copy(
            update={
                "policies": tuple(cluster.policies[index] for index in self.policies),
                "pods": tuple(cluster.pods[index] for index in self.pods),
            }
        )


def worth_slicing(cluster: Cluster) -> bool:
    """Whether invariants are proved on slices (see `SLICING_THRESHOLD`)."""
    return len(cluster.pods) + len(cluster.policies) >= SLICING_THRESHOLD


def slice_for(cluster: Cluster, settings: Settings, invariant: Invariant) -> Slice:
    """The policies and pods an invariant's verdict can depend on: the pods either pattern
    can match, and the policies of the direction that decides each end which can select a
    pod that end can be (a loaded one, or under `pods: any` one that could exist)."""
    return Slicer(cluster, settings, invariant).slice(cluster)


class Slicer:
    """`slice_for` of one invariant, for the clusters that differ from `cluster` only in
    their policies (`fix`'s candidates): the pods each end can be are found once."""

    def __init__(self, cluster: Cluster, settings: Settings, invariant: Invariant) -> None:
        self.ends = _ends(cluster, settings, invariant)
        self.pods = tuple(sorted({index for end in self.ends for index in end.pods}))
        self.known: dict[int, tuple[NetworkPolicy, bool]] = {}
        """`depends_on` of each policy asked about, by identity (the policy is kept, so its
        id is not reused): the clusters `fix` slices share every policy a candidate does
        not change, thousands of them."""

    def slice(self, cluster: Cluster) -> Slice:
        """The invariant's slice of `cluster` (pods and namespaces as the slicer's)."""
        policies = tuple(
            index for index, policy in enumerate(cluster.policies) if self.depends_on(policy)
        )
        return Slice(policies=policies, pods=self.pods)

    def depends_on(self, policy: NetworkPolicy) -> bool:
        """Whether the invariant's verdict can depend on a NetworkPolicy, loaded or not (the
        test `slice` keeps policies by): `fix` re-proves only the invariants that a changed
        policy, before or after the change, can decide."""
        known = self.known.get(id(policy))
        if known is None:
            known = self.known[id(policy)] = (
                policy,
                any(end.may_select(policy) for end in self.ends),
            )
        return known[1]


def _ends(cluster: Cluster, settings: Settings, invariant: Invariant) -> tuple["_End", "_End"]:
    return (
        _End(cluster, settings, invariant, invariant.source, Direction.EGRESS),
        _End(cluster, settings, invariant, invariant.destination, Direction.INGRESS),
    )


class _End:
    """One end of an invariant: the loaded pods it can be, by namespace, and whether it can
    be a pod that could exist."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        invariant: Invariant,
        pattern: EndpointPattern,
        direction: Direction,
    ) -> None:
        self.cluster = cluster
        self.invariant = invariant
        self.pattern = pattern
        self.direction = direction
        # Asked once per namespace, not once per pod: thousands of pods, a few namespaces.
        may_be_in = {
            name: self._may_be_in(name) for name in {pod.namespace for pod in cluster.pods}
        }
        self.pods = [
            index
            for index, pod in enumerate(cluster.pods)
            if may_be_in[pod.namespace] and self._pod_may_match(settings, pod)
        ]
        self.by_namespace: dict[str, list[Pod]] = {}
        for index in self.pods:
            pod = cluster.pods[index]
            self.by_namespace.setdefault(pod.namespace, []).append(pod)
        self.new_pods = (
            invariant.pods is PodScope.ANY
            and pattern.pod_name is None
            and (pattern.ip is None or _may_get_address_in(settings, pattern.ip))
        )

    def may_select(self, policy: NetworkPolicy) -> bool:
        """Whether the policy decides this end's side of some flow the invariant is about."""
        if self.direction not in policy.policy_types:
            return False
        if self.new_pods and self._may_be_in(policy.namespace):
            return True
        return any(
            selector_matches(policy.pod_selector, pod.labels)
            for pod in self.by_namespace.get(policy.namespace, ())
        )

    def _may_be_in(self, namespace: str) -> bool:
        """Whether a pod the pattern matches can be in the namespace: a loaded one whose
        name and labels the pattern allows, or, under `namespaces: any`, one that could be
        created with that name (and any labels)."""
        pattern = self.pattern
        if pattern.external or pattern.namespace_name not in (None, namespace):
            return False
        loaded = self.cluster.namespace(namespace)
        if loaded is None:
            return self.invariant.namespaces is NamespaceScope.ANY
        return pattern.namespace_selector is None or selector_matches(
            pattern.namespace_selector, loaded.labels
        )

    def _pod_may_match(self, settings: Settings, pod: Pod) -> bool:
        """Whether the pattern can match the loaded pod, at one of its addresses or, when
        the manifests give none, at one the pod CIDRs may give it."""
        pattern = self.pattern
        if pattern.ip is None:
            address = True
        elif pod.ips:
            address = any(ip in pattern.ip for ip in pod.ips)
        else:
            address = _may_get_address_in(settings, pattern.ip)
        return (
            address
            and pattern.pod_name in (None, pod.name)
            and pattern.pod_kind in (None, pod.kind)
            and (pattern.pod_selector is None or selector_matches(pattern.pod_selector, pod.labels))
        )


def _may_get_address_in(settings: Settings, network: IPNetwork) -> bool:
    """Whether a pod whose address the manifests do not give may get one in `network`."""
    return any(
        cidr.version == network.version and cidr.overlaps(network) for cidr in settings.pod_cidrs
    )
