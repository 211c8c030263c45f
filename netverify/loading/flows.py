"""A flow written on the command line (`explain --from ns/pod --to 10.0.0.1 --port 80/TCP`)
resolved against the loaded cluster."""

import ipaddress
from collections.abc import Sequence

from netverify.loading.kinds import api_group
from netverify.loading.podnames import pods_named
from netverify.loading.pods import OPERATOR_RENDERINGS
from netverify.loading.validation import did_you_mean, port_name_error
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
    Pod,
    PodEndpoint,
    Protocol,
    Severity,
    SkippedObject,
)


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
    """Why nothing is called `name`: a custom resource of that name netverify skipped, or the
    StatefulSet name of an operator-rendered pod."""
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
    return "".join(f"; {hint}" for hint in hints)


def _pod_endpoint(cluster: Cluster, pod: Pod, ip: IPAddress | None) -> PodEndpoint:
    namespace = cluster.namespace(pod.namespace)
    assert namespace is not None, "every pod's namespace is loaded or implied"
    return PodEndpoint(namespace=namespace, pod=pod, ip=ip)


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
    number_text, slash, protocol_text = port.partition("/")
    if _ICMP in (number_text.upper(), protocol_text.upper()):
        raise _fail(
            f"--port {port}: NetworkPolicy has no ICMP: its ports are TCP, UDP or SCTP only "
            "(what a plugin does with ICMP is up to the plugin)"
        )
    protocol: Protocol | None = None
    if slash:
        if protocol_text not in PROTOCOLS:
            raise _fail(
                f'--port {port}: unsupported protocol "{protocol_text}": must be one of TCP, '
                f"UDP, SCTP{did_you_mean(protocol_text, PROTOCOLS)}"
            )
        protocol = Protocol(protocol_text)
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
