"""Spec endpoints that are Services (`to: {service: NS/NAME}`, or `to: {ip: CLUSTER-IP}`).

NetworkPolicy sees a flow to a Service only after its address translation, as a flow to one
backend pod on the target port. So an invariant about a Service becomes one invariant per
backend pod (destination: that pod; ports: the target ports the asked Service ports map to
on it), and the engine combines their verdicts (`Invariant.through`).
"""

import ipaddress
from collections.abc import Callable

from netverify.loading.validation import closest_match
from netverify.model import (
    PROTOCOLS,
    Cluster,
    EndpointPattern,
    Invariant,
    Pod,
    PortPattern,
    PortRange,
    Protocol,
    Service,
    ServiceBackend,
    ServicePort,
)
from netverify.model.spec_schema import EndpointSpec, PortObjectSpec, PortSpec

Path = tuple[str | int, ...]
ErrorSink = Callable[[Path, str], None]


def destination_service(
    raw: EndpointSpec, cluster: Cluster, path: Path, error: ErrorSink
) -> Service | None:
    """The Service `raw` names (`service`, or an `ip` that is one ClusterIP), else None."""
    if raw.service is None:
        alone = raw.namespace is None and raw.pod is None
        return _service_at(raw.ip, cluster) if alone else None
    if raw.namespace is not None or raw.pod is not None or raw.ip is not None:
        error(path, "`service` stands alone: its backends are the pods it selects")
        return None
    namespace, slash, name = raw.service.partition("/")
    service = cluster.service(namespace, name) if slash else None
    if service is None:
        known = [f"{s.namespace}/{s.name}" for s in cluster.services]
        advice = closest_match(raw.service, known) if known else " (no Service is loaded)"
        error((*path, "service"), f'no Service "{raw.service}" (namespace/name){advice}')
    return service


def _service_at(text: str | None, cluster: Cluster) -> Service | None:
    """The Service whose ClusterIP the single-address CIDR `text` is."""
    try:
        network = ipaddress.ip_network(text or "", strict=True)
    except ValueError:
        return None
    if network.num_addresses != 1:
        return None
    return cluster.service_at(network.network_address)


def service_ports(
    service: Service, raw: list[PortSpec] | None, path: Path, error: ErrorSink
) -> tuple[ServicePort, ...]:
    """The Service ports `raw` names (by number, with an optional protocol, or by name);
    every Service port when `raw` is None."""
    if raw is None:
        return service.ports
    chosen: list[ServicePort] = []
    for index, entry in enumerate(raw):
        found = _service_port(service, entry)
        if found is None:
            error(
                (*path, index),
                f"Service {service.namespace}/{service.name} has no such port (its ports: "
                f"{service.describe_ports()}); with `service`, ports name Service ports",
            )
        elif found not in chosen:
            chosen.append(found)
    return tuple(chosen)


def _service_port(service: Service, raw: PortSpec) -> ServicePort | None:
    if isinstance(raw, PortObjectSpec):
        if raw.port is None or raw.end_port is not None:
            return None
        text, protocol_text = str(raw.port), raw.protocol or ""
    else:
        text, _, protocol_text = str(raw).partition("/")
    if protocol_text and protocol_text not in PROTOCOLS:
        return None
    return service.find_port(text, Protocol(protocol_text) if protocol_text else None)


def per_backend(
    invariant: Invariant, service: Service, ports: tuple[ServicePort, ...], cluster: Cluster
) -> list[Invariant]:
    """One invariant per backend that serves some of `ports`: to that pod, on its target
    ports. Empty when the Service has no backend for them."""
    expanded = []
    for pod in service.backends(cluster.pods):
        mapped = [
            (port, target) for port in ports if (target := service.target_on(port, pod)) is not None
        ]
        if not mapped:
            continue
        expanded.append(
            invariant.model_copy(
                update={
                    "destination": _backend_pattern(pod),
                    "ports": tuple(
                        dict.fromkeys(
                            PortPattern(
                                protocol=port.protocol,
                                port_range=PortRange(start=target, end=target),
                            )
                            for port, target in mapped
                        )
                    ),
                    "through": ServiceBackend(
                        service=f"{service.namespace}/{service.name}",
                        backend=f"{pod.namespace}/{pod.name}",
                        ports=", ".join(f"{port} -> {target}" for port, target in mapped),
                    ),
                }
            )
        )
    return expanded


def _backend_pattern(pod: Pod) -> EndpointPattern:
    return EndpointPattern(namespace_name=pod.namespace, pod_name=pod.name, pod_kind=pod.kind)
