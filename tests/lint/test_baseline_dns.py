"""NVL020 baseline-deny-cuts-dns: a Baseline tier Deny that blocks DNS where nothing above
it decides the side, for both API versions and both sides (mutation-checked: each quiet case
also lints without what keeps it quiet)."""

from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import Settings
from netverify.model.lint import Finding

CLUSTER = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
"""

CNP_BASELINE_EGRESS_DENY = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: default-deny}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
  egress: [{name: deny-all, action: Deny, to: [{namespaces: {}}]}]
"""

STORY_2_ADMIN_ALLOW = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: cluster-wide-allow-example}
spec:
  priority: 30
  subject: {namespaces: {}}
  egress:
    - action: Allow
      to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
"""
"""The network-policy-api user story 2 (its kube-dns egress Allow)."""

STORY_5_BASELINE_INGRESS_DENY = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{name: default-deny, action: Deny, from: [{namespaces: {}}]}]
"""
"""The network-policy-api user story 5: a Baseline ingress Deny over every namespace, the
DNS pods' own included."""

SHOP_DNS_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""

KUBE_DNS_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: kube-system}
spec:
  podSelector: {matchLabels: {k8s-app: kube-dns}}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: {}}]
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""


def dns_findings(tmp_path: Path, check: str, *documents: str) -> list[Finding]:
    """The findings of `check` when CLUSTER with `documents` is linted (NVL017's tests too)."""
    path = tmp_path / "cluster.yaml"
    path.write_text("---".join([CLUSTER, *documents]))
    report = lint(load_manifests([str(path)]), Settings(), SolverLimits())
    return [found for found in report.findings if found.check == check]


def _dns_cuts(tmp_path: Path, *documents: str) -> list[str]:
    return [found.message for found in dns_findings(tmp_path, "NVL020", *documents)]


def test_a_v1alpha2_baseline_egress_deny_cuts_dns(tmp_path: Path) -> None:
    (message,) = _dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY)
    assert message.startswith('egress[0] "deny-all" denies DNS')
    assert "where no NetworkPolicy isolates the client for egress: shop/" in message
    assert message.endswith(
        "-> kube-system/coredns UDP/53 is blocked, so the pods it blocks cannot resolve names"
    )


def test_a_network_policy_that_admits_dns_egress_decides_first(tmp_path: Path) -> None:
    assert not _dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY, SHOP_DNS_EGRESS)


def test_an_admin_accept_of_dns_decides_first_and_a_pass_does_not(tmp_path: Path) -> None:
    assert not _dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY, STORY_2_ADMIN_ALLOW)
    passing = STORY_2_ADMIN_ALLOW.replace("action: Allow", "action: Pass")
    assert len(_dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY, passing)) == 1


def test_stories_2_and_5_cut_dns_at_the_dns_pods_ingress(tmp_path: Path) -> None:
    """Story 2 accepts the clients' egress to kube-dns; story 5's Baseline ingress Deny
    still decides kube-dns's own ingress."""
    (message,) = _dns_cuts(tmp_path, STORY_2_ADMIN_ALLOW, STORY_5_BASELINE_INGRESS_DENY)
    assert message.startswith('ingress[0] "default-deny" denies DNS')
    assert "where no NetworkPolicy isolates kube-system/coredns for ingress: " in message


def test_a_network_policy_of_the_dns_pods_that_admits_dns_decides_first(tmp_path: Path) -> None:
    assert not _dns_cuts(
        tmp_path, STORY_2_ADMIN_ALLOW, STORY_5_BASELINE_INGRESS_DENY, KUBE_DNS_INGRESS
    )


def test_a_baseline_policy_that_comes_first_and_passes_dns_decides_first(tmp_path: Path) -> None:
    """A Baseline tier Pass allows (there is no tier after it)."""
    pass_dns = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dns-first}
spec:
  tier: Baseline
  priority: 5
  subject: {namespaces: {}}
  egress:
    - action: Pass
      to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
"""
    assert not _dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY, pass_dns)
    # Of equal priority the order is open, and NVL020 claims only what every order does.
    equal = pass_dns.replace("priority: 5", "priority: 10")
    assert not _dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY, equal)
    later = pass_dns.replace("priority: 5", "priority: 50")
    assert len(_dns_cuts(tmp_path, CNP_BASELINE_EGRESS_DENY, later)) == 1
