"""NVL017 admin-deny-cuts-dns on the ingress side: an Admin tier ingress Deny at the cluster
DNS pods, for both API versions (mutation-checked: each quiet case also lints without what
keeps it quiet). An Admin tier Deny is final: only an Admin rule that comes first (an
earlier Accept or Pass of its policy, a policy ordered before it) keeps DNS out of it."""

from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import ObjectRef, Settings
from netverify.model.lint import Finding
from tests.lint.test_baseline_dns import CLUSTER, KUBE_DNS_INGRESS, dns_findings

CNP_INGRESS_DENY = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: lock-system}
spec:
  tier: Admin
  priority: 20
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}
  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]
"""

ANP_INGRESS_DENY = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: lock-system}
spec:
  priority: 20
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}
  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]
"""

ANP_ACCEPT_DNS_FIRST = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: dns-first}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}
  ingress:
    - name: dns
      action: Allow
      from: [{namespaces: {}}]
      ports: [{portNumber: {protocol: UDP, port: 53}}, {portNumber: {protocol: TCP, port: 53}}]
"""

CNP_ACCEPT_DNS_FIRST = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dns-first}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}
  ingress:
    - name: dns
      action: Accept
      from: [{namespaces: {}}]
      protocols: [{udp: {destinationPort: {number: 53}}}, {tcp: {destinationPort: {number: 53}}}]
"""

CLIENTS_ACCEPT_DNS_EGRESS = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: clients-dns}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  egress:
    - name: dns
      action: Accept
      to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
"""


def _dns_cuts(tmp_path: Path, *documents: str) -> list[Finding]:
    return dns_findings(tmp_path, "NVL017", *documents)


def test_a_v1alpha2_admin_ingress_deny_at_the_dns_pods_cuts_dns(tmp_path: Path) -> None:
    (found,) = _dns_cuts(tmp_path, CNP_INGRESS_DENY)
    assert found.object == ObjectRef(
        kind="ClusterNetworkPolicy", namespace=None, name="lock-system"
    )
    message = found.message
    assert message.startswith('ingress[0] "deny-all" denies DNS')
    assert "-> kube-system/coredns UDP/53 is blocked" in message
    assert message.endswith("so the pods whose queries it blocks cannot resolve names")


def test_a_v1alpha1_admin_ingress_deny_at_the_dns_pods_cuts_dns(tmp_path: Path) -> None:
    (found,) = _dns_cuts(tmp_path, ANP_INGRESS_DENY)
    assert found.object == ObjectRef(kind="AdminNetworkPolicy", namespace=None, name="lock-system")
    assert found.message.startswith('ingress[0] "deny-all" denies DNS')


def test_nothing_but_the_admin_tier_keeps_dns_from_an_admin_ingress_deny(tmp_path: Path) -> None:
    """The DNS pods' NetworkPolicy admitting DNS, and an Admin egress Accept at the clients
    (which does not skip the DNS pods' ingress), decide after it or not at all."""
    cut = _dns_cuts(tmp_path, CNP_INGRESS_DENY, KUBE_DNS_INGRESS, CLIENTS_ACCEPT_DNS_EGRESS)
    assert len(cut) == 1


def test_an_earlier_accept_or_pass_of_dns_in_its_policy_keeps_it_quiet(tmp_path: Path) -> None:
    accept_first = CNP_INGRESS_DENY.replace(
        "ingress: [",
        "ingress: [{name: dns, action: Accept, from: [{namespaces: {}}], protocols: "
        "[{udp: {destinationPort: {number: 53}}}, {tcp: {destinationPort: {number: 53}}}]}, ",
    )
    assert not _dns_cuts(tmp_path, accept_first)
    assert not _dns_cuts(tmp_path, accept_first.replace("action: Accept", "action: Pass"))
    # Only UDP accepted: the Deny still takes TCP/53.
    udp_only = accept_first.replace(", {tcp: {destinationPort: {number: 53}}}", "")
    (found,) = _dns_cuts(tmp_path, udp_only)
    assert found.message.startswith('ingress[1] "deny-all"')
    assert "kube-system/coredns TCP/53 is blocked" in found.message


def test_an_admin_accept_of_higher_precedence_keeps_it_quiet(tmp_path: Path) -> None:
    assert not _dns_cuts(tmp_path, ANP_INGRESS_DENY, ANP_ACCEPT_DNS_FIRST)
    assert not _dns_cuts(tmp_path, CNP_INGRESS_DENY, CNP_ACCEPT_DNS_FIRST)
    later = ANP_ACCEPT_DNS_FIRST.replace("priority: 10", "priority: 30")
    assert len(_dns_cuts(tmp_path, ANP_INGRESS_DENY, later)) == 1
    later = CNP_ACCEPT_DNS_FIRST.replace("priority: 10", "priority: 30")
    assert len(_dns_cuts(tmp_path, CNP_INGRESS_DENY, later)) == 1


def test_an_accept_without_a_defined_order_keeps_it_quiet(tmp_path: Path) -> None:
    """Equal priorities, or the other API version: some order lets DNS through, and NVL017
    claims only what every order does (NVL015 names the open order)."""
    equal = CNP_ACCEPT_DNS_FIRST.replace("priority: 10", "priority: 20")
    assert not _dns_cuts(tmp_path, CNP_INGRESS_DENY, equal)
    assert not _dns_cuts(tmp_path, ANP_INGRESS_DENY, CNP_ACCEPT_DNS_FIRST)


def test_a_deny_of_other_ports_or_other_pods_keeps_it_quiet(tmp_path: Path) -> None:
    other_port = CNP_INGRESS_DENY.replace(
        "from: [{namespaces: {}}]",
        "from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 443}}}]",
    )
    assert not _dns_cuts(tmp_path, other_port)
    other_pods = CNP_INGRESS_DENY.replace(
        "subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}",
        "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}",
    )
    assert not _dns_cuts(tmp_path, other_pods)


def test_an_admin_policys_finding_is_suppressed_by_its_ignore_annotation(
    tmp_path: Path,
) -> None:
    """`netverify.io/ignore` silences a check on an admin policy as on a NetworkPolicy: the
    finding moves to `suppressed`; another check's id leaves it."""
    annotated = CNP_INGRESS_DENY.replace(
        "metadata: {name: lock-system}",
        'metadata: {name: lock-system, annotations: {netverify.io/ignore: "NVL017"}}',
    )
    path = tmp_path / "cluster.yaml"
    path.write_text("---".join([CLUSTER, annotated]))
    report = lint(load_manifests([str(path)]), Settings(), SolverLimits())
    assert [found.check for found in report.suppressed] == ["NVL017"]
    assert not [found for found in report.findings if found.check == "NVL017"]
    assert len(_dns_cuts(tmp_path, annotated.replace('"NVL017"', '"NVL020"'))) == 1
