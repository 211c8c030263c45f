"""Third-party manifests as found in the wild (kube-prometheus' `manifests/`, the Calico
stars tutorial, the Kubernetes NetworkPolicy docs): operator-rendered pods, `-n`, and
`explain` endpoints written as `namespace/Kind/name`."""

import json
from pathlib import Path

import pytest
from typer.testing import Result

from .test_cli import EXIT_HOLDS, EXIT_INPUT_ERROR, EXIT_VIOLATED, run

KUBE_PROMETHEUS = """\
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s, namespace: monitoring}
spec:
  podMetadata:
    labels: {app.kubernetes.io/part-of: kube-prometheus}
---
apiVersion: monitoring.coreos.com/v1
kind: ThanosRuler
metadata: {name: rules, namespace: monitoring}
spec: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/name: grafana}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: prometheus-k8s, namespace: monitoring}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: prometheus
      app.kubernetes.io/part-of: kube-prometheus
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels: {app.kubernetes.io/name: grafana}
    ports:
    - {port: web, protocol: TCP}
"""


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kp.yaml").write_text(KUBE_PROMETHEUS)
    return tmp_path


def explain(source: str, destination: str, port: str, *extra: str) -> Result:
    return run("explain", "kp.yaml", "--from", source, "--to", destination, "--port", port, *extra)


def test_policies_select_operator_rendered_pods(manifests: Path) -> None:
    allowed = explain("monitoring/grafana", "monitoring/k8s", "web")
    assert allowed.exit_code == EXIT_HOLDS, allowed.stderr
    assert "prometheus-k8s" in allowed.stdout
    blocked = explain("10.0.0.1", "monitoring/k8s", "9090")
    assert blocked.exit_code == EXIT_VIOLATED, blocked.stdout
    assert "skipped 1 object of kinds netverify does not turn into pods" in blocked.stderr


def test_explain_hints_at_statefulsets_and_skipped_custom_resources(manifests: Path) -> None:
    rendered = explain("monitoring/prometheus-k8s", "monitoring/grafana", "80")
    assert rendered.exit_code == EXIT_INPUT_ERROR
    assert (
        "--from monitoring/prometheus-k8s: no pod or workload matches; write namespace/name or "
        "an IP address; prometheus-k8s is the StatefulSet of Prometheus monitoring/k8s: write "
        "monitoring/k8s" in rendered.stderr
    )
    skipped = explain("monitoring/grafana", "rules", "80")
    assert skipped.exit_code == EXIT_INPUT_ERROR
    assert (
        "monitoring/rules is a ThanosRuler custom resource (monitoring.coreos.com); netverify "
        "does not model the pods it creates" in skipped.stderr
    )
    assert skipped.stdout == ""


STARS_DEFAULT_DENY = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: default-deny
spec:
  podSelector:
    matchLabels: {}
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, labels: {role: frontend}}
---
apiVersion: v1
kind: Pod
metadata: {name: backend, namespace: stars, labels: {role: backend}}
"""


@pytest.mark.parametrize("command", ["explain", "diff", "matrix", "lint", "validate"])
def test_every_command_that_reads_manifests_takes_a_namespace(command: str) -> None:
    assert "--namespace" in run(command, "--help").stdout


def test_namespace_option_places_objects_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stars.yaml").write_text(STARS_DEFAULT_DENY)
    flow = ["--from", "stars/frontend", "--to", "stars/backend", "--port", "80"]
    placed = run("explain", "stars.yaml", "-n", "stars", *flow)
    assert placed.exit_code == EXIT_VIOLATED, placed.stderr
    assert "stars/default-deny" in placed.stdout
    unplaced = run("explain", "stars.yaml", *flow)
    assert unplaced.exit_code == EXIT_INPUT_ERROR
    assert "--from stars/frontend: no pod or workload matches" in unplaced.stderr
    validate = run("validate", "stars.yaml", "-n", "stars")
    assert validate.exit_code == EXIT_HOLDS, validate.stderr
    assert "default" not in validate.stdout


def test_namespace_option_refuses_objects_in_another_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stars.yaml").write_text(STARS_DEFAULT_DENY)
    for command in (["validate"], ["matrix"], ["lint"], ["diff", "stars.yaml"]):
        result = run(*command, "stars.yaml", "--namespace", "client")
        assert result.exit_code == EXIT_INPUT_ERROR, (command, result.stdout)
        assert (
            "stars.yaml:15: error: Pod: metadata.namespace: the namespace from the provided "
            'object "stars" does not match the namespace "client". You must pass '
            "'--namespace=stars' to perform this operation." in result.stderr
        )


SHARED_NAME = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring}
spec:
  template:
    metadata:
      labels: {app: grafana}
---
apiVersion: v1
kind: Pod
metadata: {name: grafana, namespace: monitoring, labels: {app: debug}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-the-deployment, namespace: monitoring}
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: grafana}}
"""


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("monitoring/Deployment/grafana", EXIT_HOLDS),
        ("monitoring/deployment/grafana", EXIT_HOLDS),
        ("monitoring/Pod/grafana", EXIT_VIOLATED),
    ],
)
def test_explain_takes_namespace_kind_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, code: int
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(SHARED_NAME)
    result = run(
        "explain",
        "m.yaml",
        "--from",
        source,
        "--to",
        "monitoring/Deployment/grafana",
        "--port",
        "80",
    )
    assert result.exit_code == code, result.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "monitoring/grafana",
            "--from monitoring/grafana: more than one pod or workload matches; write "
            "monitoring/Deployment/grafana or monitoring/Pod/grafana",
        ),
        (
            "monitoring/StatefulSet/grafana",
            "--from monitoring/StatefulSet/grafana: no StatefulSet named grafana; the kinds "
            "with that name: monitoring/Deployment/grafana, monitoring/Pod/grafana",
        ),
        (
            "a/b/c/d",
            "--from a/b/c/d: write namespace/name, namespace/Kind/name, name or an IP address",
        ),
    ],
)
def test_explain_endpoint_errors_name_the_spellings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(SHARED_NAME)
    result = run("explain", "m.yaml", "--from", source, "--to", "10.0.0.1", "--port", "80")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert message in result.stderr


INTERNET = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-egress-in-cluster, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: node-exporter, namespace: monitoring}
spec: {hostNetwork: true}
"""

INTERNET_SPEC = """\
manifests: [m.yaml]
settings: {podCIDRs: [10.244.0.0/16]}
invariants:
  - name: db-never-reaches-any-address
    forbid:
      from: {pod: prod/db}
      to: {ip: 0.0.0.0/0}
  - name: db-never-reaches-the-internet
    forbid:
      from: {pod: prod/db}
      to: {external: true}
  - name: db-never-reaches-the-ipv4-internet
    forbid:
      from: {pod: prod/db}
      to: {external: true, ip: 0.0.0.0/0}
"""


def test_external_endpoints_are_never_pods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(INTERNET)
    (tmp_path / "spec.yaml").write_text(INTERNET_SPEC)
    result = run("prove", "spec.yaml", "--format", "json")
    assert result.exit_code == EXIT_VIOLATED, result.stderr
    statuses = {entry["name"]: entry["status"] for entry in json.loads(result.stdout)["results"]}
    assert statuses == {
        "db-never-reaches-any-address": "violated",
        "db-never-reaches-the-internet": "holds",
        "db-never-reaches-the-ipv4-internet": "holds",
    }


def test_external_beside_a_pod_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(INTERNET)
    (tmp_path / "spec.yaml").write_text(
        INTERNET_SPEC.replace("to: {external: true}", "to: {external: true, namespace: prod}")
    )
    result = run("prove", "spec.yaml")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert (
        "spec.yaml:11: error: invariants[1].forbid.to.external: `external: true` matches no "
        "pod: it cannot be combined with `namespace` or `pod`" in result.stderr
    )


def test_the_schema_has_external() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["$defs"]["EndpointSpec"]["properties"]["external"]["type"] == "boolean"


ARGO_CD_6420 = Path(__file__).parent / "fixtures" / "argo-cd-6420"


def test_argo_cd_6420_diff_shows_every_tcp_port_opened_not_only_the_metrics_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The PR said "allows access to dex metrics from any pod" (port 5558); what it merged
    admits every TCP port: the diff over pods that could exist says so, and lint names the
    ports entry."""
    monkeypatch.chdir(ARGO_CD_6420)
    result = run("diff", "base", "head", "--pods", "any", "--format", "json")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert {finding["change"] for finding in findings} == {"added"}
    ports = {
        (finding["protocol"], port["start"], port["end"])
        for finding in findings
        for port in finding["ports"]
    }
    # From argocd-server (already admitted on 5556-5557) and from every other pod.
    assert ports == {("TCP", 1, 5555), ("TCP", 5559, 65535), ("TCP", 1, 65535)}
    lint = run("lint", "head", "--format", "json")
    assert [finding["id"] for finding in json.loads(lint.stdout)["findings"]].count("NVL019") == 1


SOCK_SHOP_CARTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: carts, namespace: sock-shop}
spec:
  selector: {matchLabels: {name: carts}}
  template:
    metadata: {labels: {name: carts}}
    spec: {containers: [{name: carts, image: x, ports: [{containerPort: 80}]}]}
"""


def test_a_misspelt_pod_gets_the_closest_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sock-shop's policies say `cart` for the Deployment `carts`: so did a user."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "carts.yaml").write_text(SOCK_SHOP_CARTS)
    misspelt = run("explain", "carts.yaml", "--from", "1.2.3.4", "--to", "cart", "--port", "80")
    assert misspelt.exit_code == EXIT_INPUT_ERROR
    assert (
        "no pod or workload matches; write namespace/name or an IP address; "
        'did you mean "sock-shop/carts"?' in misspelt.stderr
    )


CNP_WITH_ALLOW = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: gress-rules}
spec:
  tier: Admin
  priority: 15
  subject: {namespaces: {}}
  egress:
  - action: Allow
    to: [{namespaces: {}}]
  ingress:
  - action: Allow
    from: [{namespaces: {}}]
"""


def test_input_errors_come_in_line_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """network-policy-api's conformance CNPs of August 2025 (`Allow`, since `Accept`; an
    error under --strict): the errors came ingress first, at lines 87, 137, 14, 64 of the
    file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cnp.yaml").write_text(CNP_WITH_ALLOW)
    result = run("validate", "--strict", "cnp.yaml")
    assert result.exit_code == EXIT_INPUT_ERROR
    lines = [line.split(":")[1] for line in result.stderr.splitlines() if line.startswith("- ")]
    assert lines == ["9", "12"], result.stderr


CONFORMANCE_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: harry-potter, namespace: network-policy-conformance-gryffindor}
spec:
  replicas: 2
  template:
    metadata:
      labels: {conformance-house: gryffindor}
"""


def test_a_stateful_set_pod_name_points_at_its_stateful_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """network-policy-api's conformance tests name the pods `harry-potter-0`: the
    StatefulSet stands for both replicas, and the error said only 'did you mean'."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sts.yaml").write_text(CONFORMANCE_STATEFULSET)
    result = run(
        "explain", "sts.yaml", "--from", "harry-potter-0", "--to", "1.2.3.4", "--port", "80"
    )
    assert result.exit_code == EXIT_INPUT_ERROR
    assert (
        "harry-potter-0 is a replica of StatefulSet network-policy-conformance-gryffindor/"
        "harry-potter, which stands for every replica: write "
        "network-policy-conformance-gryffindor/harry-potter" in result.stderr
    )
