"""`netverify fix` where admin policy tiers decide: a NetworkPolicy overrides the Baseline
tier, an Admin tier Deny overrides an Admin Accept and blocks node-local traffic, and an
Admin tier Deny is never weakened; among v1alpha1 policies the Deny is one of them."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.model import AdminAction, AdminPolicy, Direction, Tier
from netverify.model.fix import ChangeKind
from tests.fix.test_fix import (
    DEFAULT_DENY,
    FROM_EVERY_NAMESPACE,
    NAMESPACES_AND_PODS,
    REPO,
    _apply_patch,
    _first_candidates,
    _fix,
    _prove_exit,
)

ACCEPT_A_TO_B = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: a-to-b}
spec:
  tier: Admin
  priority: 5
  subject:
    namespaces:
      matchLabels: {kubernetes.io/metadata.name: b}
  ingress:
    - name: from-a
      action: ACTION
      from:
        - namespaces:
            matchLabels: {kubernetes.io/metadata.name: a}
"""

FORBID_CLIENT = """\
manifests: [cluster.yaml, policies.yaml, admin.yaml]
invariants:
  - name: client-never-reaches-server
    forbid:
      from: {pod: a/client}
      to: {pod: b/server}
"""

REQUIRE_CLIENT = """\
manifests: [cluster.yaml, policies.yaml, admin.yaml]
invariants:
  - name: client-reaches-server
    require:
      from: {pod: a/client}
      to: {pod: b/server}
      ports: ["8080/TCP"]
"""

NO_POLICIES = "# No NetworkPolicies yet.\n"


def _write(
    folder: Path,
    admin: str,
    spec: str,
    cluster: str = NAMESPACES_AND_PODS,
    policies: str = NO_POLICIES,
) -> Path:
    (folder / "cluster.yaml").write_text(cluster)
    (folder / "policies.yaml").write_text(policies)
    (folder / "admin.yaml").write_text(admin)
    (folder / "spec.yaml").write_text(spec)
    return folder / "spec.yaml"


def test_a_forbid_an_admin_accept_lets_through_gets_an_earlier_admin_deny(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No NetworkPolicy can block what an Admin Accept accepts: the fix is a Deny before it."""
    spec = _write(tmp_path, ACCEPT_A_TO_B.replace("ACTION", "Accept"), FORBID_CLIENT)
    (entry,) = _fix(spec).invariants
    assert entry.fixes, entry.reason
    best = entry.fixes[0].candidate
    assert best.change is ChangeKind.ADD_ADMIN_DENY
    (edit,) = best.edits
    assert isinstance(edit.after, AdminPolicy) and edit.before is None
    assert (edit.after.tier, edit.after.priority) == (Tier.ADMIN, 4)
    (rule,) = edit.after.rules(edit.direction)
    assert rule.action is AdminAction.DENY
    monkeypatch.chdir(tmp_path)
    assert _prove_exit("spec.yaml") == 1
    _apply_patch(tmp_path, "spec.yaml")
    assert "kind: ClusterNetworkPolicy" in (tmp_path / "admin.yaml").read_text()
    assert _prove_exit("spec.yaml") == 0


ALLOW_A_TO_B_V1ALPHA1 = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a-to-b}
spec:
  priority: 5
  subject:
    namespaces:
      matchLabels: {kubernetes.io/metadata.name: b}
  ingress:
    - name: from-a
      action: Allow
      from:
        - namespaces:
            matchLabels: {kubernetes.io/metadata.name: a}
"""


def test_an_admin_deny_among_v1alpha1_policies_is_an_admin_network_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ClusterNetworkPolicy has no defined order with AdminNetworkPolicies, whatever its
    priority: the Deny "before every other admin policy" was left unknown by the proof (no
    fix; network-policy-api's v1alpha1 conformance manifests). As an AdminNetworkPolicy it
    comes first, and its ports are written in v1alpha1's syntax."""
    ports = '      ports: ["8080/TCP", "9000-9100/UDP"]\n'
    spec = _write(tmp_path, ALLOW_A_TO_B_V1ALPHA1, FORBID_CLIENT + ports)
    (entry,) = _fix(spec).invariants
    assert entry.fixes, entry.failed
    (edit,) = entry.fixes[0].candidate.edits
    assert isinstance(edit.after, AdminPolicy)
    assert (edit.after.kind, edit.after.priority) == ("AdminNetworkPolicy", 4)
    monkeypatch.chdir(tmp_path)
    assert _prove_exit("spec.yaml") == 1
    _apply_patch(tmp_path, "spec.yaml")
    written = (tmp_path / "admin.yaml").read_text()
    assert "kind: AdminNetworkPolicy" in written and "portRange:" in written
    assert _prove_exit("spec.yaml") == 0


def test_a_require_an_admin_deny_blocks_gets_no_fix_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, ACCEPT_A_TO_B.replace("ACTION", "Deny"), REQUIRE_CLIENT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["fix", "spec.yaml"])
    assert result.exit_code == 1
    assert "denied by the Admin tier" in result.stdout
    assert "never weaken" in result.stdout


def test_a_require_the_baseline_tier_blocks_gets_a_network_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin-tiers example's violated require: a NetworkPolicy selecting the pod decides
    before the Baseline tier's default deny; the patch makes prove pass."""
    shutil.copytree(REPO / "examples" / "admin-tiers", tmp_path / "examples" / "admin-tiers")
    (tmp_path / "specs").mkdir()
    shutil.copy(REPO / "specs" / "admin-tiers.yaml", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert _prove_exit("specs/admin-tiers.yaml") == 1
    result = CliRunner().invoke(app, ["fix", "specs/admin-tiers.yaml"])
    assert result.exit_code == 0, result.output
    assert "qa-reaches-dev-web: 2 proved fix(es)" in result.stdout
    _apply_patch(tmp_path, "specs/admin-tiers.yaml")
    assert _prove_exit("specs/admin-tiers.yaml") == 0


NODE_LOCAL = """\
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Pod
metadata: {name: node-exporter, namespace: monitoring, labels: {app: node-exporter}}
spec:
  hostNetwork: true
  nodeName: node-a
  containers: [{name: c, image: x, ports: [{containerPort: 9100}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: grafana, namespace: monitoring, labels: {app: grafana}}
spec: {nodeName: node-a, containers: [{name: c, image: x}]}
"""

GRAFANA_EGRESS = """\
# grafana may only call out on 443 (node-local traffic passes anyway).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: grafana-egress, namespace: monitoring}
spec:
  podSelector:
    matchLabels: {app: grafana}
  policyTypes: [Egress]
  egress:
    - ports: [{protocol: TCP, port: 443}]
"""

FORBID_TO_NODE_EXPORTER = """\
manifests: [cluster.yaml, policies.yaml, admin.yaml]
invariants:
  - name: grafana-never-reaches-node-exporter
    forbid:
      from: {pod: monitoring/grafana}
      to: {pod: monitoring/node-exporter}
"""


def test_node_local_traffic_is_blocked_by_an_admin_deny_to_the_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NetworkPolicy never blocks a pod's traffic to its own node; an Admin tier egress
    Deny to the nodes does."""
    spec = _write(tmp_path, "# none yet\n", FORBID_TO_NODE_EXPORTER, NODE_LOCAL, GRAFANA_EGRESS)
    (entry,) = _fix(spec).invariants
    assert entry.fixes, entry.reason
    best = entry.fixes[0].candidate
    assert best.change is ChangeKind.ADD_ADMIN_DENY
    (edit,) = best.edits
    assert edit.direction is Direction.EGRESS
    assert isinstance(edit.after, AdminPolicy)
    (peer,) = edit.after.egress[0].peers
    assert peer.nodes is not None
    monkeypatch.chdir(tmp_path)
    assert _prove_exit("spec.yaml") == 1
    _apply_patch(tmp_path, "spec.yaml")
    assert "kind: ClusterNetworkPolicy" in (tmp_path / "policies.yaml").read_text()
    assert _prove_exit("spec.yaml") == 0


PASS_AND_DENY_A_TO_B = (
    ACCEPT_A_TO_B.replace("a-to-b", "a-pass").replace("ACTION", "Pass")
    + "---\n"
    + ACCEPT_A_TO_B.replace("a-to-b", "b-deny").replace("ACTION", "Deny")
)
"""Two Admin tier policies of one priority, a Pass and a Deny of a's ingress to b: blocked in
either order while no NetworkPolicy admits it, allowed in one order once one does."""


def test_a_candidate_unknown_by_an_open_admin_order_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure carries prove's reason (the order the API leaves open), not "solver
    unknown"; JSON keeps `reason: unknown` and adds it as `detail`."""
    _write(tmp_path, PASS_AND_DENY_A_TO_B, REQUIRE_CLIENT, policies=DEFAULT_DENY)
    monkeypatch.chdir(tmp_path)
    text = CliRunner().invoke(app, ["fix", "spec.yaml"])
    assert text.exit_code == 1, text.output
    whys = [line for line in text.stdout.splitlines() if line.startswith("    why: ")]
    assert whys and "solver unknown" not in text.stdout
    opened = "the verdict depends on the order of cnp/a-pass and cnp/b-deny, which the API"
    assert all(why.startswith(f"    why: could not be proved: {opened}") for why in whys)
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--format", "json"])
    (entry,) = json.loads(result.stdout)["specs"][0]["invariants"]
    assert entry["failed"]
    for item in entry["failed"]:
        assert item["reason"] == "unknown" and item["detail"].startswith(opened)


PASS_CNP = ACCEPT_A_TO_B.replace("a-to-b", "cnp-pass").replace("ACTION", "Pass")
PASS_ANP = ALLOW_A_TO_B_V1ALPHA1.replace("a-to-b", "anp-pass").replace("Allow", "Pass")
PASS_CNP_EGRESS = (
    PASS_CNP.replace("cnp-pass", "cnp-egress")
    .replace("name: b}", "name: TO}")
    .replace("name: a}", "name: b}")
    .replace("name: TO}", "name: a}")
    .replace("ingress:", "egress:")
    .replace("from:", "to:")
)
"""A's egress to b passed on by a ClusterNetworkPolicy."""


@pytest.mark.parametrize(
    ("admin", "ingress_kind", "egress_kind"),
    [
        (PASS_CNP, "ClusterNetworkPolicy", "ClusterNetworkPolicy"),
        (PASS_ANP, "AdminNetworkPolicy", "AdminNetworkPolicy"),
        (PASS_CNP + "---\n" + PASS_ANP, None, "ClusterNetworkPolicy"),
        (PASS_CNP_EGRESS + "---\n" + PASS_ANP, "AdminNetworkPolicy", "ClusterNetworkPolicy"),
    ],
    ids=["v1alpha2", "v1alpha1", "both", "one-per-side"],
)
def test_no_admin_deny_is_proposed_where_its_order_would_be_undefined(
    tmp_path: Path, admin: str, ingress_kind: str | None, egress_kind: str
) -> None:
    """With ingress rules of both API versions in the Admin tier, no ingress Deny has a
    defined place before them (its proof could only end unknown): it is not proposed. The
    egress Deny, which no admin egress rule competes with, is, and so are the NetworkPolicy
    candidates (the admin policies pass the flow on): the same as without admin policies.
    Each side's Deny is of the version of the policies with rules on that side."""
    spec = _write(tmp_path, admin, FORBID_CLIENT, policies=FROM_EVERY_NAMESPACE)
    *_, proposed = _first_candidates(spec)
    denies = {
        edit.direction: edit.after.kind
        for deny in proposed
        if deny.change is ChangeKind.ADD_ADMIN_DENY
        for edit in deny.edits
    }
    expected = {Direction.INGRESS: ingress_kind, Direction.EGRESS: egress_kind}
    assert denies == {direction: kind for direction, kind in expected.items() if kind}
    others = [c for c in proposed if c.change is not ChangeKind.ADD_ADMIN_DENY]
    without_admin = tmp_path / "plain"
    without_admin.mkdir()
    plain = _write(without_admin, "# none\n", FORBID_CLIENT, policies=FROM_EVERY_NAMESPACE)
    *_, plain_proposed = _first_candidates(plain)
    assert others and [c.why for c in others] == [c.why for c in plain_proposed]


def test_an_egress_admin_deny_is_proved_beside_ingress_rules_of_both_versions(
    tmp_path: Path,
) -> None:
    """The two versions' order is left open at ingress only: a Deny at the client's egress
    comes before every admin policy that decides there (none), and is proved."""
    accept = ACCEPT_A_TO_B.replace("a-to-b", "cnp-accept").replace("ACTION", "Accept")
    spec = _write(tmp_path, accept + "---\n" + ALLOW_A_TO_B_V1ALPHA1, FORBID_CLIENT)
    (entry,) = _fix(spec).invariants
    denies = [f for f in entry.fixes if f.candidate.change is ChangeKind.ADD_ADMIN_DENY]
    assert [edit.direction for f in denies for edit in f.candidate.edits] == [Direction.EGRESS]


EGRESS_CNP_FIRST = (
    PASS_CNP_EGRESS.replace("cnp-egress", "cnp-first")
    .replace("priority: 5", "priority: PRIORITY")
    .replace("action: Pass", "action: Accept")
)
"""A ClusterNetworkPolicy ahead of every other admin policy, with egress rules only."""


@pytest.mark.parametrize("priority", [0, 3])
def test_an_admin_deny_comes_before_the_policies_deciding_its_side_and_says_only_that(
    tmp_path: Path, priority: int
) -> None:
    """Among an AdminNetworkPolicy accepting a's ingress to b (priority 5) and an egress-only
    ClusterNetworkPolicy at a lower priority, the ingress Deny is an AdminNetworkPolicy just
    before the first: the API leaves its order with the ClusterNetworkPolicy open, which
    decides nothing at ingress, so its why names only the policies it comes before, and a
    ClusterNetworkPolicy at priority 0 does not keep it from being proposed."""
    admin = EGRESS_CNP_FIRST.replace("PRIORITY", str(priority)) + "---\n" + ALLOW_A_TO_B_V1ALPHA1
    spec = _write(tmp_path, admin, FORBID_CLIENT)
    (entry,) = _fix(spec).invariants
    (deny,) = [
        f.candidate
        for f in entry.fixes
        for edit in f.candidate.edits
        if f.candidate.change is ChangeKind.ADD_ADMIN_DENY and edit.direction is Direction.INGRESS
    ]
    (edit,) = deny.edits
    assert isinstance(edit.after, AdminPolicy)
    assert (edit.after.kind, edit.after.priority) == ("AdminNetworkPolicy", 4)
    assert "before every Admin tier policy with ingress rules" in deny.why
    assert "every other admin policy" not in deny.why
