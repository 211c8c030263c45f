"""Pods, and workloads read as one representative pod of their template or, for custom
resources whose operator documents how it renders their pods, of that rendering.

Only what NetworkPolicy semantics depend on is read: labels, containerPorts (named ports are
resolved against them), `hostNetwork`, `nodeName` and the pod's addresses; and a workload's
`replicas`, for notes on traffic between its replicas. The rest of a pod spec is not
validated; netverify is not a general manifest linter.
"""

from functools import lru_cache
from typing import NamedTuple

from netverify.loading.fields import ObjectFields
from netverify.loading.networkpolicy import read_protocol
from netverify.loading.selectors import read_labels
from netverify.loading.validation import (
    ip_address_error,
    parse_ip_address,
    port_name_error,
    port_number_error,
)
from netverify.loading.yamlconvert import Path
from netverify.model import ContainerPort, IPAddress, Pod, Protocol

WORKLOAD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each workload kind keeps its pod template."""

WORKLOAD_GROUPS: dict[str, tuple[str, ...]] = {
    "Deployment": ("apps", "extensions"),
    "StatefulSet": ("apps",),
    "DaemonSet": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"),
    "ReplicationController": ("",),
    "Job": ("batch",),
    "CronJob": ("batch",),
}
"""The API groups each workload kind is served from (so a CRD named `Job` is not one)."""

SCALED_WORKLOADS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "ReplicaSet",
        "ReplicationController",
        "Prometheus",
        "Alertmanager",
    }
)
"""The workload kinds whose `spec.replicas` says how many pods they run (1 when not written;
prometheus-operator's custom resources too)."""


PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com"


class OperatorRendering(NamedTuple):
    """How prometheus-operator renders a custom resource as the pods of the StatefulSet
    `<app>-<name>`: the labels it always sets (they win over `spec.podMetadata.labels`) and
    the container ports, the first of which is the web port named by `spec.portName` and
    dropped under `spec.listenLocal`."""

    app: str
    """`app.kubernetes.io/name`, the key of a label whose value is the resource's name, and
    the StatefulSet's prefix."""
    web_port: int
    other_ports: tuple[ContainerPort, ...] = ()
    more_labels: tuple[tuple[str, str | None], ...] = ()
    """Further labels; a None value stands for the resource's name."""

    def stateful_set(self, name: str) -> str:
        return f"{self.app}-{name}"

    def labels(self, name: str) -> dict[str, str]:
        # `makeSelectorLabels` in pkg/prometheus/server/operator.go and
        # pkg/alertmanager/operator.go. Not modelled: `app.kubernetes.io/version` (the
        # operator's default version unless `spec.version`) and the operator's `--labels`.
        labels = {
            "app.kubernetes.io/managed-by": "prometheus-operator",
            "app.kubernetes.io/name": self.app,
            "app.kubernetes.io/instance": name,
            self.app: name,
        }
        labels.update((key, name if value is None else value) for key, value in self.more_labels)
        return labels


OPERATOR_RENDERINGS: dict[tuple[str, str], OperatorRendering] = {
    # pkg/prometheus/common.go `MakeContainerPorts`: `web` (spec.portName) 9090/TCP; the
    # shard label of pkg/prometheus/server/statefulset.go `makeStatefulSetSpec` (shard 0
    # stands for every shard).
    (PROMETHEUS_OPERATOR_GROUP, "Prometheus"): OperatorRendering(
        "prometheus",
        9090,
        more_labels=(("operator.prometheus.io/name", None), ("operator.prometheus.io/shard", "0")),
    ),
    # pkg/alertmanager/statefulset.go `makeStatefulSetSpec`: web 9093/TCP, mesh 9094 TCP+UDP.
    (PROMETHEUS_OPERATOR_GROUP, "Alertmanager"): OperatorRendering(
        "alertmanager",
        9093,
        (
            ContainerPort(name="mesh-tcp", port=9094, protocol=Protocol.TCP),
            ContainerPort(name="mesh-udp", port=9094, protocol=Protocol.UDP),
        ),
    ),
}
"""Custom resources read as one representative pod, by (API group, kind). The pod is named
after the resource (not after its StatefulSet)."""


def read_pod(
    fields: ObjectFields, data: dict[str, object], namespace: str, name: str, labels: dict[str, str]
) -> Pod | None:
    """A `Pod` object, with the addresses its status reports and the workload owning it."""
    spec = _read_pod_spec(fields, data.get("spec"), ("spec",))
    ips = _read_pod_ips(fields, data.get("status"))
    if fields.failed:
        return None
    return Pod(
        namespace=namespace,
        name=name,
        labels=labels,
        ports=spec.ports,
        ips=ips,
        host_network=spec.host_network,
        node_name=spec.node_name,
        owner=_owner(data.get("metadata"), labels),
    )


def _owner(metadata: object, labels: dict[str, str]) -> str | None:
    """`Kind/name` of the controller among the pod's `ownerReferences` (only grouping relies
    on it, so a malformed entry is ignored, not an error). A Deployment's pods are owned by
    a ReplicaSet named `<deployment>-<pod-template-hash>`: they stand for the Deployment."""
    references = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    for reference in references if isinstance(references, list) else ():
        if not isinstance(reference, dict) or reference.get("controller") is not True:
            continue
        kind, name = reference.get("kind"), reference.get("name")
        if not (isinstance(kind, str) and isinstance(name, str)):
            continue
        template_hash = labels.get("pod-template-hash")
        if kind == "ReplicaSet" and template_hash and name.endswith(f"-{template_hash}"):
            return f"Deployment/{name.removesuffix(f'-{template_hash}')}"
        return f"{kind}/{name}"
    return None


def read_workload(
    fields: ObjectFields, data: dict[str, object], kind: str, namespace: str, name: str
) -> Pod | None:
    """One pod standing for every pod of the workload: the template's labels and ports."""
    path: Path = ()
    node: object = data
    for key in WORKLOAD_TEMPLATES[kind]:
        mapping = fields.mapping(node, path)
        if mapping is None:
            return None
        node = fields.required(mapping, path, key)
        path = (*path, key)
        if node is None:
            return None
    template = fields.mapping(node, path)
    if template is None:
        return None
    labels: dict[str, str] = {}
    if (raw_metadata := template.get("metadata")) is not None:
        metadata = fields.mapping(raw_metadata, (*path, "metadata"))
        if metadata is not None:
            labels_path: Path = (*path, "metadata", "labels")
            labels = read_labels(fields, metadata.get("labels"), labels_path)
    spec = _read_pod_spec(fields, template.get("spec"), (*path, "spec"))
    if fields.failed:
        return None
    return Pod(
        namespace=namespace,
        name=name,
        kind=kind,
        labels=labels,
        ports=spec.ports,
        host_network=spec.host_network,
        node_name=spec.node_name,
        replicas=_replicas(data, kind),
    )


def read_operator_pod(
    fields: ObjectFields,
    data: dict[str, object],
    group: str,
    kind: str,
    namespace: str,
    name: str,
) -> Pod | None:
    """One pod standing for every pod the operator renders from the custom resource."""
    rendering = OPERATOR_RENDERINGS[(group, kind)]
    spec: dict[str, object] = {}
    if (raw_spec := data.get("spec")) is not None:
        spec = fields.mapping(raw_spec, ("spec",)) or {}
    labels: dict[str, str] = {}
    if (raw_metadata := spec.get("podMetadata")) is not None:
        metadata = fields.mapping(raw_metadata, ("spec", "podMetadata"))
        if metadata is not None:
            labels_path: Path = ("spec", "podMetadata", "labels")
            labels = read_labels(fields, metadata.get("labels"), labels_path)
    web_name = "web"
    if (raw_port_name := spec.get("portName")) is not None:
        web_name = fields.string(raw_port_name, ("spec", "portName")) or web_name
    listen_local = _flag(fields, spec, ("spec",), "listenLocal")
    host_network = _flag(fields, spec, ("spec",), "hostNetwork")
    if fields.failed:
        return None
    web = () if listen_local else (_container_port(web_name, rendering.web_port, Protocol.TCP),)
    return Pod(
        namespace=namespace,
        name=name,
        kind=kind,
        labels={**labels, **rendering.labels(name)},
        ports=(*web, *rendering.other_ports),
        host_network=host_network,
        replicas=_replicas(data, kind),
    )


def _replicas(data: dict[str, object], kind: str) -> int | None:
    """`spec.replicas` of a scaled workload (1 when not written); None otherwise, and for a
    value that is not a number (only notes rely on it, so it is not an error)."""
    if kind not in SCALED_WORKLOADS:
        return None
    spec = data.get("spec")
    replicas = spec.get("replicas", 1) if isinstance(spec, dict) else 1
    return replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None


class _PodSpec(NamedTuple):
    """What NetworkPolicy semantics read of a pod spec."""

    ports: tuple[ContainerPort, ...] = ()
    host_network: bool = False
    node_name: str | None = None


def _read_pod_spec(fields: ObjectFields, raw: object, path: Path) -> _PodSpec:
    if raw is None:
        return _PodSpec()
    spec = fields.mapping(raw, path)
    if spec is None:
        return _PodSpec()
    host_network = _flag(fields, spec, path, "hostNetwork")
    node_name = None
    if (raw_node := spec.get("nodeName")) is not None:
        node_name = fields.string(raw_node, (*path, "nodeName")) or None
    ports: list[ContainerPort] = []
    if (raw_containers := spec.get("containers")) is not None:
        containers_path: Path = (*path, "containers")
        for index, raw_container in enumerate(
            fields.sequence(raw_containers, containers_path) or ()
        ):
            ports.extend(_read_container_ports(fields, raw_container, (*containers_path, index)))
    return _PodSpec(tuple(ports), host_network, node_name)


def _flag(fields: ObjectFields, mapping: dict[str, object], path: Path, key: str) -> bool:
    """An optional boolean field; absent (or not a boolean, after an error) is false."""
    raw = mapping.get(key)
    return raw is not None and bool(fields.boolean(raw, (*path, key)))


def _read_container_ports(fields: ObjectFields, raw: object, path: Path) -> list[ContainerPort]:
    container = fields.mapping(raw, path)
    if container is None or (raw_ports := container.get("ports")) is None:
        return []
    ports: list[ContainerPort] = []
    ports_path: Path = (*path, "ports")
    for index, raw_port in enumerate(fields.sequence(raw_ports, ports_path) or ()):
        port_path: Path = (*ports_path, index)
        entry = fields.mapping(raw_port, port_path)
        if entry is None:
            continue
        name = None
        if (raw_name := entry.get("name")) is not None:
            name = fields.string(raw_name, (*port_path, "name"))
            if name is not None and (problem := port_name_error(name)) is not None:
                fields.error((*port_path, "name"), problem)
        number = None
        if (raw_number := fields.required(entry, port_path, "containerPort")) is not None:
            number = fields.integer(raw_number, (*port_path, "containerPort"))
            if number is not None and (problem := port_number_error(number)) is not None:
                fields.error((*port_path, "containerPort"), problem)
        protocol = read_protocol(fields, entry.get("protocol"), (*port_path, "protocol"))
        if number is not None and protocol is not None:
            ports.append(_container_port(name, number, protocol))
    return ports


@lru_cache(maxsize=1 << 12)
def _container_port(name: str | None, number: int, protocol: Protocol) -> ContainerPort:
    """Pods repeat a few distinct ports thousands of times: one (immutable) object each."""
    return ContainerPort(name=name, port=number, protocol=protocol)


def _read_pod_ips(fields: ObjectFields, raw: object) -> tuple[IPAddress, ...]:
    if raw is None:
        return ()
    status = fields.mapping(raw, ("status",))
    if status is None:
        return ()
    found: list[tuple[Path, object]] = [(("status", "podIP"), status.get("podIP"))]
    if (raw_ips := status.get("podIPs")) is not None:
        for index, raw_entry in enumerate(fields.sequence(raw_ips, ("status", "podIPs")) or ()):
            entry = fields.mapping(raw_entry, ("status", "podIPs", index))
            if entry is not None:
                found.append((("status", "podIPs", index, "ip"), entry.get("ip")))
    ips: list[IPAddress] = []
    for path, raw_ip in found:
        if raw_ip is None or (text := fields.string(raw_ip, path)) is None:
            continue
        address = parse_ip_address(text)
        if address is None:
            fields.error(path, ip_address_error(text) or "")
            continue
        if address not in ips:
            ips.append(address)
    return tuple(ips)
