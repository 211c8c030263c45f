"""A KNOWN BUG, found by tests/fix/test_fix_property.py on 2026-12-06 (it fails on main at
the session's start, bf372ae, too): the diff misses node-local flows an admin Deny of `nodes`
blocks. Pods of ns0 reach the hostNetwork pod `host` through their node on every port in
BASE (node-local traffic: NetworkPolicy never governs it); HEAD adds an Admin tier Deny of
egress to `nodes: {}`, which blocks it on every protocol and port. The diff says complete
but lists node-local UDP and SCTP 1-65535 and TCP only on port 1 (the port the egress rule
opened): TCP 2-65535 node-local is missing (2 x 65,534 flows short of the brute force:
262,144 counted, 393,212 changed).

Marked `xfail(strict=True)`: it turns red once the diff is fixed, so the marker goes then."""

from pathlib import Path

import pytest

from netverify.engine import SolverLimits
from netverify.engine.fix.rank import changed_flows, flow_count
from netverify.loading import load_manifests
from netverify.model import Settings
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


@pytest.mark.xfail(strict=True, reason="known bug: node-local TCP 2-65535 missing (see above)")
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
