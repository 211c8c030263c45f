"""A pair of a hostNetwork pod and a pod that may share its node changes apart on each
placement (found by tests/fix/test_fix_property.py): pods of ns0 reach the hostNetwork pod
`host` through their node on every port in BASE (node-local traffic: NetworkPolicy never
governs it), and across nodes on TCP/1 only (the egress rule); HEAD adds an Admin tier Deny
of egress to `nodes: {}`, which blocks both. The diff used to block a witness's product on
every placement: the across-nodes TCP/1 finding hid node-local TCP 2-65535, and the diff
said complete 2 x 65,534 flows short of the brute force."""

from pathlib import Path

from netverify.engine import SolverLimits
from netverify.engine.fix.rank import changed_flows, flow_count
from netverify.loading import load_manifests
from netverify.model import Settings
from netverify.report.describe import finding_title
from netverify.report.json import diff_json
from tests.fix.test_fix_property import changed_flows_by_brute_force

PODS = """
apiVersion: v1
kind: Namespace
metadata: {name: ns0}
---
apiVersion: v1
kind: Pod
metadata: {name: pod0, namespace: ns0}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: pod1, namespace: ns0}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.4}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: ns0}
spec: {hostNetwork: true, containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.2}
"""

EGRESS_ISOLATED = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np0, namespace: ns0}
spec:
  podSelector: {}
  policyTypes: [Egress]
"""

ONE_PORT_OUT = """
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{protocol: TCP, port: 1}]}]
"""

DENY_NODES = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-nodes}
spec:
  tier: Admin
  priority: 100
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: ns0}}}
  egress: [{name: nodes, action: Deny, to: [{nodes: {}}]}]
"""


def test_the_diff_counts_the_node_local_flows_an_admin_deny_of_nodes_blocks(
    tmp_path: Path,
) -> None:
    (tmp_path / "base.yaml").write_text(PODS + "---" + EGRESS_ISOLATED + ONE_PORT_OUT)
    (tmp_path / "head.yaml").write_text(PODS + "---" + EGRESS_ISOLATED + "---" + DENY_NODES)
    base, head = (load_manifests([str(tmp_path / f"{name}.yaml")]) for name in ("base", "head"))
    report = changed_flows(base, head, Settings(), SolverLimits())
    assert report.complete
    expected = changed_flows_by_brute_force(base.cluster, head.cluster)
    assert flow_count(report, base.cluster) == expected


def test_a_finding_is_of_one_placement_and_says_so(tmp_path: Path) -> None:
    """The across-nodes TCP/1 finding and the node-local one of every protocol and port are
    apart, the node-local one titled so (it would read as overlapping the other)."""
    (tmp_path / "base.yaml").write_text(PODS + "---" + EGRESS_ISOLATED + ONE_PORT_OUT)
    (tmp_path / "head.yaml").write_text(PODS + "---" + EGRESS_ISOLATED + "---" + DENY_NODES)
    base, head = (load_manifests([str(tmp_path / f"{name}.yaml")]) for name in ("base", "head"))
    report = changed_flows(base, head, Settings(), SolverLimits())
    to_host = [
        finding_title(finding)
        for finding in report.findings
        if finding.destination.pods == ("host",)
    ]
    only = [f for f in report.findings if f.head.node_local]
    assert [f["node_local"] for f in diff_json(report)["findings"] if "node_local" in f] == [
        "only"
    ] * len(only)
    assert sorted(to_host) == [
        "ns0/{pod0, pod1} [2 pods] -> ns0/{host} and 1 more destination group, TCP/1",
        "ns0/{pod0, pod1} [2 pods] -> ns0/{host} every protocol, every port on the same node",
    ]


DENY_NODE_EXPORTER_PORT = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-node-port}
spec:
  tier: Admin
  priority: 100
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: ns0}}}
  egress:
  - name: node-exporter
    action: Deny
    to: [{nodes: {}}]
    protocols: [{tcp: {destinationPort: {number: 9100}}}]
"""


def test_flows_that_change_alike_on_both_placements_are_one_finding(tmp_path: Path) -> None:
    """An Admin Deny of the nodes' TCP/9100 (node-exporter's port) cuts the pods from the
    hostNetwork pod wherever they run: one finding, for both placements, counted once."""
    (tmp_path / "base.yaml").write_text(PODS)
    (tmp_path / "head.yaml").write_text(PODS + "---" + DENY_NODE_EXPORTER_PORT)
    base, head = (load_manifests([str(tmp_path / f"{name}.yaml")]) for name in ("base", "head"))
    report = changed_flows(base, head, Settings(), SolverLimits())
    assert report.complete
    (finding,) = report.findings
    assert finding.also_node_local and not finding.head.node_local
    assert finding_title(finding) == "ns0/{pod0, pod1} [2 pods] -> ns0/{host} TCP/9100"
    assert flow_count(report, base.cluster) == 2
    assert changed_flows_by_brute_force(base.cluster, head.cluster) == 2
    (json_finding,) = diff_json(report)["findings"]
    assert json_finding["node_local"] == "also"
