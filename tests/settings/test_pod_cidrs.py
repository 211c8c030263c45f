"""Pods without a known address get one in `podCIDRs` on every command: explain decides the
flow at every address the policies tell apart (network-policy-api's conformance test
CNPAdminTierEgressInlineCIDRPeers denies 0.0.0.0/0 to pods whose addresses the manifests do
not give: prove with podCIDRs said blocked, explain said allowed)."""

import json
from pathlib import Path

import pytest

from tests.settings.helpers import run_cli

MANIFESTS = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
spec: {containers: [{name: web, ports: [{containerPort: 80}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-client-subnet, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/24}}]
"""
"""The server admits only 10.0.0.0/24; no pod has a known address."""

DENY_EVERY_NETWORK = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-internet}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}}
  egress:
  - {name: deny-every-network, action: Deny, to: [{networks: [0.0.0.0/0, "::/0"]}]}
"""

SPEC = """\
manifests: [manifests.yaml]
invariants:
- name: client-reaches-server
  require: {from: {pod: {app: client}}, to: {pod: {app: server}}, ports: [80]}
"""
FLOW = ["--from", "default/client", "--to", "default/server", "--port", "80"]
FROM_CLIENT_TO_SERVER = ("default/client", "default/server")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "manifests.yaml").write_text(MANIFESTS)
    (tmp_path / "spec.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("pod_cidr", "verdict"),
    [
        ([], 1),  # no address: the ipBlock matches no pod
        (["--pod-cidr", "10.0.0.0/24"], 0),  # every address is in the ipBlock
        (["--pod-cidr", "10.1.0.0/16"], 1),  # none is
        (["--pod-cidr", "10.0.0.0/23"], 3),  # half are: it depends on the address
    ],
)
def test_explain_and_prove_agree_at_every_pod_address(
    folder: Path, pod_cidr: list[str], verdict: int
) -> None:
    code, out = run_cli("explain", "manifests.yaml", *FLOW, *pod_cidr)
    assert code == verdict, out
    proved, proof = run_cli("prove", "spec.yaml", *pod_cidr)
    assert proved == (0 if verdict == 0 else 1), proof


def test_explain_says_which_addresses_decide_otherwise(folder: Path) -> None:
    code, out = run_cli("explain", "manifests.yaml", *FLOW, "--pod-cidr", "10.0.0.0/23")
    assert code == 3
    assert "unknown: the verdict depends on pod addresses the manifests do not give" in out
    assert "blocked at default/client (app=client) [10.0.1.0]" in out
    _, out = run_cli("explain", "manifests.yaml", *FLOW, "--pod-cidr", "10.0.0.0/23", "-f", "json")
    answer = json.loads(out)
    assert answer["allowed"] is True
    assert answer["addresses"] == ["10.0.0.0/23"]
    assert answer["address_dependent"]["allowed"] is False
    assert answer["address_dependent"]["from"]["ip"] == "10.0.1.0"


def test_an_admin_deny_of_every_network_blocks_pods_given_addresses(folder: Path) -> None:
    pods = MANIFESTS.split("---\napiVersion: networking.k8s.io/v1")[0]
    (folder / "manifests.yaml").write_text(pods + "---\n" + DENY_EVERY_NETWORK)
    code, out = run_cli("explain", "manifests.yaml", *FLOW, "--pod-cidr", "10.244.0.0/16")
    assert code == 1, out
    assert 'egress: BLOCKED by admin tier: cnp/no-internet egress[0] "deny-every-network"' in out
    assert "the same verdict at each, shown at one" in out


def test_matrix_says_which_cells_pod_addresses_may_decide(folder: Path) -> None:
    """The bit sets leave pods without a known address at none: with podCIDRs that an
    ipBlock overlaps, the matrix says its cells with such an end may differ (it showed the
    network-policy-api conformance pods reaching each other through an Admin Deny of
    0.0.0.0/0, under the assumption 'pods ... have one in the pod CIDRs')."""
    code, out = run_cli("matrix", "manifests.yaml", "--pod-cidr", "10.0.0.0/23", "-f", "json")
    assert code == 0
    (note,) = json.loads(out)["undecided"]
    assert note.startswith("cells with an end among the 2 pods without a known address")
    for pod_cidr, allowed in (("10.1.0.0/16", False), ("10.0.0.0/24", True), (None, False)):
        flags = ["--pod-cidr", pod_cidr] if pod_cidr else []
        _, out = run_cli("matrix", "manifests.yaml", *flags, "-f", "json")
        matrix = json.loads(out)
        assert "undecided" not in matrix, pod_cidr
        (cell,) = [c for c in matrix["cells"] if (c["from"], c["to"]) == FROM_CLIENT_TO_SERVER]
        assert cell["allowed"] is allowed, pod_cidr


def test_matrix_gives_pods_the_address_every_pod_cidr_address_is_alike_to(folder: Path) -> None:
    """An Admin Deny of every network blocks pods at any address the pod CIDRs give them:
    the matrix showed the client reaching the server (network-policy-api's conformance pods
    reaching each other through a Deny of 0.0.0.0/0)."""
    pods = MANIFESTS.split("---\napiVersion: networking.k8s.io/v1")[0]
    (folder / "manifests.yaml").write_text(pods + "---\n" + DENY_EVERY_NETWORK)
    _, out = run_cli("matrix", "manifests.yaml", "--pod-cidr", "10.244.0.0/16", "-f", "json")
    matrix = json.loads(out)
    (cell,) = [c for c in matrix["cells"] if (c["from"], c["to"]) == FROM_CLIENT_TO_SERVER]
    assert cell["allowed"] is False
    assert "undecided" not in matrix


HOST_AGENT = """\
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: default, labels: {app: agent}}
spec: {hostNetwork: true, containers: [{name: a, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
spec: {containers: [{name: web, image: x, ports: [{containerPort: 80}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: pods-only, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{ipBlock: {cidr: 10.244.0.0/16}}]
"""
"""The server admits only the pod CIDR; the agent is a hostNetwork pod, whose address (its
node's) the manifests do not give."""


def test_a_host_network_pod_gets_no_address_in_the_pod_cidrs(folder: Path) -> None:
    """A hostNetwork pod's address is its node's, not one of the pod CIDRs: prove gave the
    agent 10.244.0.0, inside the server's ipBlock, and said the require holds, while across
    nodes the agent (at its node's address) is blocked, as explain says."""
    (folder / "manifests.yaml").write_text(HOST_AGENT)
    (folder / "spec.yaml").write_text(SPEC.replace("app: client", "app: agent"))
    code, out = run_cli("prove", "spec.yaml", "--pod-cidr", "10.244.0.0/16")
    assert code == 1, out
    assert "a blocked flow: default/agent (app=agent) -> default/server" in out
    assert "(hostNetwork pods: their node's, outside them" in out
    flow = ["--from", "default/agent", "--to", "default/server", "--port", "80"]
    code, out = run_cli("explain", "manifests.yaml", *flow, "--pod-cidr", "10.244.0.0/16")
    assert "blocked across nodes" in out
