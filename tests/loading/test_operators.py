"""Custom resources: the ones whose operator's rendering netverify models become pods, the
other ones that may create pods are named in one warning."""

from pathlib import Path

from netverify.model import ContainerPort, Diagnostic, Pod, Protocol, Severity, SkippedObject
from tests.loading.helpers import error, load, load_errors

PROMETHEUS = """\
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: k8s
  namespace: monitoring
  labels: {ignored: "yes"}
spec:
  podMetadata:
    labels: {team: obs, prometheus: overridden}
  portName: http
  hostNetwork: true
---
apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata: {name: main, namespace: monitoring}
spec:
  replicas: 3
---
apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata: {name: local, namespace: monitoring}
spec: {listenLocal: true}
"""


def test_prometheus_and_alertmanager_become_pods_as_the_operator_renders_them(
    workdir: Path,
) -> None:
    loaded = load(workdir, PROMETHEUS)
    assert loaded.warnings == ()
    prometheus, local, main = loaded.cluster.pods
    assert prometheus == Pod(
        namespace="monitoring",
        name="k8s",
        kind="Prometheus",
        labels={
            "team": "obs",
            "prometheus": "k8s",
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": "k8s",
            "app.kubernetes.io/managed-by": "prometheus-operator",
            "operator.prometheus.io/name": "k8s",
            "operator.prometheus.io/shard": "0",
        },
        ports=(ContainerPort(name="http", port=9090),),
        host_network=True,
        replicas=1,
    )
    assert main == Pod(
        namespace="monitoring",
        name="main",
        kind="Alertmanager",
        labels={
            "alertmanager": "main",
            "app.kubernetes.io/name": "alertmanager",
            "app.kubernetes.io/instance": "main",
            "app.kubernetes.io/managed-by": "prometheus-operator",
        },
        ports=(
            ContainerPort(name="web", port=9093),
            ContainerPort(name="mesh-tcp", port=9094),
            ContainerPort(name="mesh-udp", port=9094, protocol=Protocol.UDP),
        ),
        replicas=3,
    )
    assert [port.name for port in local.ports] == ["mesh-tcp", "mesh-udp"]


def test_operator_resource_fields_are_checked(workdir: Path) -> None:
    text = """\
        apiVersion: monitoring.coreos.com/v1
        kind: Prometheus
        metadata: {name: k8s}
        spec: {hostNetwork: "yes"}
        """
    assert load_errors(workdir, text) == [
        error(
            'expected a boolean, got a string ("yes")',
            4,
            "spec.hostNetwork",
            obj="Prometheus default/k8s",
        )
    ]


def test_custom_resources_that_may_create_pods_are_named_in_one_warning(workdir: Path) -> None:
    text = """\
        apiVersion: monitoring.coreos.com/v1
        kind: ThanosRuler
        metadata: {name: rules, namespace: monitoring}
        spec: {}
        ---
        apiVersion: postgresql.cnpg.io/v1
        kind: Cluster
        metadata: {name: db}
        spec: {instances: 3}
        ---
        apiVersion: postgresql.cnpg.io/v1
        kind: Cluster
        metadata: {name: db2}
        spec: {instances: 1}
        ---
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata: {name: sm}
        spec: {}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web}
        spec: {}
        ---
        apiVersion: example.com/v1
        kind: Thing
        metadata: {name: no-spec}
        """
    loaded = load(workdir, text)
    assert loaded.warnings == (
        Diagnostic(
            severity=Severity.WARNING,
            message="skipped 3 objects of kinds netverify does not turn into pods: "
            "Cluster (postgresql.cnpg.io), ThanosRuler (monitoring.coreos.com); "
            "pods they create are not modelled",
        ),
    )
    assert loaded.skipped[0] == SkippedObject(
        api_version="monitoring.coreos.com/v1",
        kind="ThanosRuler",
        namespace="monitoring",
        name="rules",
    )
    assert loaded.cluster.pods == ()
