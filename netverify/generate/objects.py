"""Plain Kubernetes objects as dicts, ready for `yaml.safe_dump`: namespaces, pods, workloads
and the pieces of NetworkPolicies (selectors, peers, ports).

Nothing here draws random numbers; the callers decide every name, label and port.
"""

from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
"""One Kubernetes object (or a piece of one) as plain data."""

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
NETWORK_POLICY_API_VERSION = "networking.k8s.io/v1"


@dataclass(frozen=True)
class NamedPort:
    """A containerPort with a name (policies and specs refer to it by name)."""

    name: str
    number: int
    protocol: str = "TCP"


def namespace(name: str, labels: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _container(name: str, image: str, ports: tuple[NamedPort, ...]) -> Manifest:
    container: Manifest = {"name": name, "image": image}
    if ports:
        container["ports"] = [
            {"name": port.name, "containerPort": port.number, "protocol": port.protocol}
            for port in ports
        ]
    return container


def workload(
    kind: str,
    namespace_name: str,
    name: str,
    labels: dict[str, str],
    image: str,
    ports: tuple[NamedPort, ...],
    replicas: int,
) -> Manifest:
    """A Deployment or StatefulSet whose template carries `labels` and `ports`."""
    selector = {key: labels[key] for key in ("app", "tier", "k8s-app") if key in labels}
    spec: Manifest = {"replicas": replicas, "selector": {"matchLabels": selector or labels}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    spec["template"] = {
        "metadata": {"labels": labels},
        "spec": {"containers": [_container(name.split("-")[-1], image, ports)]},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace_name, "labels": labels},
        "spec": spec,
    }


def pod(
    namespace_name: str,
    name: str,
    labels: dict[str, str],
    image: str,
    ports: tuple[NamedPort, ...],
    ip: str,
) -> Manifest:
    """A running Pod with its address in `status`, as `kubectl get pods -o yaml` shows it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace_name, "labels": labels},
        "spec": {"containers": [_container("main", image, ports)]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]},
    }


def network_policy(
    namespace_name: str,
    name: str,
    pod_selector: Manifest,
    *,
    ingress: list[Manifest] | None = None,
    egress: list[Manifest] | None = None,
) -> Manifest:
    """A NetworkPolicy with explicit `policyTypes`: Ingress when `ingress` is given (even
    empty: a default deny), Egress likewise."""
    spec: Manifest = {"podSelector": pod_selector}
    policy_types = []
    if ingress is not None:
        policy_types.append("Ingress")
        if ingress:
            spec["ingress"] = ingress
    if egress is not None:
        policy_types.append("Egress")
        if egress:
            spec["egress"] = egress
    spec["policyTypes"] = policy_types
    return {
        "apiVersion": NETWORK_POLICY_API_VERSION,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace_name},
        "spec": spec,
    }


def match_labels(labels: dict[str, str]) -> Manifest:
    return {"matchLabels": dict(labels)}


def expression(key: str, operator: str, values: tuple[str, ...] = ()) -> Manifest:
    """One `matchExpressions` entry (In, NotIn, Exists or DoesNotExist)."""
    entry: Manifest = {"key": key, "operator": operator}
    if values:
        entry["values"] = list(values)
    return entry


def match_expressions(*expressions: Manifest, labels: dict[str, str] | None = None) -> Manifest:
    selector: Manifest = {}
    if labels:
        selector["matchLabels"] = dict(labels)
    selector["matchExpressions"] = list(expressions)
    return selector


def peer(*, namespaces: Manifest | None = None, pods: Manifest | None = None) -> Manifest:
    """A `from`/`to` entry; with neither selector it would be invalid, so one is required."""
    assert namespaces is not None or pods is not None
    entry: Manifest = {}
    if namespaces is not None:
        entry["namespaceSelector"] = namespaces
    if pods is not None:
        entry["podSelector"] = pods
    return entry


def ip_block(cidr: str, excepted: tuple[str, ...] = ()) -> Manifest:
    block: Manifest = {"cidr": cidr}
    if excepted:
        block["except"] = list(excepted)
    return {"ipBlock": block}


def port(number: int | str, protocol: str = "TCP", end: int | None = None) -> Manifest:
    """A policy port: a number, a containerPort name, or a range up to `end`."""
    entry: Manifest = {"protocol": protocol, "port": number}
    if end is not None:
        entry["endPort"] = end
    return entry


def rule(peers_key: str, peers: list[Manifest] | None, ports: list[Manifest] | None) -> Manifest:
    """An ingress (`peers_key="from"`) or egress (`"to"`) rule; None omits a field."""
    entry: Manifest = {}
    if peers is not None:
        entry[peers_key] = peers
    if ports is not None:
        entry["ports"] = ports
    return entry


def ingress_rule(peers: list[Manifest] | None, ports: list[Manifest] | None = None) -> Manifest:
    return rule("from", peers, ports)


def egress_rule(peers: list[Manifest] | None, ports: list[Manifest] | None = None) -> Manifest:
    return rule("to", peers, ports)
