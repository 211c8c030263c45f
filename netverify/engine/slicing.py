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
    NamespaceScope,
    Pod,
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


def slice_for(cluster: Cluster, invariant: Invariant) -> Slice:
    """The policies and pods an invariant's verdict can depend on."""
    ends = ((invariant.source, Direction.EGRESS), (invariant.destination, Direction.INGRESS))
    policies = tuple(
        index
        for index, policy in enumerate(cluster.policies)
        if any(
            direction in policy.policy_types
            and _may_be_in(cluster, invariant, pattern, policy.namespace)
            for pattern, direction in ends
        )
    )
    pods = tuple(
        index
        for index, pod in enumerate(cluster.pods)
        if any(_pod_may_match(cluster, invariant, pattern, pod) for pattern, _ in ends)
    )
    return Slice(policies=policies, pods=pods)


def _may_be_in(
    cluster: Cluster, invariant: Invariant, pattern: EndpointPattern, namespace: str
) -> bool:
    """Whether a pod the pattern matches can be in the namespace: a loaded one whose name
    and labels the pattern allows, or, under `namespaces: any`, one that could be created
    with that name (and any labels)."""
    if pattern.external or pattern.namespace_name not in (None, namespace):
        return False
    loaded = cluster.namespace(namespace)
    if loaded is None:
        return invariant.namespaces is NamespaceScope.ANY
    return pattern.namespace_selector is None or selector_matches(
        pattern.namespace_selector, loaded.labels
    )


def _pod_may_match(
    cluster: Cluster, invariant: Invariant, pattern: EndpointPattern, pod: Pod
) -> bool:
    """Whether the pattern can match the loaded pod (at any of its addresses; a pod whose
    address the manifests do not give may get any)."""
    return (
        _may_be_in(cluster, invariant, pattern, pod.namespace)
        and pattern.pod_name in (None, pod.name)
        and pattern.pod_kind in (None, pod.kind)
        and (pattern.pod_selector is None or selector_matches(pattern.pod_selector, pod.labels))
        and (pattern.ip is None or not pod.ips or any(ip in pattern.ip for ip in pod.ips))
    )
