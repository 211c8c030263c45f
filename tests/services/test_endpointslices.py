"""EndpointSlices: the backends of a Service without a selector (`slices/cluster.yaml`), by
targetRef or by address, on the slice's port; endpoints that are no loaded pod are not
modelled and said so; a selector's slices are ignored."""

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from netverify.cli.app import app
from netverify.loading import load_manifests
from netverify.loading.flows import parse_request
from netverify.model import InputError, ServiceFlows

HERE = Path(__file__).resolve().parent
SLICES = HERE / "slices"
EXIT_HOLDS, EXIT_VIOLATED, EXIT_INPUT_ERROR = 0, 1, 2


def explain(source: str, to: str, port: str) -> Result:
    return CliRunner().invoke(
        app, ["explain", str(SLICES), "--from", source, "--to", to, "--port", port]
    )


def test_backends_by_target_ref_and_by_address_on_the_slice_port() -> None:
    cluster = load_manifests([str(SLICES)]).cluster
    legacy = cluster.service("default", "legacy")
    assert legacy is not None and legacy.selector is None
    assert [pod.name for pod in legacy.backends(cluster.pods)] == ["db-0", "db-1"]
    flows = parse_request(cluster, "default/test", "default/Service/legacy", "sql")
    assert isinstance(flows, ServiceFlows)
    assert [(b.backend.pod.name, b.flow.port) for b in flows.backends] == [
        ("db-0", 3306),
        ("db-1", 3306),
    ]  # the slice's port, not the Service's defaulted targetPort 5432


def test_external_endpoints_are_a_warning_naming_them() -> None:
    warnings = [str(w) for w in load_manifests([str(SLICES)]).warnings]
    assert any(
        "EndpointSlice default/legacy-1: endpoints 192.0.2.7 of Service default/legacy are no "
        "loaded pod: external backends are not modelled" in warning
        for warning in warnings
    )
    assert not any("10.244.1.4" in warning for warning in warnings)  # not ready: not listed


def test_explain_through_a_service_without_selector() -> None:
    allowed = explain("default/test", "default/Service/legacy", "sql")
    assert allowed.exit_code == EXIT_HOLDS, allowed.stderr
    assert "default/Service/legacy 5432/TCP -> 2 backends on port 3306" in allowed.stdout
    blocked = explain("default/db-1", "default/Service/legacy", "5432")
    assert blocked.exit_code == EXIT_HOLDS  # db-1 reaches itself
    assert "1 of 2 backends allowed" in blocked.stdout


def test_only_external_endpoints_is_an_input_error() -> None:
    result = explain("default/test", "default/Service/outside", "443")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert (
        "Service default/outside has no backends in the manifests for port 443/TCP: it has no "
        "selector and its EndpointSlices list no loaded pod with a TCP port named (unnamed) "
        "(external backends are not modelled: 192.0.2.8)"
    ) in result.stderr


def write(tmp_path: Path, text: str) -> str:
    (tmp_path / "m.yaml").write_text(textwrap.dedent(text))
    return str(tmp_path / "m.yaml")


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: default, labels: {app: db}}
spec: {containers: [{name: db, ports: [{containerPort: 3306}]}]}
status: {podIP: 10.244.1.5}
---
"""


def test_a_selector_ignores_its_slices(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        POD
        + textwrap.dedent(
            """\
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec: {selector: {app: web}, ports: [{port: 80}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        endpoints: [{addresses: [10.244.1.5]}]
        """
        ),
    )
    loaded = load_manifests([path])
    web = loaded.cluster.service("default", "web")
    assert web is not None and web.endpoint_slices == () and web.backends(loaded.cluster.pods) == ()
    assert loaded.warnings == ()


def test_slice_validation_names_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: s, namespace: default}
        addressType: IPv5
        endpoints: [{addresses: [not-an-ip], targetRef: {kind: Pod}}]
        ports: [{port: 70000}]
        """,
    )
    with pytest.raises(InputError) as raised:
        load_manifests([path])
    fields = sorted(str(d.field) for d in raised.value.diagnostics)
    assert fields == ["addressType", "endpoints[0].targetRef", "ports[0].port"]


def test_external_endpoints_stay_a_warning_under_strict() -> None:
    loaded = load_manifests([str(SLICES)], strict=True)  # default/kubernetes has them always
    assert [w.severity.value for w in loaded.warnings] == ["warning", "warning"]
