"""Which concrete flows an invariant talks about (the reference for the encoding's
pattern terms, and the check that a decoded counterexample really matches)."""

from netverify.model import (
    Cluster,
    Endpoint,
    EndpointPattern,
    Flow,
    Invariant,
    Namespace,
    NamespaceScope,
    PodEndpoint,
    PodScope,
    PortPattern,
    Protocol,
)
from netverify.semantics.evaluator import is_self_traffic
from netverify.semantics.matching import selector_matches
from netverify.semantics.portsets import EVERY_PORT, NO_PORT, PortSet, ports_where


def endpoint_matches(pattern: EndpointPattern, endpoint: Endpoint) -> bool:
    """Every given field of the pattern matches; the empty pattern matches everything."""
    if not isinstance(endpoint, PodEndpoint):
        return not pattern.pods_only and (pattern.ip is None or endpoint.ip in pattern.ip)
    pod = endpoint.pod
    checks = (
        not pattern.external,
        namespace_matches(pattern, endpoint.namespace),
        pattern.pod_name is None or pod.name == pattern.pod_name,
        pattern.pod_kind is None or pod.kind == pattern.pod_kind,
        pattern.pod_selector is None or selector_matches(pattern.pod_selector, pod.labels),
        pattern.ip is None or (endpoint.ip is not None and endpoint.ip in pattern.ip),
    )
    return all(checks)


def namespace_matches(pattern: EndpointPattern, namespace: Namespace) -> bool:
    """The pattern's namespace fields (its name, its selector) match the namespace: a pod
    the pattern matches is in one such namespace."""
    return (pattern.namespace_name is None or namespace.name == pattern.namespace_name) and (
        pattern.namespace_selector is None
        or selector_matches(pattern.namespace_selector, namespace.labels)
    )


def port_pattern_matches(
    pattern: PortPattern, protocol: Protocol, port: int, destination: Endpoint
) -> bool:
    """A destination port pattern; a named port is looked up on the destination pod."""
    if pattern.protocol is not None and protocol != pattern.protocol:
        return False
    if pattern.port_range is not None:
        return pattern.port_range.start <= port <= pattern.port_range.end
    if pattern.named_port is not None:
        return isinstance(destination, PodEndpoint) and any(
            container_port.name == pattern.named_port
            and container_port.port == port
            and container_port.protocol == protocol
            for container_port in destination.pod.ports
        )
    return True


def in_scope(invariant: Invariant, cluster: Cluster, endpoint: Endpoint) -> bool:
    """Whether the endpoint is among what the invariant quantifies over."""
    if not isinstance(endpoint, PodEndpoint):
        return True
    if invariant.pods is PodScope.EXISTING and endpoint.pod.name is None:
        return False
    return invariant.namespaces is NamespaceScope.ANY or (
        cluster.namespace(endpoint.namespace.name) is not None
    )


def flow_matches(invariant: Invariant, cluster: Cluster, flow: Flow) -> bool:
    """Whether the invariant talks about this flow (never a pod's traffic to itself)."""
    return _ends_match(invariant, cluster, flow) and (
        not invariant.ports
        or any(
            port_pattern_matches(p, flow.protocol, flow.port, flow.destination)
            for p in invariant.ports
        )
    )


def matched_ports(invariant: Invariant, cluster: Cluster, flow: Flow) -> PortSet:
    """The ports at which `flow_matches` holds for the flow (its own port aside)."""
    if not _ends_match(invariant, cluster, flow):
        return NO_PORT
    if not invariant.ports:
        return EVERY_PORT
    return ports_where(
        lambda port: any(
            port_pattern_matches(p, flow.protocol, port, flow.destination) for p in invariant.ports
        ),
        (p.port_range for p in invariant.ports if p.port_range is not None),
        flow.destination,
    )


def _ends_match(invariant: Invariant, cluster: Cluster, flow: Flow) -> bool:
    """`flow_matches` but for the ports: what holds of the flow's ends whatever its port."""
    return (isinstance(flow.source, PodEndpoint) or isinstance(flow.destination, PodEndpoint)) and (
        not is_self_traffic(flow.source, flow.destination)
        and endpoint_matches(invariant.source, flow.source)
        and endpoint_matches(invariant.destination, flow.destination)
        and in_scope(invariant, cluster, flow.source)
        and in_scope(invariant, cluster, flow.destination)
    )
