"""Which flows policy objects netverify does not model may decide, and which way.

A CiliumNetworkPolicy, a Calico or Antrea policy, an Istio AuthorizationPolicy... is read no
further than its kind, namespace and name. Whatever it says, it can only decide flows with an
end among the pods it applies to: a namespaced policy applies to pods of its namespace (its
subject, on either side of a flow), a cluster-wide one to any pod, and an Istio policy in the
mesh's root namespace (`istio-system` unless configured otherwise) to the whole mesh. Network
plugins' own policies can allow what NetworkPolicy blocks (Cilium ORs its policies with
NetworkPolicy, Calico's tiers decide before it) and block what it allows; service-mesh
authorization and egress firewalls can only block.
"""

from collections.abc import Iterable

from netverify.loading.kinds import api_group
from netverify.model import Cluster, Flow, PodEndpoint, UnmodelledObject

DENY_ONLY_GROUPS = frozenset(
    {"security.istio.io", "policy.linkerd.io", "k8s.ovn.org", "network.openshift.io"}
)
"""Groups whose policy kinds can only restrict what NetworkPolicy allows (service-mesh
authorization, egress firewalls)."""

MESH_ROOT_NAMESPACE = "istio-system"
"""Istio's default root namespace: its AuthorizationPolicies apply to the whole mesh."""


def objects_deciding(cluster: Cluster, flow: Flow, can_allow: bool) -> list[UnmodelledObject]:
    """The objects that may decide the flow: that apply to one of its ends and can block it
    (every kind) or, with `can_allow`, allow it."""
    namespaces = {
        end.namespace.name
        for end in (flow.source, flow.destination)
        if isinstance(end, PodEndpoint)
    }
    return [
        obj
        for obj in able(cluster.unmodelled, can_allow)
        if (scope := object_scope(obj)) is None or scope in namespaces
    ]


def able(objects: Iterable[UnmodelledObject], can_allow: bool) -> list[UnmodelledObject]:
    """The objects that can block (all of them), or those that can also allow."""
    return [
        obj
        for obj in objects
        if not can_allow or api_group(obj.api_version) not in DENY_ONLY_GROUPS
    ]


def object_scope(obj: UnmodelledObject) -> str | None:
    """The namespace whose pods the object applies to; None for every pod."""
    if obj.namespace is None:
        return None
    if api_group(obj.api_version) == "security.istio.io" and obj.namespace == MESH_ROOT_NAMESPACE:
        return None
    return obj.namespace
