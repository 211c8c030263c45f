"""Without `podCIDRs`, a pod whose address the manifests do not give matches no ipBlock or
networks peer. prove lists that among its assumptions; explain says so where its verdict
rests on it (it said "allowed" under an Admin Deny of 0.0.0.0/0, with no word that in a real
cluster the destination's address is in 0.0.0.0/0), and keeps the verdict, as prove does."""

import json
import shutil
from pathlib import Path

import pytest

from tests.report.helpers import REPO
from tests.settings.helpers import run_cli

DENY_EVERY_NETWORK = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-networks}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {name: deny-every-network, action: Deny, to: [{networks: [0.0.0.0/0]}]}
"""

EGRESS_TO_10 = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-to-10, namespace: dev}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
"""

SPEC = """\
manifests: [namespaces.yaml, workloads.yaml, policies.yaml, extra.yaml]
invariants:
- name: dev-web-reaches-prod-web
  require:
    from: {namespace: {env: dev}, pod: {app: web}}
    to: {namespace: {env: prod}, pod: {app: web}}
    ports: [8080]
"""
FLOW = ["--from", "dev/web", "--to", "prod/web", "--port", "8080"]
NOTE = (
    "note: prod/web (app=web,tier=web) has no known address: taken to match no ipBlock or "
    "networks peer, though at some address the flow would be {other} (set podCIDRs in the "
    "settings to decide by its address)"
)


@pytest.fixture
def devprod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/devprod (workloads only: no pod has a known address), with `extra.yaml`."""
    for manifest in (REPO / "examples" / "devprod").glob("*.yaml"):
        shutil.copy(manifest, tmp_path)
    (tmp_path / "extra.yaml").write_text("")
    (tmp_path / "spec.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("extra", "code", "other"), [(DENY_EVERY_NETWORK, 0, "blocked"), (EGRESS_TO_10, 1, "allowed")]
)
def test_explain_says_its_verdict_rests_on_an_end_without_an_address(
    devprod: Path, extra: str, code: int, other: str
) -> None:
    (devprod / "extra.yaml").write_text(extra)
    explained, out = run_cli("explain", ".", *FLOW)
    assert explained == code, out
    assert out.splitlines()[-1] == "  " + NOTE.format(other=other)
    explained, out = run_cli("explain", ".", *FLOW, "--format", "json")
    assert explained == code, out
    answer = json.loads(out)
    assert answer["allowed"] is (code == 0)
    assert answer["assumptions"] == [NOTE.format(other=other).removeprefix("note: ")]
    proved, proof = run_cli("prove", "spec.yaml")
    assert proved == code, proof
    assert "have no known address and match no" in proof
    # --strict: a verdict resting on the assumption is unknown, either way.
    explained, out = run_cli("explain", ".", *FLOW, "--strict")
    assert explained == 3, out
    assert out.splitlines()[-1] == "  " + NOTE.format(other=other)


def test_no_note_where_no_ipblock_or_networks_peer_could_match_the_end(devprod: Path) -> None:
    explained, out = run_cli("explain", ".", *FLOW)
    assert explained == 0, out
    assert run_cli("explain", ".", *FLOW, "--strict")[0] == 0
    assert "note:" not in out
    _, out = run_cli("explain", ".", *FLOW, "--format", "json")
    assert "assumptions" not in json.loads(out)


def test_pod_cidrs_decide_by_the_address_instead(devprod: Path) -> None:
    (devprod / "extra.yaml").write_text(DENY_EVERY_NETWORK)
    explained, out = run_cli("explain", ".", *FLOW, "--pod-cidr", "10.244.0.0/16")
    assert explained == 1, out
    assert "no known address" not in out
    assert "the same verdict at each, shown at one" in out
