"""Reduced reproductions from the network-policy-api website and NPEPs (user stories,
NPEP-133's FQDN examples, the "Getting started with ANP" blog post): what their manifests,
as written there, make netverify say."""

import json
from pathlib import Path

import pytest

from .test_cli import EXIT_HOLDS, EXIT_UNKNOWN, EXIT_VIOLATED, run

NPEP_133_V1ALPHA1_CNP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: ClusterNetworkPolicy
metadata:
  name: allow-my-service-egress
spec:
  priority: 55
  tier: Admin
  subject:
    namespaces: {}
  egress:
  - name: "allow-to-my-service"
    action: "Allow"
    to:
    - domainNames: ["my-service.com"]
"""
"""NPEP-133's example, in an apiVersion ClusterNetworkPolicy never had."""


def test_validate_names_an_unmodelled_cluster_scoped_object_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster-scoped object has no namespace to print before a slash; its apiVersion
    says why it is not modelled."""
    monkeypatch.chdir(tmp_path)
    Path("cnp.yaml").write_text(NPEP_133_V1ALPHA1_CNP)
    result = run("validate", "cnp.yaml")
    assert result.exit_code == EXIT_HOLDS, result.output
    expected = (
        "not modelled (verdicts they may decide are unknown): ClusterNetworkPolicy "
        "allow-my-service-egress (policy.networking.k8s.io/v1alpha1)\n"
    )
    assert expected in result.stdout


NPEP_133_ALLOWLIST = """\
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: monitoring}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod}
status: {podIP: 10.244.1.5}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: allow-my-service-egress}
spec:
  priority: 55
  tier: Admin
  subject:
    namespaces:
      matchLabels: {kubernetes.io/metadata.name: monitoring}
  egress:
  - name: allow-to-my-service
    action: Accept
    to: [{domainNames: ["my-service.com", "*.cloud-provider.io"]}]
  - name: default-deny
    action: Deny
    to: [{namespaces: {}}]
"""
"""NPEP-133's allowlist of domains in one ClusterNetworkPolicy (its default deny narrowed to
pods): a name may resolve to a pod's address (a pod's or a headless Service's DNS name)."""


def test_matrix_notes_the_cells_a_domain_names_accept_may_decide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cell is shown blocked (names match no address), with a note in text as in JSON,
    as explain's verdict is unknown."""
    monkeypatch.chdir(tmp_path)
    Path("fqdn.yaml").write_text(NPEP_133_ALLOWLIST)
    note = "cnp/allow-my-service-egress accepts egress to `domainNames`, which netverify cannot"
    text = run("matrix", "fqdn.yaml")
    assert text.exit_code == EXIT_HOLDS, text.output
    assert f"note: {note}" in text.stdout
    data = json.loads(run("matrix", "fqdn.yaml", "-f", "json").stdout)
    assert any(line.startswith(note) for line in data["undecided"])
    explained = run(
        "explain", "fqdn.yaml", "--from", "monitoring/agent", "--to", "prod/db", "--port", "443"
    )
    assert explained.exit_code == EXIT_UNKNOWN, explained.output


BLOG_MONITORING = """\
apiVersion: v1
kind: Namespace
metadata: {name: monitoring-ns}
---
apiVersion: v1
kind: Pod
metadata: {name: prober, namespace: monitoring-ns}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: s1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: s2}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: cluster-basic-allow}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  ingress:
  - action: Accept
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring-ns}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: default}
spec:
  tier: Baseline
  priority: 20
  subject: {namespaces: {}}
  egress:
  - action: Deny
    to: [{namespaces: {}}]
"""
"""The "Getting started with ANP" blog post's claim 4, "traffic from the monitoring-ns
towards any namespace is always allowed", reduced: its ingress Accept leaves the prober's
egress to the Baseline tier's Deny."""

BLOG_MONITORING_SPEC = """\
manifests: [cluster.yaml]
invariants:
  - name: monitoring-always
    require:
      from: {namespace: monitoring-ns}
      to:
        namespace:
          matchExpressions:
            - {key: kubernetes.io/metadata.name, operator: NotIn, values: [monitoring-ns]}
"""


def test_a_finding_with_more_destination_groups_puts_a_comma_before_its_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("cluster.yaml").write_text(BLOG_MONITORING)
    Path("spec.yaml").write_text(BLOG_MONITORING_SPEC)
    result = run("prove", "--all", "spec.yaml")
    assert result.exit_code == EXIT_VIOLATED, result.output
    assert (
        "  [1] monitoring-ns/{prober} -> s1/{web} and 1 more destination group, every protocol, "
        "every port\n" in result.stdout
    ) or (
        "  [1] monitoring-ns/{prober} -> s2/{db} and 1 more destination group, every protocol, "
        "every port\n" in result.stdout
    ), result.stdout


def _open_order(deny_header: str) -> str:
    """A Deny of a -> b (with `deny_header`: its apiVersion, kind, tier and priority) beside
    an Accept of it, a ClusterNetworkPolicy of the Admin tier of priority 10."""
    return f"""\
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: a}}
---
apiVersion: v1
kind: Pod
metadata: {{name: server, namespace: b}}
---
{deny_header}
  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: b}}}}}}
  ingress:
  - name: from-a
    action: Deny
    from: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: a}}}}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: allow-a}}
spec:
  tier: Admin
  priority: 10
  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: b}}}}}}
  ingress:
  - name: from-a
    action: Accept
    from: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: a}}}}}}]
"""


ANP_DENY = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-a}
spec:
  priority: 10"""

CNP_DENY = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-a}
spec:
  tier: Admin
  priority: PRIORITY"""


@pytest.mark.parametrize(
    ("deny", "expected"),
    [
        (ANP_DENY, "cnp/allow-a, anp/deny-a"),
        (CNP_DENY.replace("PRIORITY", "10"), "cnp/allow-a, cnp/deny-a"),
        (CNP_DENY.replace("PRIORITY", "5"), None),
    ],
    ids=["api-versions", "equal-priorities", "ordered"],
)
def test_the_human_matrix_notes_admin_policies_whose_order_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deny: str, expected: str | None
) -> None:
    """Text, markdown and html say what JSON's assumptions say (a cell is allowed when some
    order allows it), naming the policies; nothing when the order is defined."""
    monkeypatch.chdir(tmp_path)
    Path("cluster.yaml").write_text(_open_order(deny))
    note = (
        "Admin tier policies with no defined order against another (equal priority, or the "
        f"other API version): {expected}; a cell is allowed when some order allows it "
        "(explain shows each order)"
    )
    text = run("matrix", "cluster.yaml").stdout
    markdown = run("matrix", "cluster.yaml", "-f", "markdown").stdout
    page = run("matrix", "cluster.yaml", "-f", "html").stdout
    data = json.loads(run("matrix", "cluster.yaml", "-f", "json").stdout)
    if expected is None:
        assert "no defined order" not in text + markdown + page
        assert "undecided" not in data
        return
    assert f"note: {note}\n" in text
    assert f"> **Note:** {note}\n" in markdown
    assert json.dumps(note) in page
    assert note in data["undecided"]
    assert any("a cell is allowed when some order allows it" in n for n in data["assumptions"])
