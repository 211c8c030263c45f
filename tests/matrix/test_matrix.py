"""The connectivity matrix: the blog walkthrough, golden files per format, the CLI, and a
differential test of the bit-set engine against the reference evaluator."""

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.engine.matrix import MatrixComputation, pod_name
from netverify.loading import load_manifests
from netverify.model import Cluster, Flow, LoadedCluster, PodEndpoint, Protocol, Settings
from netverify.model.matrix import GroupBy, MatrixPort, MatrixWitness
from netverify.report import csv, dot, html, markdown, text
from netverify.report import json as json_format
from netverify.report.formats import MatrixFormatter
from netverify.semantics import placements
from netverify.semantics.evaluator import possible_verdicts
from tests.helpers import Golden
from tests.strategies import clusters

REPO = Path(__file__).resolve().parents[2]
GOLDENS = Path(__file__).parent / "goldens"


Cell = tuple[str, str, int | None, bool, MatrixWitness | None]
"""From, to, the asked port (None: any port), allowed, witness."""


def blog_matrix(monkeypatch: pytest.MonkeyPatch, **options: object) -> MatrixComputation:
    monkeypatch.chdir(REPO)
    return MatrixComputation(load_manifests(["examples/blog"]), Settings(), **options)  # type: ignore[arg-type]


def cells(computation: MatrixComputation) -> list[Cell]:
    names = [entity.name for entity in computation.matrix.entities]
    return [
        (row.source, name, None if row.port is None else row.port.port, allowed, row.witness(i))
        for row in computation.rows()
        for i, (name, allowed) in enumerate(zip(names, row.allowed, strict=True))
    ]


def allowed_pairs(computation: MatrixComputation) -> set[tuple[str, str]]:
    return {(source, to) for source, to, _, allowed, _ in cells(computation) if allowed}


def the_witness(computation: MatrixComputation, pair: tuple[str, str]) -> MatrixWitness | None:
    (witness,) = [w for source, to, _, _, w in cells(computation) if (source, to) == pair]
    return witness


def formatted(formatter: MatrixFormatter, computation: MatrixComputation) -> str:
    return "".join(formatter.format_matrix(computation.matrix, computation.rows()))


def test_blog_only_pod3_gets_into_pod2(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = blog_matrix(monkeypatch)
    names = ["ns-1/pod1", "ns-2/pod2", "ns-3/pod3"]
    assert [entity.name for entity in matrix.matrix.entities] == names
    everything = set(itertools.product(names, names))
    assert allowed_pairs(matrix) == everything - {("ns-1/pod1", "ns-2/pod2")}
    witness = the_witness(matrix, ("ns-3/pod3", "ns-2/pod2"))
    assert witness is not None
    assert [str(rule) for rule in witness.allowed_by] == [
        "NetworkPolicy ns-2/allow-pod3-to-pod2 ingress[0]"
    ]


def test_blog_with_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = blog_matrix(
        monkeypatch,
        ports=[
            MatrixPort(protocol=Protocol.TCP, port=80),
            MatrixPort(protocol=Protocol.UDP, port=53),
        ],
    )
    tcp = {(source, to) for source, to, port, allowed, _ in cells(matrix) if allowed and port == 80}
    udp = {(source, to) for source, to, port, allowed, _ in cells(matrix) if allowed and port == 53}
    assert ("ns-3/pod3", "ns-2/pod2") in tcp
    assert ("ns-3/pod3", "ns-2/pod2") not in udp
    assert ("ns-2/pod2", "ns-2/pod2") in udp  # self traffic


def test_blog_by_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = blog_matrix(monkeypatch, group_by=GroupBy.NAMESPACE)
    assert ("ns-1", "ns-2") not in allowed_pairs(matrix)
    assert ("ns-3", "ns-2") in allowed_pairs(matrix)


FORMATS: dict[str, tuple[MatrixFormatter, dict[str, object]]] = {
    "blog.txt": (text, {}),
    "blog.csv": (csv, {}),
    "blog.md": (markdown, {}),
    "blog.dot": (dot, {}),
    "blog.json": (json_format, {}),
    "blog-ports.txt": (
        text,
        {
            "ports": [
                MatrixPort(protocol=Protocol.TCP, port=80),
                MatrixPort(protocol=Protocol.UDP, port=53),
            ]
        },
    ),
    "devprod-namespaces.txt": (text, {"group_by": GroupBy.NAMESPACE}),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_goldens(name: str, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    formatter, options = FORMATS[name]
    monkeypatch.chdir(REPO)
    example = "examples/devprod" if name.startswith("devprod") else "examples/blog"
    matrix = MatrixComputation(load_manifests([example]), Settings(), **options)  # type: ignore[arg-type]
    golden.check(name, formatted(formatter, matrix))


def test_html_is_self_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    page = formatted(html, blog_matrix(monkeypatch))
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    assert "http" not in lowered
    assert "src=" not in lowered and "<link" not in lowered and "@import" not in lowered


def test_cli_writes_one_html_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "matrix.html"
    result = CliRunner().invoke(app, ["matrix", "examples/blog", "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == [out]
    assert "ns-3/pod3" in out.read_text(encoding="utf-8")


def test_cli_text_and_bad_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    runner = CliRunner()
    result = runner.invoke(app, ["matrix", "examples/blog"])
    assert result.exit_code == 0
    assert result.stdout == (GOLDENS / "blog.txt").read_text(encoding="utf-8")
    bad = runner.invoke(app, ["matrix", "examples/blog", "--port", "80/tcp"])
    assert bad.exit_code == 2
    assert "--port" in bad.stderr
    parsed = json.loads(runner.invoke(app, ["matrix", "examples/blog", "-f", "json"]).stdout)
    assert {"from", "to", "protocol", "port", "allowed"} <= parsed["cells"][0].keys()


def _probe_ports(cluster: Cluster) -> list[int]:
    """Every port where some verdict could change, found independently of the engine."""
    ports = {1, 65535}
    rules = [
        rule
        for policy in (*cluster.policies, *cluster.admin_policies)
        for rule in (*policy.ingress, *policy.egress)
    ]
    for rule in rules:
        for entry in rule.ports:
            if entry.port_range is not None:
                ports |= {entry.port_range.start, entry.port_range.end}
                ports |= {entry.port_range.start - 1, entry.port_range.end + 1}
    for pod in cluster.pods:
        ports |= {port.port for port in pod.ports}
    return sorted(port for port in ports if 1 <= port <= 65535)


def _can_reach(cluster: Cluster, flow: Flow) -> bool:
    """Allowed under some order of the admin policies the API leaves open."""
    return True in possible_verdicts(cluster, flow, Settings())


def _check_against_the_reference_evaluator(cluster: Cluster) -> None:
    """A divergence is a soundness bug. A pair is allowed when some flow between them is, on
    any placement of the two (node-local traffic included)."""
    matrix = MatrixComputation(LoadedCluster(cluster=cluster), Settings())
    got = allowed_pairs(matrix)
    namespaces = {ns.name: ns for ns in cluster.namespaces}
    names = sorted({pod_name(pod) for pod in cluster.pods})
    endpoints: dict[str, list[PodEndpoint]] = {}
    for pod in cluster.pods:
        endpoints.setdefault(pod_name(pod), []).append(
            PodEndpoint(
                namespace=namespaces[pod.namespace], pod=pod, ip=pod.ips[0] if pod.ips else None
            )
        )
    ports = _probe_ports(cluster)
    for source, destination in itertools.product(names, names):
        expected = any(
            _can_reach(cluster, placed)
            for s in endpoints[source]
            for d in endpoints[destination]
            for protocol in Protocol
            for port in ports
            for placed in placements(Flow(source=s, destination=d, protocol=protocol, port=port))
        )
        assert ((source, destination) in got) == expected, (source, destination)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_matrix_agrees_with_the_reference_evaluator(cluster: Cluster) -> None:
    _check_against_the_reference_evaluator(cluster)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(max_admin_policies=3))
def test_tiered_matrix_agrees_with_the_reference_evaluator(cluster: Cluster) -> None:
    """With Admin and Baseline tier policies (Pass, networks, nodes, named ports, a
    BaselineAdminNetworkPolicy whose order against Baseline tier CNPs is open)."""
    _check_against_the_reference_evaluator(cluster)


def test_a_node_reaches_the_pods_that_may_share_it(tmp_path: Path) -> None:
    """The kube-prometheus case: node-exporter (hostNetwork) reaches grafana, which admits
    only prometheus, on grafana's node; bound to other nodes, it does not."""
    manifest = """
apiVersion: v1
kind: Pod
metadata: {name: node-exporter, namespace: monitoring, labels: {app: exporter}}
spec: {hostNetwork: true, nodeName: NODE, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: grafana, namespace: monitoring, labels: {app: grafana}}
spec: {nodeName: node-a, containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: grafana, namespace: monitoring}
spec:
  podSelector: {matchLabels: {app: grafana}}
  ingress: [{from: [{podSelector: {matchLabels: {app: prometheus}}}]}]
"""

    def matrix_on(node: str) -> MatrixComputation:
        path = tmp_path / f"{node}.yaml"
        path.write_text(manifest.replace("NODE", node), encoding="utf-8")
        return MatrixComputation(load_manifests([str(path)]), Settings())

    pair = ("monitoring/node-exporter", "monitoring/grafana")
    same = matrix_on("node-a")
    witness = the_witness(same, pair)
    assert witness is not None and witness.node_local
    assert pair in allowed_pairs(same)
    assert pair not in allowed_pairs(matrix_on("node-b"))


def test_group_by_workload_is_by_owning_workload(tmp_path: Path) -> None:
    """Pods of `kubectl get pods` output join the workload owning them (a Deployment through
    its ReplicaSet), two workloads with one app label stay two rows, and rows are named as
    explain and specs name workloads."""
    manifest = """
apiVersion: v1
kind: Pod
metadata:
  name: web-7f9c5-abcde
  namespace: shop
  labels: {app: web, pod-template-hash: 7f9c5}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7f9c5, uid: u1, controller: true}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7f9c5-fghij
  namespace: shop
  labels: {app: web, pod-template-hash: 7f9c5}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7f9c5, uid: u1, controller: true}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web-canary, namespace: shop}
spec:
  selector: {matchLabels: {app: web, track: canary}}
  template:
    metadata: {labels: {app: web, track: canary}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec: {containers: [{name: c, image: x}]}
"""
    path = tmp_path / "shop.yaml"
    path.write_text(manifest, encoding="utf-8")

    computation = MatrixComputation(load_manifests([str(path)]), Settings(), GroupBy.WORKLOAD)

    rows = {entity.name: entity.pods for entity in computation.matrix.entities}
    assert rows == {
        "shop/debug": ("shop/debug",),
        "shop/web": ("shop/web", "shop/web-7f9c5-abcde", "shop/web-7f9c5-fghij"),
        "shop/web-canary": ("shop/web-canary",),
    }


NODE_LOCAL = """
apiVersion: v1
kind: Pod
metadata: {name: node-exporter, namespace: monitoring}
spec: {hostNetwork: true, nodeName: node-a, containers: [{name: c, image: x}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: grafana, namespace: monitoring}
spec: {nodeName: node-a, containers: [{name: c, image: x}]}
status: {podIP: 10.2.0.5}
"""
NO_EGRESS = """
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-egress}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: [0.0.0.0/0]}]}]
"""


def test_an_admin_deny_blocks_node_local_traffic(tmp_path: Path) -> None:
    """Node-local traffic bypasses NetworkPolicy, not the admin tiers."""
    pair = ("monitoring/grafana", "monitoring/node-exporter")
    for extra, reached in (("", True), (NO_EGRESS, False)):
        path = tmp_path / "cluster.yaml"
        path.write_text(NODE_LOCAL + extra, encoding="utf-8")
        matrix = MatrixComputation(load_manifests([str(path)]), Settings())
        assert (pair in allowed_pairs(matrix)) is reached
        assert (pair[::-1] in allowed_pairs(matrix)) is True
        rows = matrix.matrix.pod_rows
        assert rows is not None and rows.pods == pair
        assert rows.rows[0][0] == ("3" if reached else "1")
