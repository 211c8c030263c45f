"""The command line with admin policy tiers: explain names the deciding admin rule, prove
says `unknown` on an open order, matrix follows the tiers, and the commands that do not
model tiers yet say so."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

REPO = Path(__file__).resolve().parents[2]
GUARD = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: dev-guard
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {matchLabels: {kubernetes.io/metadata.name: dev}}
  egress:
  - name: deny-prod
    action: Deny
    to:
    - namespaces: {matchLabels: {kubernetes.io/metadata.name: prod}}
"""
ALLOW = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-prod}
spec:
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: dev}}}
  egress:
  - action: Allow
    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: prod}}}]
"""
SPEC = """\
manifests: [.]
invariants:
  - name: dev-never-reaches-prod
    forbid:
      from: {namespace: dev}
      to: {namespace: prod}
"""


@pytest.fixture
def devprod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for manifest in (REPO / "examples" / "devprod").glob("*.yaml"):
        shutil.copy(manifest, tmp_path)
    (tmp_path / "guard.yaml").write_text(GUARD)
    (tmp_path / "spec.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_explain_names_the_deciding_admin_rule_at_file_and_line(devprod: Path) -> None:
    code, out, _ = _run("explain", ".", "--from", "dev/web", "--to", "prod/db", "--port", "5432")
    assert code == 1
    assert (
        'egress: BLOCKED by admin tier: cnp/dev-guard egress[0] "deny-prod" Deny (./guard.yaml:11)'
        in out
    )


def test_explain_json_adds_the_admin_rule(devprod: Path) -> None:
    _, out, _ = _run(
        "explain", ".", "--from", "dev/web", "--to", "prod/db", "--port", "5432", "-f", "json"
    )
    rule = json.loads(out)["egress"]["admin_rule"]
    assert (rule["kind"], rule["name"], rule["action"], rule["rule"]) == (
        "ClusterNetworkPolicy",
        "deny-prod",
        "Deny",
        0,
    )


def test_prove_holds_by_the_admin_tier_and_is_unknown_on_an_open_order(devprod: Path) -> None:
    code, out, _ = _run("prove", "spec.yaml")
    assert code == 0, out
    (devprod / "allow.yaml").write_text(ALLOW)
    code, out, _ = _run("prove", "spec.yaml")
    assert code == 3, out
    assert "depends on the order of anp/allow-prod and cnp/dev-guard" in out


def test_matrix_follows_the_tiers_and_an_open_order(devprod: Path) -> None:
    code, out, err = _run("matrix", ".", "-f", "json")
    assert code == 0
    assert "does not model admin policy tiers" not in err
    cells = {(c["from"], c["to"]): c for c in json.loads(out)["cells"]}
    assert not cells["dev/web", "prod/web"]["allowed"]
    (devprod / "allow.yaml").write_text(ALLOW)
    code, out, _ = _run("matrix", ".", "-f", "json")
    assert code == 0
    matrix = json.loads(out)
    cell = next(c for c in matrix["cells"] if (c["from"], c["to"]) == ("dev/web", "prod/web"))
    assert cell["allowed"]
    assert cell["allowed_by"][0]["policy"] == {
        "namespace": None,
        "name": "allow-prod",
        "kind": "AdminNetworkPolicy",
    }
    assert any("a cell is allowed when some order allows it" in a for a in matrix["assumptions"])


def test_validate_summarises_the_tiers(devprod: Path) -> None:
    code, out, _ = _run("validate", ".")
    assert code == 0
    assert "admin tier: 1 (cnp/dev-guard (priority 10))" in out.splitlines()


def test_explain_is_unknown_on_an_open_order(devprod: Path) -> None:
    """The verdict shown follows netverify's order; where the API leaves the order open and
    the verdict depends on it, explain exits 3 as prove says unknown, never 0 or 1."""
    code, _, _ = _run("explain", ".", "--from", "dev/web", "--to", "prod/web", "--port", "8080")
    assert code == 1
    (devprod / "allow.yaml").write_text(ALLOW)
    code, out, _ = _run("explain", ".", "--from", "dev/web", "--to", "prod/web", "--port", "8080")
    assert code == 3, out
    assert "depends on the order of anp/allow-prod and cnp/dev-guard" in out


HOST_AGENT_AND_NODE_DENY = """\
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: prod, labels: {app: agent}}
spec: {hostNetwork: true, containers: [{name: a, image: x}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-linux-nodes}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: dev}}}
  egress:
  - name: deny-linux-nodes
    action: Deny
    to: [{nodes: {matchLabels: {kubernetes.io/os: linux}}}]
"""


def test_explain_is_unknown_where_a_nodes_peer_may_select_the_host_network_end(
    devprod: Path,
) -> None:
    """network-policy-api's experimental egress test: a Deny of the linux nodes and a
    host-network server whose node no loaded Node tells; prove said unknown, explain said
    'allowed', exit 0."""
    (devprod / "agent.yaml").write_text(HOST_AGENT_AND_NODE_DENY)
    code, out, _ = _run("explain", ".", "--from", "dev/web", "--to", "prod/agent", "--port", "80")
    assert code == 3, out
    assert "unknown: the verdict depends on which node host-network pod prod/agent runs on" in out
    code, out, _ = _run(
        "explain", ".", "--from", "dev/web", "--to", "prod/agent", "--port", "80", "-f", "json"
    )
    assert "depends on which node" in json.loads(out)["doubt"]


DOMAINS_ONLY = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dev-to-example-only}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: dev}}}
  egress:
  - {name: example, action: Accept, to: [{domainNames: ["*.example.com"]}]}
  - {name: nothing-else, action: Deny, to: [{networks: [0.0.0.0/0]}]}
"""


def test_explain_is_unknown_where_a_domain_names_peer_may_allow_a_blocked_flow(
    devprod: Path,
) -> None:
    (devprod / "domains.yaml").write_text(DOMAINS_ONLY)
    flow = ["--from", "dev/web", "--to", "198.51.100.7", "--port", "443"]
    code, out, _ = _run("explain", ".", *flow)
    assert code == 3, out
    assert "unless its destination is an address of a `domainNames` peer" in out
