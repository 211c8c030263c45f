"""Services: loading and validation, `explain` through a Service, spec `service` endpoints,
`matrix --group-by service`, and ClusterIPs out of the external-address domain.

`cluster/` is the kubernetes-network-policy-recipes DNS scenario ("test -> kube-dns
10.96.0.10 UDP/53") plus a `web` Service whose named targetPort `http` is 8080 on web-1 and
9090 on web-2 (web-3 has no `http` port: no backend of it); only 8080 is admitted.
"""

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from netverify.cli.app import app
from netverify.encoding.solver import SolverLimits
from netverify.engine import prove
from netverify.engine.matrix import MatrixComputation
from netverify.loading import load_manifests
from netverify.loading.flows import parse_request
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import (
    ContainerPort,
    Flow,
    InputError,
    Pod,
    Protocol,
    Service,
    ServiceFlows,
    ServicePort,
    Settings,
    Status,
)
from netverify.model.matrix import GroupBy

HERE = Path(__file__).resolve().parent
CLUSTER = HERE / "cluster"
SPEC = HERE / "services.spec.yaml"
EXIT_HOLDS, EXIT_VIOLATED, EXIT_INPUT_ERROR = 0, 1, 2


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def explain(to: str, port: str, *extra: str) -> Result:
    return run(
        "explain", str(CLUSTER), "--from", "default/test", "--to", to, "--port", port, *extra
    )


def load_errors(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "svc.yaml").write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as raised:
        load_manifests([str(tmp_path / "svc.yaml")])
    prefix = str(tmp_path) + "/"
    return [str(diagnostic).removeprefix(prefix) for diagnostic in raised.value.diagnostics]


# Loading


def test_services_load_with_defaults_and_cluster_ips() -> None:
    cluster = load_manifests([str(CLUSTER)]).cluster
    assert [f"{s.namespace}/{s.name}" for s in cluster.services] == [
        "default/manual",
        "default/nobody",
        "default/web",
        "kube-system/kube-dns",
    ]
    dns = cluster.service("kube-system", "kube-dns")
    assert dns is not None and dns.type == "ClusterIP"
    assert [str(ip) for ip in dns.cluster_ips] == ["10.96.0.10"]
    assert [(str(port), port.target_port) for port in dns.ports] == [
        ("53/UDP", 53),
        ("53/TCP", 53),
    ]
    manual = cluster.service("default", "manual")
    assert manual is not None and manual.selector is None
    assert manual.ports[0].target_port == 80  # defaulted to `port`
    assert [pod.name for pod in dns.backends(cluster.pods)] == ["coredns-a", "coredns-b"]


def test_service_validation_errors_name_file_line_and_field(tmp_path: Path) -> None:
    errors = load_errors(
        tmp_path,
        """\
        apiVersion: v1
        kind: Service
        metadata: {name: 9web, namespace: prod}
        spec:
          type: Clusterip
          clusterIP: 10.96.0.300
          ports:
          - {port: 0, targetPort: "80"}
          - {name: http, port: 80, protocol: tcp}
          - {name: http, port: 81, targetPort: 70000}
        """,
    )
    assert errors == [
        'svc.yaml:3: error: Service prod/9web: metadata.name: invalid Service name "9web": '
        "must start with a lower case letter",
        'svc.yaml:5: error: Service prod/9web: spec.type: unsupported type "Clusterip": must be '
        'one of "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"; did you mean '
        '"ClusterIP"?',
        'svc.yaml:6: error: Service prod/9web: spec.clusterIP: invalid IP address "10.96.0.300"',
        "svc.yaml:8: error: Service prod/9web: spec.ports[0].name: required when a Service "
        "has more than one port",
        "svc.yaml:8: error: Service prod/9web: spec.ports[0].port: invalid port 0: must be "
        "between 1 and 65535, inclusive",
        'svc.yaml:8: error: Service prod/9web: spec.ports[0].targetPort: invalid port name "80": '
        "must contain at least one letter (a-z); to mean port number 80, write it without "
        "quotes",
        "svc.yaml:9: error: Service prod/9web: spec.ports[1].protocol: unsupported protocol "
        '"tcp": must be one of "TCP", "UDP", "SCTP"; did you mean "TCP"?',
        'svc.yaml:10: error: Service prod/9web: spec.ports[2].name: duplicate port name "http"',
        "svc.yaml:10: error: Service prod/9web: spec.ports[2].targetPort: invalid port 70000: "
        "must be between 1 and 65535, inclusive",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "{clusterIP: 10.96.0.1, clusterIPs: [10.96.0.2], ports: [{port: 80}]}",
            "svc.yaml:4: error: Service default/web: spec.clusterIPs[0]: must match "
            '`clusterIP` ("10.96.0.1") when both are given',
        ),
        (
            "{selector: {app: web}}",
            "svc.yaml:4: error: Service default/web: spec.ports: must specify at least one "
            "port (a Service port)",
        ),
        (
            "{ports: [{port: 80}, {name: b, port: 80}]}",
            "svc.yaml:4: error: Service default/web: spec.ports[0].name: required when a "
            "Service has more than one port",
        ),
    ],
)
def test_service_ports_and_cluster_ips(tmp_path: Path, spec: str, message: str) -> None:
    text = f"apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {spec}\n"
    assert load_errors(tmp_path, text)[0] == message


def test_headless_and_external_name_services_need_no_port(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: None}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
        "spec: {type: ExternalName, externalName: example.com}\n"
    )
    services = load_manifests([str(tmp_path)]).cluster.services
    assert [(s.name, s.type, s.cluster_ips) for s in services] == [
        ("a", "ClusterIP", ()),
        ("b", "ExternalName", ()),
    ]


# explain


def test_recipe_test_reaches_kube_dns_by_cluster_ip() -> None:
    """The recipes' scenario that came back "blocked" when a ClusterIP was external."""
    result = explain("10.96.0.10", "53/UDP")
    assert result.exit_code == EXIT_HOLDS, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "default/test (app=test) -> kube-system/Service/kube-dns 53/UDP -> 2 backends on "
        "port 53: reachable (2 of 2 backends allowed)"
    )
    assert (
        "  default/test (app=test) -> kube-system/coredns-a (k8s-app=kube-dns) UDP/53: allowed"
        in lines
    )
    assert (
        "  default/test (app=test) -> kube-system/coredns-b (k8s-app=kube-dns) UDP/53: allowed"
        in lines
    )


def test_service_by_name_is_the_same_translation() -> None:
    by_ip, by_name = explain("10.96.0.10", "dns"), explain("kube-system/Service/kube-dns", "dns")
    assert by_ip.stdout == by_name.stdout and by_name.exit_code == EXIT_HOLDS
    tcp = explain("kube-system/Service/kube-dns", "53/TCP")
    assert tcp.exit_code == EXIT_VIOLATED
    assert "blocked (0 of 2 backends allowed)" in tcp.stdout.splitlines()[0]


def test_named_target_port_resolves_per_backend_and_any_reachable_backend_is_exit_0() -> None:
    result = explain("default/Service/web", "80", "--format", "json")
    assert result.exit_code == EXIT_HOLDS
    answer = json.loads(result.stdout)
    assert answer["translation"] == "default/Service/web 80/TCP -> 2 backends on ports 8080, 9090"
    verdicts = [
        (backend["to"]["pod"], backend["port"], backend["allowed"])
        for backend in answer["backends"]
    ]
    assert verdicts == [("web-1", 8080, True), ("web-2", 9090, False)]  # web-3: no `http` port


def test_translation_in_the_loader() -> None:
    cluster = load_manifests([str(CLUSTER)]).cluster
    plain = parse_request(cluster, "default/test", "default/web-1", "8080")
    assert isinstance(plain, Flow)
    translated = parse_request(cluster, "default/test", "10.96.0.20", "http")
    assert isinstance(translated, ServiceFlows)
    assert [(b.backend.pod.name, b.flow.port, b.flow.protocol) for b in translated.backends] == [
        ("web-1", 8080, Protocol.TCP),
        ("web-2", 9090, Protocol.TCP),
    ]


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (
            "default/Service/manual",
            "Service default/manual has no backends in the manifests for port 80/TCP: it has "
            "no selector and no EndpointSlice labelled kubernetes.io/service-name: manual is "
            "loaded",
        ),
        (
            "default/Service/nobody",
            "Service default/nobody has no backends in the manifests for port 80/TCP: no pod "
            "of namespace default matches its selector",
        ),
        ("default/Service/missing", "--to default/Service/missing: no such Service"),
    ],
)
def test_a_service_without_backends_is_an_input_error(to: str, message: str) -> None:
    result = explain(to, "80")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert message in result.stderr and "allowed" not in result.stdout


def test_unknown_service_port_lists_the_ports() -> None:
    result = explain("10.96.0.20", "81")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "default/Service/web has no such port (its ports: 80/TCP (http))" in result.stderr


# spec


def test_spec_service_endpoint_verdicts() -> None:
    loaded = load_manifests([str(CLUSTER)])
    spec = resolve_spec(read_spec(str(SPEC)), loaded.cluster)
    report = prove(loaded, spec, SolverLimits())
    statuses = {result.name: result.status for result in report.results}
    assert statuses == {
        "test-resolves-names": Status.HOLDS,
        "test-resolves-names-by-cluster-ip": Status.HOLDS,
        "test-reaches-every-web-backend": Status.VIOLATED,  # web-2 blocked
        "test-reaches-web": Status.HOLDS,  # web-1 reachable
        "test-never-reaches-web": Status.VIOLATED,  # web-1 reachable
        "no-dns-over-tcp": Status.HOLDS,
    }
    by_name = {result.name: result for result in report.results}
    require = by_name["test-reaches-every-web-backend"]
    assert require.reason == (
        "through Service default/web (2 backends): backend default/web-2 on 80/TCP -> 9090"
    )
    assert require.counterexample is not None
    assert require.counterexample.decision.flow.port == 9090
    forbid = by_name["test-never-reaches-web"]
    assert forbid.reason is not None and "backend default/web-1" in forbid.reason
    dns = by_name["test-resolves-names"]
    assert dns.reason == "through Service kube-system/kube-dns: holds for all 2 backends"


def write_spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(f"manifests: [{CLUSTER}]\ninvariants:\n" + textwrap.dedent(body))
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "  - name: x\n    require:\n      to: {service: default/nobody}\n",
            "spec.yaml:5: error: invariants[0].require.to: Service default/nobody has no "
            "backends in the manifests: no pod of namespace default matches its selector",
        ),
        (
            "  - name: x\n    require:\n      to: {service: default/wbe}\n",
            'spec.yaml:5: error: invariants[0].require.to.service: no Service "default/wbe" '
            '(namespace/name); did you mean "default/web"?',
        ),
        (
            "  - name: x\n    require:\n      to: {service: default/web}\n      ports: [8080]\n",
            "spec.yaml:6: error: invariants[0].require.ports[0]: Service default/web has no "
            "such port (its ports: 80/TCP (http)); with `service`, ports name Service ports",
        ),
        (
            "  - name: x\n    forbid:\n      from: {service: default/web}\n",
            "spec.yaml:5: error: invariants[0].forbid.from.service: a Service is a destination "
            "only (`to`)",
        ),
    ],
)
def test_spec_service_errors(tmp_path: Path, body: str, message: str) -> None:
    raw = read_spec(str(write_spec(tmp_path, body)))
    with pytest.raises(InputError) as raised:
        resolve_spec(raw, load_manifests([str(CLUSTER)]).cluster)
    assert [str(d).removeprefix(str(tmp_path) + "/") for d in raised.value.diagnostics] == [message]


def test_schema_shows_the_service_endpoint() -> None:
    result = run("schema")
    assert result.exit_code == 0
    assert "a Service (`namespace/name`)" in result.stdout


def test_cluster_ip_is_no_external_address(tmp_path: Path) -> None:
    """`to: {ip: 10.96.0.10/31}` (more than one address) is external addresses only, and a
    ClusterIP is none: the only address that can break the require is 10.96.0.11."""
    spec = write_spec(
        tmp_path,
        "  - name: x\n    require:\n      from: {pod: default/test}\n"
        "      to: {ip: 10.96.0.10/31}\n      ports: [53/UDP]\n",
    )
    loaded = load_manifests([str(CLUSTER)])
    report = prove(loaded, resolve_spec(read_spec(str(spec)), loaded.cluster), SolverLimits())
    [result] = report.results
    assert result.status is Status.VIOLATED  # test-egress lets test reach nothing external
    assert result.counterexample is not None
    assert str(result.counterexample.decision.flow.destination.ip) == "10.96.0.11"


# matrix


def test_matrix_group_by_service() -> None:
    computation = MatrixComputation(load_manifests([str(CLUSTER)]), Settings(), GroupBy.SERVICE)
    matrix = computation.matrix
    assert [(entity.name, entity.pods) for entity in matrix.entities] == [
        ("default/Service/web", ("default/web-1", "default/web-2", "default/web-3")),
        ("default/test", ("default/test",)),
        ("kube-system/Service/kube-dns", ("kube-system/coredns-a", "kube-system/coredns-b")),
    ]
    names = [entity.name for entity in matrix.entities]
    cells = {
        (row.source, name): allowed
        for row in computation.rows()
        for name, allowed in zip(names, row.allowed, strict=True)
    }
    assert cells["default/test", "kube-system/Service/kube-dns"]
    assert cells["default/test", "default/Service/web"]


def test_backends_include_host_network_pods_and_named_ports_resolve_per_pod() -> None:
    host = Pod(namespace="ns", name="node-agent", labels={"app": "a"}, host_network=True)
    named = Pod(
        namespace="ns",
        name="a-1",
        labels={"app": "a"},
        ports=(ContainerPort(name="web", port=8443, protocol=Protocol.TCP),),
    )
    elsewhere = Pod(namespace="other", name="a-2", labels={"app": "a"})
    service = Service(
        namespace="ns",
        name="a",
        selector={"app": "a"},
        ports=(ServicePort(port=443, target_port="web"),),
    )
    assert service.backends([host, named, elsewhere]) == (host, named)
    assert [service.ports[0].target_on(pod) for pod in (host, named)] == [None, 8443]
    assert Service(namespace="ns", name="b", selector={}).backends([host]) == ()


def test_a_service_named_like_a_pod_gets_a_hint() -> None:
    result = explain("kube-system/kube-dns", "53/UDP")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "; a Service: write kube-system/Service/kube-dns" in result.stderr


ONE_BACKEND = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {app: db}}
spec: {containers: [{name: db, image: x, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {selector: {app: db}, ports: [{port: 5432}]}
"""


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("require", "through Service default/db: holds for its 1 backend"),
        (
            "forbid",
            "through Service default/db (1 backend): backend default/db on 5432/TCP -> 5432",
        ),
    ],
)
def test_one_backend_is_counted_in_the_singular(tmp_path: Path, kind: str, reason: str) -> None:
    """sock-shop's databases have one backend each: "(1 backends)", "all 1 backends"."""
    (tmp_path / "cluster.yaml").write_text(ONE_BACKEND)
    (tmp_path / "spec.yaml").write_text(
        "manifests: [cluster.yaml]\ninvariants:\n"
        f"  - name: x\n    {kind}: {{from: {{pod: default/client}}, to: {{service: default/db}}}}\n"
    )
    loaded = load_manifests([str(tmp_path / "cluster.yaml")])
    spec = resolve_spec(read_spec(str(tmp_path / "spec.yaml")), loaded.cluster)
    (result,) = prove(loaded, spec, SolverLimits()).results
    assert result.reason == reason
