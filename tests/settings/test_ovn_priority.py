"""The ovn-kubernetes profile: OVN-Kubernetes enforces AdminNetworkPolicies of priority 0-99
only (its docs' AdminNetworkPolicy page; the controller refuses a higher one), so every
command leaves a higher one out, with a warning, where upstream enforces it."""

from pathlib import Path

import pytest

from netverify.engine.scope import unenforced
from netverify.loading import load_manifests
from netverify.model import Settings
from netverify.model.profiles import PROFILES
from tests.cli.test_cli import EXIT_HOLDS, EXIT_VIOLATED, run

DENY_A_TO_B = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: b}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-a-to-b}
spec:
  priority: PRIORITY
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}
  ingress:
  - name: from-a
    action: Deny
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: a}}}]
"""

FORBID = """\
manifests: [cluster.yaml]
invariants:
  - name: a-never-reaches-b
    forbid: {from: {namespace: a}, to: {namespace: b}}
"""

WARNING = "priority 150 is above 99, the highest the CNI profile's network plugin enforces"


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("cluster.yaml").write_text(DENY_A_TO_B.replace("PRIORITY", "150"))
    Path("spec.yaml").write_text(FORBID)
    return tmp_path


def test_prove_holds_upstream_and_is_violated_under_ovn(cluster: Path) -> None:
    upstream = run("prove", "spec.yaml")
    assert upstream.exit_code == EXIT_HOLDS, upstream.output
    ovn = run("prove", "spec.yaml", "--profile", "ovn-kubernetes")
    assert ovn.exit_code == EXIT_VIOLATED, ovn.output
    assert f"cluster.yaml:9: warning: AdminNetworkPolicy deny-a-to-b: spec.priority: {WARNING}" in (
        ovn.stderr
    )
    assert "AdminNetworkPolicies of priority above 99 are left out" in ovn.stdout
    every = run("prove", "spec.yaml", "--all-profiles")
    assert "holds under upstream, cilium, calico, antrea; violated under ovn-kubernetes" in (
        every.stdout
    )


@pytest.mark.parametrize(
    ("command", "upstream", "ovn"),
    [
        (
            ["explain", "cluster.yaml", "--from", "a/client", "--to", "b/server", "--port", "80"],
            1,
            0,
        ),
        (["matrix", "cluster.yaml", "-f", "csv"], 0, 0),
        (["lint", "cluster.yaml"], 0, 0),
    ],
    ids=["explain", "matrix", "lint"],
)
def test_every_command_leaves_the_policy_out_under_ovn(
    cluster: Path, command: list[str], upstream: int, ovn: int
) -> None:
    """The same verdicts from every command under one profile, and the same warning."""
    plain = run(*command)
    assert plain.exit_code == upstream, plain.output
    assert WARNING not in plain.stderr
    under = run(*command, "--profile", "ovn-kubernetes")
    assert under.exit_code == ovn, under.output
    assert WARNING in under.stderr
    if command[0] == "matrix":
        assert "\na/client,b/server,,,false," in plain.stdout
        assert "\na/client,b/server,,,true," in under.stdout


def test_diff_sees_no_change_where_ovn_enforces_neither_revision(cluster: Path) -> None:
    """A priority moved from 150 to 200 changes nothing under ovn-kubernetes (neither is
    enforced); moved to 99, the Deny is enforced: connectivity removed."""
    Path("head").mkdir()
    Path("head/cluster.yaml").write_text(DENY_A_TO_B.replace("PRIORITY", "200"))
    same = run("diff", "cluster.yaml", "head/cluster.yaml", "--profile", "ovn-kubernetes")
    assert "no connectivity change" in same.stdout, same.output
    Path("head/cluster.yaml").write_text(DENY_A_TO_B.replace("PRIORITY", "99"))
    cut = run("diff", "cluster.yaml", "head/cluster.yaml", "--profile", "ovn-kubernetes")
    assert "0 added, 1 removed" in cut.stdout, cut.output


def test_only_admin_network_policies_above_the_limit_are_left_out(cluster: Path) -> None:
    loaded = load_manifests(["cluster.yaml"])
    ovn = PROFILES["ovn-kubernetes"].settings
    assert [p.name for p in unenforced(loaded.cluster, ovn)] == ["deny-a-to-b"]
    assert unenforced(loaded.cluster, Settings()) == []
    Path("cluster.yaml").write_text(DENY_A_TO_B.replace("PRIORITY", "99"))
    assert unenforced(load_manifests(["cluster.yaml"]).cluster, ovn) == []
