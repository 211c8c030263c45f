"""Lint with `podCIDRs`: a check that replays a flow the solver found keeps the addresses
the solver gave pods whose addresses the manifests do not give, and a check that decides
flows between existing pods tries such pods at every address the policies tell apart, as
prove and explain do (`semantics.addresses`)."""

import textwrap
from ipaddress import ip_network
from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import Settings
from tests.settings.test_pod_cidrs import DENY_EVERY_NETWORK as ADMIN_DENY_OF_EVERY_NETWORK

POD_CIDRS = Settings(pod_cidrs=(ip_network("10.244.0.0/16"),))

DENY_EVERY_NETWORK = (
    """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
---
"""
    + ADMIN_DENY_OF_EVERY_NETWORK
)


def test_an_admin_deny_of_every_network_cuts_dns_at_the_pod_cidrs(tmp_path: Path) -> None:
    """network-policy-api's conformance Deny of 0.0.0.0/0: with podCIDRs the solver blocks
    DNS to kube-dns at an address of the pod CIDRs, and NVL017 replayed the flow to a
    kube-dns without one, which the Deny does not match: an internal error (ReplayMismatch)
    instead of the finding."""
    (tmp_path / "cluster.yaml").write_text(DENY_EVERY_NETWORK)
    loaded = load_manifests([str(tmp_path / "cluster.yaml")])
    report = lint(loaded, POD_CIDRS, SolverLimits())
    (finding,) = [found for found in report.findings if found.check == "NVL017"]
    assert "kube-system/kube-dns" in finding.message


SERVER = """\
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
---
apiVersion: v1
kind: Service
metadata: {name: server, namespace: default}
spec:
  selector: {app: server}
  ports: [{port: 80, targetPort: 8080}]
"""


def checks(tmp_path: Path, manifests: str, settings: Settings) -> list[str]:
    (tmp_path / "cluster.yaml").write_text(textwrap.dedent(manifests))
    report = lint(load_manifests([str(tmp_path / "cluster.yaml")]), settings, SolverLimits())
    return [found.check for found in report.findings]


def test_a_service_behind_an_admin_deny_of_every_network_is_unreachable(tmp_path: Path) -> None:
    """The client's egress Deny of 0.0.0.0/0 matches the server at its pod-CIDR address
    (explain says blocked); NVL014 decided the flow to a server at no address: quiet."""
    assert "NVL014" in checks(tmp_path, DENY_EVERY_NETWORK + SERVER, POD_CIDRS)
    assert "NVL014" not in checks(tmp_path, DENY_EVERY_NETWORK + SERVER, Settings())


def test_a_service_reachable_at_some_pod_cidr_address_is_not_unreachable(
    tmp_path: Path,
) -> None:
    """A Deny of half the pod CIDRs: a client in the other half reaches the server."""
    half = DENY_EVERY_NETWORK.replace('0.0.0.0/0, "::/0"', "10.244.0.0/17")
    assert "NVL014" not in checks(tmp_path, half + SERVER, POD_CIDRS)


DNS_BY_POD_CIDR = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
  - name: dns
    ports: [{containerPort: 53, protocol: UDP, name: dns}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-to-pods, namespace: default}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.244.0.0/16}}]
    ports: [{port: dns, protocol: UDP}]
"""


def test_an_ip_block_of_the_pod_cidrs_reaches_dns_and_defines_the_named_port(
    tmp_path: Path,
) -> None:
    """The ipBlock matches kube-dns at its pod-CIDR address (explain says allowed): no
    NVL006 (no DNS path) and no NVL007 (no pod the peers match defines port `dns`)."""
    found = checks(tmp_path, DNS_BY_POD_CIDR, POD_CIDRS)
    assert "NVL006" not in found and "NVL007" not in found
    assert {"NVL006", "NVL007"} <= set(checks(tmp_path, DNS_BY_POD_CIDR, Settings()))


TWO_WAYS_IN = """\
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default, labels: {app: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: 80}]
  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
    ports: [{port: 80}]
"""


def test_a_rule_an_ip_block_of_the_pod_cidrs_covers_is_redundant(tmp_path: Path) -> None:
    """Pod a at no address was evidence that ingress[0] alone admits something; at its
    pod-CIDR address the ipBlock admits it too, and the solver proves ingress[0] redundant."""
    assert "NVL003" in checks(tmp_path, TWO_WAYS_IN, POD_CIDRS)
    assert "NVL003" not in checks(tmp_path, TWO_WAYS_IN, Settings())
