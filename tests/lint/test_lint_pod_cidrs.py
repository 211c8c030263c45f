"""Lint with `podCIDRs`: a check that replays a flow the solver found keeps the addresses
the solver gave pods whose addresses the manifests do not give."""

from ipaddress import ip_network
from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import Settings

DENY_EVERY_NETWORK = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-internet}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}}
  egress:
  - {name: deny-every-network, action: Deny, to: [{networks: [0.0.0.0/0, "::/0"]}]}
"""


def test_an_admin_deny_of_every_network_cuts_dns_at_the_pod_cidrs(tmp_path: Path) -> None:
    """network-policy-api's conformance Deny of 0.0.0.0/0: with podCIDRs the solver blocks
    DNS to kube-dns at an address of the pod CIDRs, and NVL017 replayed the flow to a
    kube-dns without one, which the Deny does not match: an internal error (ReplayMismatch)
    instead of the finding."""
    (tmp_path / "cluster.yaml").write_text(DENY_EVERY_NETWORK)
    loaded = load_manifests([str(tmp_path / "cluster.yaml")])
    settings = Settings(pod_cidrs=(ip_network("10.244.0.0/16"),))
    report = lint(loaded, settings, SolverLimits())
    (finding,) = [found for found in report.findings if found.check == "NVL017"]
    assert "kube-system/kube-dns" in finding.message
