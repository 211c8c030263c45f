"""A flow written on the command line (`explain --from ns/pod --to 10.0.0.1 --port 80/TCP`)
resolved against the loaded cluster.

A destination that is a Service (`NS/Service/NAME`, or one of its ClusterIPs) is translated
as kube-proxy does before any policy sees the flow: to one flow per backend pod, on the
target port its Service port maps to on that pod.
"""

import ipaddress

from netverify.loading.validation import closest_match, did_you_mean, port_name_error
from netverify.model import (
    MAX_PORT,
    PROTOCOLS,
    Cluster,
    Diagnostic,
    Endpoint,
    ExternalEndpoint,
    Flow,
    InputError,
    IPAddress,
    PodEndpoint,
    Protocol,
    Service,
    ServiceFlows,
    ServicePort,
    Severity,
    pod_at_first_address,
)
from netverify.model.services import BackendFlow


def _fail(message: str) -> InputError:
    return InputError([Diagnostic(severity=Severity.ERROR, message=message)])


def parse_endpoint(text: str, cluster: Cluster, option: str) -> Endpoint:
    """`namespace/pod`, a pod or workload name that is unique, or an IP address.

    An address that belongs to a loaded pod is that pod.
    """
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        for pod in cluster.pods:
            if ip in pod.ips:
                return _pod_endpoint(cluster, pod.namespace, pod.name or "", ip)
        return ExternalEndpoint(ip=ip)
    namespace, slash, name = text.rpartition("/")
    matches = [
        pod
        for pod in cluster.pods
        if pod.name == name and (not slash or pod.namespace == namespace)
    ]
    if len(matches) != 1:
        problem = "no pod or workload" if not matches else "more than one pod or workload"
        services = [
            f"{s.namespace}/Service/{s.name}"
            for s in cluster.services
            if s.name == name and (not slash or s.namespace == namespace)
        ]
        hint = f" (a Service: write {services[0]})" if not matches and services else ""
        raise _fail(
            f"{option} {text}: {problem} matches{hint}; write namespace/name or an IP address"
        )
    pod = matches[0]
    return _pod_endpoint(cluster, pod.namespace, name, pod.ips[0] if pod.ips else None)


def _pod_endpoint(
    cluster: Cluster,
    namespace: str,
    name: str,
    ip: IPAddress | None,
) -> PodEndpoint:
    pod = next(p for p in cluster.pods if p.namespace == namespace and p.name == name)
    namespace_object = cluster.namespace(namespace)
    assert namespace_object is not None, "every pod's namespace is loaded or implied"
    return PodEndpoint(namespace=namespace_object, pod=pod, ip=ip)


def parse_service(text: str, cluster: Cluster) -> Service | None:
    """The Service `NS/Service/NAME` or the Service whose ClusterIP `text` is; None when
    `text` names no Service (an error when it is written as one that does not exist)."""
    try:
        return cluster.service_at(ipaddress.ip_address(text))
    except ValueError:
        pass
    parts = text.split("/")
    if len(parts) != 3 or parts[1].lower() not in ("service", "svc"):
        return None
    service = cluster.service(parts[0], parts[2])
    if service is None:
        known = [f"{s.namespace}/Service/{s.name}" for s in cluster.services]
        raise _fail(f"--to {text}: no such Service in the manifests{closest_match(text, known)}")
    return service


def parse_request(
    cluster: Cluster, source: str, destination: str, port: str
) -> Flow | ServiceFlows:
    """A flow from command-line words, or the flows to a Service's backends."""
    service = parse_service(destination, cluster)
    if service is None:
        return parse_flow(cluster, source, destination, port)
    return service_flows(cluster, parse_endpoint(source, cluster, "--from"), service, port)


def service_flows(cluster: Cluster, source: Endpoint, service: Service, port: str) -> ServiceFlows:
    """The flows from `source` to each backend of `service` that serves `port` (a Service
    port's number or name; a number without a protocol is TCP, a name is whatever protocol
    its port has)."""
    service_port = service.find_port(*_split_protocol(port))
    if service_port is None:
        listed = service.describe_ports()
        raise _fail(f"--port {port}: {service} has no such port (its ports: {listed})")
    backends = []
    for pod in service.backends(cluster.pods):
        target = service_port.target_on(pod)
        if target is not None:
            namespace = cluster.namespace(pod.namespace)
            assert namespace is not None, "every pod's namespace is loaded or implied"
            backend = pod_at_first_address(namespace, pod)
            flow = Flow(
                source=source, destination=backend, protocol=service_port.protocol, port=target
            )
            backends.append(BackendFlow(backend=backend, flow=flow))
    if not backends:
        raise _fail(no_backends_message(service, service_port))
    return ServiceFlows(service=service, port=service_port, source=source, backends=tuple(backends))


def no_backends_message(service: Service, port: ServicePort | None = None) -> str:
    """Why a Service has no backend to send a flow to."""
    if not service.selector:
        reason = "it has no selector (EndpointSlices are not read)"
    else:
        reason = f"no pod of namespace {service.namespace} matches its selector"
        if port is not None and isinstance(port.target_port, str):
            reason += f" and has a {port.protocol.value} port named {port.target_port}"
    where = f" for port {port}" if port is not None else ""
    return (
        f"Service {service.namespace}/{service.name} has no backends in the manifests"
        f"{where}: {reason}"
    )


def _split_protocol(port: str) -> tuple[str, Protocol | None]:
    """`80/UDP` -> ("80", UDP); `80` -> ("80", None)."""
    text, slash, protocol_text = port.partition("/")
    if not slash:
        return text, None
    if protocol_text not in PROTOCOLS:
        raise _fail(
            f'--port {port}: unsupported protocol "{protocol_text}": must be one of TCP, '
            f"UDP, SCTP{did_you_mean(protocol_text, PROTOCOLS)}"
        )
    return text, Protocol(protocol_text)


def parse_flow(cluster: Cluster, source: str, destination: str, port: str) -> Flow:
    """A flow from command-line words; a named port is looked up on the destination pod."""
    source_endpoint = parse_endpoint(source, cluster, "--from")
    destination_endpoint = parse_endpoint(destination, cluster, "--to")
    number_text, given_protocol = _split_protocol(port)
    protocol = given_protocol or Protocol.TCP
    if number_text.isdigit():
        number = int(number_text)
        if not 1 <= number <= MAX_PORT:
            raise _fail(f"--port {port}: must be between 1 and {MAX_PORT}, inclusive")
    else:
        number = _named_port_number(number_text, protocol, destination_endpoint, port)
    return Flow(
        source=source_endpoint, destination=destination_endpoint, protocol=protocol, port=number
    )


def _named_port_number(name: str, protocol: Protocol, destination: Endpoint, port: str) -> int:
    if message := port_name_error(name):
        raise _fail(f"--port {port}: {message}")
    if isinstance(destination, PodEndpoint):
        for container_port in destination.pod.ports:
            if container_port.name == name and container_port.protocol == protocol:
                return container_port.port
    raise _fail(f"--port {port}: the destination has no {protocol.value} port named {name}")
