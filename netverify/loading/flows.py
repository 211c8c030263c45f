"""A flow written on the command line (`explain --from ns/pod --to 10.0.0.1 --port 80/TCP`)
resolved against the loaded cluster.

A destination that is a Service (`NS/Service/NAME`, or one of its ClusterIPs) is translated
as kube-proxy does before any policy sees the flow: to one flow per backend pod, on the
target port its Service port maps to on that pod.
"""

import difflib
import ipaddress
import re
from collections.abc import Sequence

from netverify.loading.kinds import api_group
from netverify.loading.podnames import pods_named
from netverify.loading.pods import OPERATOR_RENDERINGS
from netverify.loading.validation import closest_match, did_you_mean, port_name_error
from netverify.model import (
    MAX_PORT,
    PROTOCOLS,
    SERVICE_NAME_LABEL,
    Cluster,
    Diagnostic,
    Endpoint,
    ExternalEndpoint,
    Flow,
    InputError,
    IPAddress,
    Pod,
    PodEndpoint,
    Protocol,
    Service,
    ServiceFlows,
    ServicePort,
    Severity,
    SkippedObject,
    pod_at_first_address,
)
from netverify.model.services import BackendFlow


def _fail(message: str) -> InputError:
    return InputError([Diagnostic(severity=Severity.ERROR, message=message)])


def parse_endpoint(
    text: str, cluster: Cluster, option: str, skipped: Sequence[SkippedObject] = ()
) -> Endpoint:
    """`namespace/name` or `namespace/Kind/name` of a pod or workload, a name that is unique,
    or an IP address.

    An address that belongs to a loaded pod is that pod. When no pod matches, the error
    names what does: a skipped custom resource, the StatefulSet an operator renders, or the
    kinds that have the name.
    """
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        for pod in cluster.pods:
            if ip in pod.ips:
                return _pod_endpoint(cluster, pod, ip)
        return ExternalEndpoint(ip=ip)
    parts = text.split("/")
    if len(parts) > 3:
        raise _fail(
            f"{option} {text}: write namespace/name, namespace/Kind/name, name or an IP address"
        )
    name = parts[-1]
    namespace = parts[0] if len(parts) > 1 else None
    kind = parts[1] if len(parts) == 3 else None
    matches = pods_named(cluster, name, namespace, kind)
    if len(matches) == 1:
        pod = matches[0]
        return _pod_endpoint(cluster, pod, pod.ips[0] if pod.ips else None)
    if matches:
        spellings = " or ".join(f"{p.namespace}/{p.kind}/{p.name}" for p in matches)
        raise _fail(f"{option} {text}: more than one pod or workload matches; write {spellings}")
    if kind is not None and (named := pods_named(cluster, name, namespace, None)):
        spellings = ", ".join(sorted({f"{p.namespace}/{p.kind}/{p.name}" for p in named}))
        raise _fail(
            f"{option} {text}: no {kind} named {name}; the kinds with that name: {spellings}"
        )
    hints = _hints(cluster, skipped, namespace, name)
    raise _fail(
        f"{option} {text}: no pod or workload matches; write namespace/name or an IP address{hints}"
    )


def _hints(
    cluster: Cluster, skipped: Sequence[SkippedObject], namespace: str | None, name: str
) -> str:
    """Why nothing is called `name`: a custom resource of that name netverify skipped, the
    StatefulSet name of an operator-rendered pod, or a StatefulSet's pod name (`web-0`)."""
    hints = [
        f"{o.namespace or '-'}/{o.name} is a {o.kind} custom resource "
        f"({api_group(o.api_version)}); netverify does not model the pods it creates"
        for o in skipped
        if o.name == name and namespace in (None, o.namespace)
    ]
    renderings = {kind: rendering for (_, kind), rendering in OPERATOR_RENDERINGS.items()}
    hints += [
        f"{name} is the StatefulSet of {pod.kind} {pod.namespace}/{pod.name}: write "
        f"{pod.namespace}/{pod.name}"
        for pod in cluster.pods
        if pod.kind in renderings
        and pod.name is not None
        and renderings[pod.kind].stateful_set(pod.name) == name
        and namespace in (None, pod.namespace)
    ]
    hints += [
        f"{name} is a replica of StatefulSet {pod.namespace}/{pod.name}, which stands for "
        f"every replica: write {pod.namespace}/{pod.name}"
        for pod in cluster.pods
        if pod.kind == "StatefulSet"
        and pod.name is not None
        and re.fullmatch(rf"{re.escape(pod.name)}-\d+", name)
        and namespace in (None, pod.namespace)
    ]
    hints += [
        f"a Service: write {s.namespace}/Service/{s.name}"
        for s in cluster.services
        if s.name == name and namespace in (None, s.namespace)
    ]
    if not hints:
        # A misspelt name (sock-shop's `cart` for the Deployment `carts`).
        names = {
            pod.name: f"{pod.namespace}/{pod.name}"
            for pod in cluster.pods
            if pod.name is not None and namespace in (None, pod.namespace)
        }
        hints += [
            f'did you mean "{names[close]}"?'
            for close in difflib.get_close_matches(name, list(names), n=1)
        ]
    return "".join(f"; {hint}" for hint in hints)


def _pod_endpoint(cluster: Cluster, pod: Pod, ip: IPAddress | None) -> PodEndpoint:
    namespace = cluster.namespace(pod.namespace)
    assert namespace is not None, "every pod's namespace is loaded or implied"
    return PodEndpoint(namespace=namespace, pod=pod, ip=ip)


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
    cluster: Cluster,
    source: str,
    destination: str,
    port: str,
    skipped: Sequence[SkippedObject] = (),
) -> Flow | ServiceFlows:
    """A flow from command-line words, or the flows to a Service's backends."""
    service = parse_service(destination, cluster)
    if service is None:
        return parse_flow(cluster, source, destination, port, skipped)
    source_endpoint = parse_endpoint(source, cluster, "--from", skipped)
    return service_flows(cluster, source_endpoint, service, port)


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
        target = service.target_on(service_port, pod)
        if target is not None:
            namespace = cluster.namespace(pod.namespace)
            assert namespace is not None, "every pod's namespace is loaded or implied"
            backend = pod_at_first_address(namespace, pod)
            flow = Flow(
                source=source, destination=backend, protocol=service_port.protocol, port=target
            )
            backends.append(BackendFlow(backend=backend, flow=flow))
    if not backends:
        raise _fail(no_backends_message(service, cluster.pods, service_port))
    return ServiceFlows(service=service, port=service_port, source=source, backends=tuple(backends))


def no_backends_message(
    service: Service, pods: Sequence[Pod], port: ServicePort | None = None
) -> str:
    """Why a Service has no backend to send a flow to."""
    if service.selector is None and not service.endpoint_slices:
        reason = (
            "it has no selector and no EndpointSlice labelled "
            f"{SERVICE_NAME_LABEL}: {service.name} is loaded"
        )
    elif service.selector is None:
        unmatched = ", ".join(str(endpoint) for endpoint in service.unmatched_endpoints(pods))
        reason = "it has no selector and its EndpointSlices list no loaded pod"
        if port is not None:
            reason += f" with a {port.protocol.value} port named {port.name or '(unnamed)'}"
        if unmatched:
            reason += f" (external backends are not modelled: {unmatched})"
    elif not service.selector:
        reason = "its selector is empty"
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
    """`80/UDP` -> ("80", UDP); `80` -> ("80", None); ICMP is refused with the reason."""
    text, slash, protocol_text = port.partition("/")
    if _ICMP in (text.upper(), protocol_text.upper()):
        raise _fail(
            f"--port {port}: NetworkPolicy has no ICMP: its ports are TCP, UDP or SCTP only "
            "(what a plugin does with ICMP is up to the plugin)"
        )
    if not slash:
        return text, None
    if protocol_text not in PROTOCOLS:
        raise _fail(
            f'--port {port}: unsupported protocol "{protocol_text}": must be one of TCP, '
            f"UDP, SCTP{did_you_mean(protocol_text, PROTOCOLS)}"
        )
    return text, Protocol(protocol_text)


def parse_flow(
    cluster: Cluster,
    source: str,
    destination: str,
    port: str,
    skipped: Sequence[SkippedObject] = (),
) -> Flow:
    """A flow from command-line words; a named port is looked up on the destination pod.
    `skipped` (custom resources the load skipped) make "no pod matches" errors say why."""
    source_endpoint = parse_endpoint(source, cluster, "--from", skipped)
    destination_endpoint = parse_endpoint(destination, cluster, "--to", skipped)
    number_text, given_protocol = _split_protocol(port)
    protocol = given_protocol
    if number_text.isdigit():
        number = int(number_text)
        if not 1 <= number <= MAX_PORT:
            raise _fail(f"--port {port}: must be between 1 and {MAX_PORT}, inclusive")
        protocol = protocol or Protocol.TCP
    else:
        protocol, number = _named_port(number_text, protocol, destination_endpoint, port)
    return Flow(
        source=source_endpoint, destination=destination_endpoint, protocol=protocol, port=number
    )


_ICMP = "ICMP"


def _named_port(
    name: str, protocol: Protocol | None, destination: Endpoint, port: str
) -> tuple[Protocol, int]:
    """The destination's container port called `name`: of `protocol`, or without one of any
    protocol (as a bare name in a spec or a policy means), refused when the name stands for
    different numbers under different protocols."""
    if message := port_name_error(name):
        raise _fail(f"--port {port}: {message}")
    declared = {
        (container_port.protocol, container_port.port)
        for container_port in (
            destination.pod.ports if isinstance(destination, PodEndpoint) else ()
        )
        if container_port.name == name and protocol in (None, container_port.protocol)
    }
    if not declared:
        what = f"{protocol.value} port" if protocol else "port"
        raise _fail(f"--port {port}: the destination has no {what} named {name}")
    if len({number for _, number in declared}) > 1:
        listed = ", ".join(f"{number}/{proto.value}" for proto, number in sorted(declared))
        raise _fail(
            f"--port {port}: the destination's port {name} is {listed}; write {name}/PROTOCOL"
        )
    order = list(Protocol)
    return min(declared, key=lambda entry: order.index(entry[0]))
