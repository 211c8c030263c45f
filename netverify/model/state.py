"""The loaded cluster: everything the semantics and the encoding reason about."""

from netverify.model.base import Frozen
from netverify.model.cluster import Namespace, Pod, UnmodelledObject
from netverify.model.diagnostics import Diagnostic
from netverify.model.policy import NetworkPolicy
from netverify.model.refs import SourceMap


class Cluster(Frozen):
    """Namespaces, pods and policies, sorted by namespace and name."""

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    unmodelled: tuple[UnmodelledObject, ...] = ()
    """Objects whose policy effect verdicts do not account for."""

    def namespace(self, name: str) -> Namespace | None:
        return next((ns for ns in self.namespaces if ns.name == name), None)


class LoadedCluster(Frozen):
    """A cluster with where everything in it came from and what loading warned about."""

    cluster: Cluster
    sources: SourceMap = SourceMap()
    warnings: tuple[Diagnostic, ...] = ()
