"""The ovn-kubernetes profile: OVN-Kubernetes enforces AdminNetworkPolicies of priority 0-99
only (its docs' AdminNetworkPolicy page; the controller refuses a higher one), so every
command leaves a higher one out, with a warning, where upstream enforces it."""

import json
from pathlib import Path

import pytest

from netverify.engine.scope import assumptions, enforced, unenforced
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
LEFT_OUT = (
    "1 AdminNetworkPolicy of priority above 99 is left out, as the network plugin does not "
    "enforce it (CNI profile)"
)


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
    assert f"{LEFT_OUT}: deny-a-to-b" in ovn.stdout
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
    assert f"{LEFT_OUT}: deny-a-to-b" in same.stdout
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


@pytest.mark.parametrize("priority", ["150", "99"])
def test_the_assumption_line_names_what_is_left_out_and_only_then(
    cluster: Path, priority: str
) -> None:
    """In prove's text and JSON and in matrix's JSON: the line with the count and names
    when a policy is left out, none when nothing is (priority 99 is enforced)."""
    Path("cluster.yaml").write_text(DENY_A_TO_B.replace("PRIORITY", priority))
    left_out = priority == "150"
    text = run("prove", "spec.yaml", "--profile", "ovn-kubernetes").stdout
    data = json.loads(run("prove", "spec.yaml", "--profile", "ovn-kubernetes", "-f", "json").stdout)
    matrix = json.loads(
        run("matrix", "cluster.yaml", "--profile", "ovn-kubernetes", "-f", "json").stdout
    )
    assert (LEFT_OUT in text) is left_out, text
    assert "priority above 99" in text or not left_out
    for notes in (data["specs"][0]["assumptions"], matrix["assumptions"]):
        lines = [line for line in notes if "priority above" in line]
        assert lines == ([f"{LEFT_OUT}: deny-a-to-b"] if left_out else []), notes


def test_the_assumption_line_counts_every_policy_left_out(tmp_path: Path) -> None:
    second = DENY_A_TO_B.split("---\n")[-1].replace("deny-a-to-b", "deny-more")
    path = tmp_path / "cluster.yaml"
    path.write_text(
        DENY_A_TO_B.replace("PRIORITY", "150") + "---\n" + second.replace("PRIORITY", "500")
    )
    loaded = enforced(load_manifests([str(path)]), PROFILES["ovn-kubernetes"].settings)
    (line,) = [
        line
        for line in assumptions(loaded.cluster, PROFILES["ovn-kubernetes"].settings)
        if "priority above" in line
    ]
    assert line == (
        "2 AdminNetworkPolicies of priority above 99 are left out, as the network plugin does "
        "not enforce them (CNI profile): deny-a-to-b, deny-more"
    )
