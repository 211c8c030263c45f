"""`validate`'s summary of a loaded cluster: counts, and which pods some policy isolates.

Isolation is the reference evaluator's (`policy_selects`), worked out here so that the
text format only lays the summary out.
"""

from dataclasses import dataclass

from netverify.model import (
    Direction,
    LoadedCluster,
    PodEndpoint,
    Tier,
    UnmodelledObject,
    short_name,
)
from netverify.semantics import policy_selects


@dataclass(frozen=True)
class IsolatedPods:
    """The pods that at least one policy isolates for one direction."""

    direction: Direction
    pods: tuple[str, ...]
    """`namespace/name`, in the cluster's pod order."""


@dataclass(frozen=True)
class ClusterSummary:
    """What `validate` reports about a cluster that loaded."""

    namespaces: int
    implied_namespaces: tuple[str, ...]
    """Namespaces that objects use but no manifest defines."""
    pods: int
    """Bare Pods."""
    workloads: int
    """Workloads, each standing for one pod with its template's labels and ports."""
    policies: int
    isolated: tuple[IsolatedPods, ...]
    """One entry per direction, in `Direction` order."""
    host_network: tuple[str, ...]
    """hostNetwork pods (`namespace/name`): outside NetworkPolicy."""
    unmodelled: tuple[UnmodelledObject, ...]
    admin_tiers: tuple[tuple[Tier, tuple[str, ...]], ...] = ()
    """Per tier with policies, its admin policies in netverify's walk order
    (`cnp/NAME (priority N)`)."""
    nodes: int = 0


def summarise(loaded: LoadedCluster) -> ClusterSummary:
    cluster = loaded.cluster
    workloads = sum(1 for pod in cluster.pods if pod.kind != "Pod")
    isolated = []
    for direction in Direction:
        pods = []
        for pod in cluster.pods:
            namespace = cluster.namespace(pod.namespace)
            assert namespace is not None, "every pod's namespace is loaded or implied"
            endpoint = PodEndpoint(namespace=namespace, pod=pod)
            if any(
                direction in policy.policy_types and policy_selects(policy, endpoint)
                for policy in cluster.policies
            ):
                pods.append(f"{pod.namespace}/{pod.name}")
        isolated.append(IsolatedPods(direction, tuple(pods)))
    return ClusterSummary(
        namespaces=len(cluster.namespaces),
        implied_namespaces=tuple(ns.name for ns in cluster.namespaces if not ns.defined),
        pods=len(cluster.pods) - workloads,
        workloads=workloads,
        policies=len(cluster.policies),
        isolated=tuple(isolated),
        host_network=tuple(
            f"{pod.namespace}/{pod.name}" for pod in cluster.pods if pod.host_network
        ),
        unmodelled=cluster.unmodelled,
        admin_tiers=tuple(
            (
                tier,
                tuple(
                    short_name(policy.ref)
                    + ("" if policy.priority is None else f" (priority {policy.priority})")
                    for policy in cluster.tier(tier)
                ),
            )
            for tier in Tier
            if cluster.tier(tier)
        ),
        nodes=len(cluster.nodes),
    )
