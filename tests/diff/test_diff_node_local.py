"""`diff` between existing pods never reports traffic that is always node-local: a
hostNetwork pod and a pod bound to its node talk through the node, which NetworkPolicy
never governs."""

from ipaddress import IPv4Address

from netverify.engine import SolverLimits
from netverify.engine.diff import diff
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    LoadedCluster,
    Namespace,
    NamespaceScope,
    NetworkPolicy,
    Pod,
    PodScope,
    Settings,
)
from tests.semantics.helpers import policy


def _cluster(*policies: NetworkPolicy) -> Cluster:
    return Cluster(
        namespaces=(Namespace(name="ns0", labels={NAMESPACE_NAME_LABEL: "ns0"}),),
        pods=(
            Pod(namespace="ns0", name="app", ips=(IPv4Address("10.0.0.1"),), node_name="node-a"),
            Pod(
                namespace="ns0",
                name="agent",
                ips=(IPv4Address("10.0.0.4"),),
                host_network=True,
                node_name="node-a",
            ),
        ),
        policies=policies,
    )


def test_a_host_network_pod_and_a_pod_on_its_node_never_change() -> None:
    deny_all = policy("ns0", "deny-all", ingress=())
    report = diff(
        LoadedCluster(cluster=_cluster()),
        LoadedCluster(cluster=_cluster(deny_all)),
        Settings(),
        PodScope.EXISTING,
        NamespaceScope.EXISTING,
        SolverLimits(),
    )
    assert report.complete and report.error is None
    ends = {
        (finding.source.kind, finding.source.pods, finding.destination.pods)
        for finding in report.findings
    }
    assert ends == {("external", (), ("app",))}
