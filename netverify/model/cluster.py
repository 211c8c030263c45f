"""The loaded cluster: everything the semantics and the encoding reason about."""

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Self

from netverify.model.admin_policy import AdminPolicy, Node, Tier
from netverify.model.base import Frozen
from netverify.model.diagnostics import Diagnostic
from netverify.model.objects import IPAddress, Namespace, Pod, SkippedObject, UnmodelledObject
from netverify.model.policy import NetworkPolicy
from netverify.model.refs import ObjectRef, SourceMap
from netverify.model.services import Service


class Cluster(Frozen):
    """Namespaces, pods, policies and Services, sorted by namespace and name."""

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    services: tuple[Service, ...] = ()
    unmodelled: tuple[UnmodelledObject, ...] = ()
    """Objects whose policy effect verdicts do not account for."""
    admin_policies: tuple[AdminPolicy, ...] = ()
    """ClusterNetworkPolicies and (Baseline)AdminNetworkPolicies, sorted by kind and name."""
    nodes: tuple[Node, ...] = ()
    unenforced: tuple[ObjectRef, ...] = ()
    """Admin policies left out of `admin_policies` because the CNI profile's network plugin
    does not enforce them (`netverify.engine.scope.enforced`)."""

    def tier(self, tier: Tier) -> tuple[AdminPolicy, ...]:
        """The admin policies of one tier in the order netverify walks it (`sort_key`)."""
        return self._tiers.get(tier, ())

    def node(self, name: str) -> Node | None:
        return self._nodes_by_name.get(name)

    def node_at(self, address: IPAddress) -> Node | None:
        """The node that has `address` in its `status.addresses`, if one was loaded."""
        return self._nodes_by_address.get(address)

    def namespace(self, name: str) -> Namespace | None:
        return self._namespaces_by_name.get(name)

    def policies_in(self, namespace: str) -> tuple[NetworkPolicy, ...]:
        """The policies of one namespace, in order (a policy selects only pods of its own)."""
        return self._policies_by_namespace.get(namespace, ())

    def pods_in(self, namespace: str) -> tuple[Pod, ...]:
        """The pods of one namespace, in order."""
        return self._pods_by_namespace.get(namespace, ())

    def service(self, namespace: str, name: str) -> Service | None:
        return next((s for s in self.services if (s.namespace, s.name) == (namespace, name)), None)

    def service_at(self, ip: IPAddress) -> Service | None:
        """The Service whose ClusterIP `ip` is."""
        return next((service for service in self.services if ip in service.cluster_ips), None)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy without the lookup tables: they describe the fields before `update`."""
        copied = super().model_copy(update=update, deep=deep)
        for table in _LOOKUP_TABLES:
            copied.__dict__.pop(table, None)
        return copied

    @cached_property
    def _namespaces_by_name(self) -> dict[str, Namespace]:
        return {namespace.name: namespace for namespace in self.namespaces}

    @cached_property
    def _policies_by_namespace(self) -> dict[str, tuple[NetworkPolicy, ...]]:
        grouped: dict[str, list[NetworkPolicy]] = {}
        for policy in self.policies:
            grouped.setdefault(policy.namespace, []).append(policy)
        return {namespace: tuple(policies) for namespace, policies in grouped.items()}

    @cached_property
    def _pods_by_namespace(self) -> dict[str, tuple[Pod, ...]]:
        grouped: dict[str, list[Pod]] = {}
        for pod in self.pods:
            grouped.setdefault(pod.namespace, []).append(pod)
        return {namespace: tuple(pods) for namespace, pods in grouped.items()}

    @cached_property
    def _tiers(self) -> dict[Tier, tuple[AdminPolicy, ...]]:
        return {
            tier: tuple(
                sorted(
                    (policy for policy in self.admin_policies if policy.tier is tier),
                    key=lambda policy: policy.sort_key,
                )
            )
            for tier in Tier
        }

    @cached_property
    def _nodes_by_name(self) -> dict[str, Node]:
        return {node.name: node for node in self.nodes}

    @cached_property
    def _nodes_by_address(self) -> dict[IPAddress, Node]:
        return {address: node for node in self.nodes for address in node.addresses}


_LOOKUP_TABLES = (
    "_namespaces_by_name",
    "_policies_by_namespace",
    "_pods_by_namespace",
    "_tiers",
    "_nodes_by_name",
    "_nodes_by_address",
)


class LoadedCluster(Frozen):
    """A cluster with where everything in it came from and what loading warned about."""

    cluster: Cluster
    sources: SourceMap = SourceMap()
    warnings: tuple[Diagnostic, ...] = ()
    skipped: tuple[SkippedObject, ...] = ()
    """Custom resources that may create pods netverify does not model (named in a warning)."""
