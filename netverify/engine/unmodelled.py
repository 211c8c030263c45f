"""Verdicts that policy objects netverify does not model may overturn.

A CiliumNetworkPolicy, a Calico or Antrea policy, an Istio AuthorizationPolicy... is read no
further than its kind, namespace and name. Whatever it says, it can only decide flows with an
end among the pods it applies to: a namespaced policy applies to pods of its namespace (its
subject, on either side), a cluster-wide one to any pod, and an Istio policy in the mesh's root
namespace (`istio-system` unless configured otherwise) to the whole mesh. So a verdict stands
only where no such object can reach the flows it rests on:

- a flow NetworkPolicy allows (a forbid's counterexample, a reachable's witness) stands unless
  an object that can deny applies to one of its ends; every kind can deny;
- a flow NetworkPolicy blocks (a require's counterexample) stands unless an object that can
  allow applies to an end: network plugins' own policies can (Cilium ORs its policies with
  NetworkPolicy, Calico's tiers decide before it), mesh and egress-firewall kinds only deny;
- a statement about every matched flow (a forbid or require that holds, a reachable with no
  allowed flow) stands unless such an object applies to a pod the invariant can match.

Otherwise the verdict is `unknown`, naming the objects: never a `holds` the cluster may not
honour (`--strict` refuses such objects outright).
"""

from collections.abc import Iterable

from netverify.engine.tiers import flow_name
from netverify.loading.kinds import api_group
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    EndpointPattern,
    Flow,
    Invariant,
    InvariantKind,
    InvariantResult,
    Namespace,
    PodEndpoint,
    PodScope,
    Status,
    UnmodelledObject,
)
from netverify.semantics.matching import selector_matches
from netverify.semantics.patterns import endpoint_matches

DENY_ONLY_GROUPS = frozenset(
    {"security.istio.io", "policy.linkerd.io", "k8s.ovn.org", "network.openshift.io"}
)
"""Groups whose policy kinds can only restrict what NetworkPolicy allows (service-mesh
authorization, egress firewalls)."""

MESH_ROOT_NAMESPACE = "istio-system"
"""Istio's default root namespace: its AuthorizationPolicies apply to the whole mesh."""


def unmodelled_doubt(
    cluster: Cluster, invariant: Invariant, result: InvariantResult
) -> InvariantResult:
    """The result, or `unknown` where objects netverify does not model may decide a flow it
    rests on (see the module's docstring)."""
    if not cluster.unmodelled or result.status not in (Status.HOLDS, Status.VIOLATED):
        return result
    kind, holds = invariant.kind, result.status is Status.HOLDS
    flow_allowed = (kind is InvariantKind.FORBID and not holds) or (
        kind is InvariantKind.REACHABLE and holds
    )
    shown = result.counterexample if result.counterexample is not None else result.witness
    if flow_allowed and shown is not None:
        deciding = _applying_to_flow(cluster, shown.decision.flow, can_allow=False)
        what = f"may block {flow_name(shown.decision.flow)}, which NetworkPolicy allows"
    elif kind is InvariantKind.REQUIRE and not holds and shown is not None:
        deciding = _applying_to_flow(cluster, shown.decision.flow, can_allow=True)
        what = f"may allow {flow_name(shown.decision.flow)}, which NetworkPolicy blocks"
    else:
        # Every matched flow: blocked (forbid holds, reachable violated) or allowed.
        can_allow = kind is not InvariantKind.REQUIRE
        deciding = _applying_to_invariant(cluster, invariant, can_allow)
        what = f"may {'allow' if can_allow else 'block'} flows this invariant matches"
    if not deciding:
        return result
    return result.model_copy(
        update={
            "status": Status.UNKNOWN,
            "reason": f"{_names(deciding)} not modelled by netverify: {what} "
            "(remove them from the input, or see what the network plugin enforces)",
        }
    )


def _applying_to_flow(cluster: Cluster, flow: Flow, can_allow: bool) -> list[UnmodelledObject]:
    namespaces = {
        end.namespace.name
        for end in (flow.source, flow.destination)
        if isinstance(end, PodEndpoint)
    }
    return [
        obj
        for obj in _able(cluster.unmodelled, can_allow)
        if (scope := _scope(obj)) is None or scope in namespaces
    ]


def _applying_to_invariant(
    cluster: Cluster, invariant: Invariant, can_allow: bool
) -> list[UnmodelledObject]:
    return [
        obj
        for obj in _able(cluster.unmodelled, can_allow)
        if (scope := _scope(obj)) is None
        or any(
            _may_match_in(cluster, invariant, pattern, scope)
            for pattern in (invariant.source, invariant.destination)
        )
    ]


def _able(objects: Iterable[UnmodelledObject], can_allow: bool) -> list[UnmodelledObject]:
    """The objects that can deny (all), or those that can also allow."""
    return [
        obj
        for obj in objects
        if not can_allow or api_group(obj.api_version) not in DENY_ONLY_GROUPS
    ]


def _scope(obj: UnmodelledObject) -> str | None:
    """The namespace whose pods the object applies to; None for every pod."""
    if obj.namespace is None:
        return None
    if api_group(obj.api_version) == "security.istio.io" and obj.namespace == MESH_ROOT_NAMESPACE:
        return None
    return obj.namespace


def _may_match_in(
    cluster: Cluster, invariant: Invariant, pattern: EndpointPattern, namespace: str
) -> bool:
    """Whether a pod of `namespace` can match the pattern: an existing pod that does, or,
    where the invariant speaks of pods that could exist, any pod the namespace's name and
    labels let it select."""
    if pattern.external:
        return False
    found = cluster.namespace(namespace) or Namespace(
        name=namespace, labels={NAMESPACE_NAME_LABEL: namespace}, defined=False
    )
    if invariant.pods is PodScope.ANY and pattern.pod_name is None:
        return pattern.namespace_name in (None, namespace) and (
            pattern.namespace_selector is None
            or selector_matches(pattern.namespace_selector, found.labels)
        )
    return any(
        endpoint_matches(pattern, PodEndpoint(namespace=found, pod=pod, ip=ip))
        for pod in cluster.pods
        if pod.namespace == namespace
        for ip in pod.ips or (None,)
    )


def _names(objects: list[UnmodelledObject]) -> str:
    shown = [
        f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name} ({obj.api_version})"
        for obj in objects[:3]
    ]
    more = f" and {len(objects) - 3} more" if len(objects) > 3 else ""
    return ", ".join(shown) + more + (" is" if len(objects) == 1 else " are")
