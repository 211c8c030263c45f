"""`netverify migrate`: the files it writes, the proof, and its exit codes (0 proved, 1 flows
differ, 2 input errors and what v1alpha2 cannot say, with nothing written)."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

REPO = Path(__file__).resolve().parents[2]
ANP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: dev-guard}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {env: dev}}}
  egress:
  - name: deny-prod
    action: Deny
    to: [{namespaces: {matchLabels: {env: prod}}}]
    ports: [{portRange: {protocol: TCP, start: 1, end: 1024}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {env: qa}}}
  ingress:
  - name: default-deny
    action: Deny
    from: [{namespaces: {}}]
"""
CNP = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: allow-web}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {env: dev}}}
  egress:
  - action: Accept
    to: [{namespaces: {matchLabels: {env: prod}}}]
"""


@pytest.fixture
def blog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "examples" / "blog", tmp_path / "in")
    (tmp_path / "in" / "admin.yaml").write_text(ANP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_converts_writes_and_proves(blog: Path) -> None:
    code, out, _ = _run("migrate", "in", "--output", "out")
    assert code == 0, out
    assert out.splitlines() == [
        "migrate: wrote out/default.yaml",
        "migrate: wrote out/dev-guard.yaml",
        "migrate: equivalent (proved)",
    ]
    assert "tier: Baseline\n  priority: 1000\n" in (blog / "out" / "default.yaml").read_text()
    # The converted files replace the originals: the cluster proves the same again.
    (blog / "in" / "admin.yaml").unlink()
    code, out, _ = _run("migrate", "in", "out", "--output", "again")
    assert (code, out) == (
        0,
        "migrate: no AdminNetworkPolicy or BaselineAdminNetworkPolicy to convert\n",
    )


def test_an_order_the_conversion_defines_is_listed_and_exits_1(blog: Path) -> None:
    (blog / "in" / "allow.yaml").write_text(CNP)
    code, out, _ = _run("migrate", "in", "--output", "out")
    assert code == 1, out
    assert "migrate: not equivalent:" in out
    assert "before: allowed or blocked, by an order the API leaves open" in out
    assert 'anp/dev-guard egress[0] "deny-prod" Deny (in/admin.yaml:8)' in out
    assert "  after: allowed" in out


def test_what_v1alpha2_cannot_say_exits_2_and_writes_nothing(blog: Path) -> None:
    rules = "".join(
        f"  - {{action: Deny, to: [{{namespaces: {{matchLabels: {{n: '{i}'}}}}}}]}}\n"
        for i in range(26)
    )
    text = ANP.split("---")[0].split("  egress:")[0] + "  egress:\n" + rules
    (blog / "in" / "admin.yaml").write_text(text)
    code, _, err = _run("migrate", "in", "--output", "out")
    assert code == 2
    assert "no ClusterNetworkPolicy equivalent: 26 egress rules" in err
    assert not (blog / "out").exists()


def test_an_output_that_is_a_file_exits_2(blog: Path) -> None:
    (blog / "out").write_text("")
    code, _, err = _run("migrate", "in", "--output", "out")
    assert code == 2
    assert "--output out: not a folder" in err
