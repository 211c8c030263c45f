"""Turn a Z3 model of the symbolic flow into a plain `Flow`, at once.

No solver object outlives this module's functions: what comes out is model data only.
"""

import z3

from netverify.encoding.classes import PodClass
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.terms import SymbolicEndpoint
from netverify.encoding.universe import LabelUniverse, ip_from_number
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    PROTOCOLS,
    ContainerPort,
    Endpoint,
    ExternalEndpoint,
    Flow,
    IPAddress,
    Namespace,
    Pod,
    PodEndpoint,
)


def _int(model: z3.ModelRef, term: z3.ArithRef) -> int:
    value = model.eval(term, model_completion=True)
    return int(value.as_long())


def _bool(model: z3.ModelRef, term: z3.BoolRef) -> bool:
    return bool(z3.is_true(model.eval(term, model_completion=True)))


def decode_flow(encoding: ClusterEncoding, model: z3.ModelRef) -> Flow:
    flow = encoding.flow
    source = _decode_endpoint(encoding, model, flow.source)
    avoid = source.pod if isinstance(source, PodEndpoint) else None
    return Flow(
        source=source,
        destination=_decode_endpoint(encoding, model, flow.destination, avoid),
        protocol=PROTOCOLS[_int(model, flow.protocol)],
        port=_int(model, flow.port),
    )


def _decode_endpoint(
    encoding: ClusterEncoding,
    model: z3.ModelRef,
    endpoint: SymbolicEndpoint,
    avoid: Pod | None = None,
) -> Endpoint:
    """The endpoint of the model; an existing pod other than `avoid` when the class has one
    (two ends in one class of several pods are two different pods)."""
    ip = ip_from_number(_int(model, endpoint.ip)) if _bool(model, endpoint.has_ip) else None
    if not _bool(model, endpoint.is_pod):
        assert ip is not None, "the domain gives every external endpoint an address"
        return ExternalEndpoint(ip=ip)
    class_index = _int(model, endpoint.pod_class)
    if class_index >= 0:
        return _existing_pod(encoding, encoding.classes[class_index], ip, avoid)
    namespace = _decode_namespace(encoding, model, endpoint)
    pod = Pod(
        namespace=namespace.name,
        name=None,
        labels=_decode_labels(model, endpoint.pod_labels, encoding.universe.pod_labels),
        ports=tuple(
            ContainerPort(name=name, port=_int(model, terms.number), protocol=protocol)
            for (name, protocol), terms in endpoint.named_ports.items()
            if _bool(model, terms.defined)
        ),
    )
    return PodEndpoint(namespace=namespace, pod=pod, ip=ip)


def _existing_pod(
    encoding: ClusterEncoding, pod_class: PodClass, ip: IPAddress | None, avoid: Pod | None
) -> Endpoint:
    """The first pod of the class (by namespace and name) with an address like the model's."""
    namespace = encoding.cluster.namespace(pod_class.namespace)
    assert namespace is not None, "every pod's namespace is loaded or implied"
    candidates = [pod for pod in pod_class.pods if pod is not avoid] or list(pod_class.pods)
    if pod_class.address_segments is None:
        return PodEndpoint(namespace=namespace, pod=candidates[0], ip=ip)
    assert ip is not None, "a class with known addresses has an address"
    wanted = encoding.universe.segment_of(ip)
    for pod in candidates:
        for pod_ip in pod.ips:
            if encoding.universe.segment_of(pod_ip) == wanted:
                return PodEndpoint(namespace=namespace, pod=pod, ip=pod_ip)
    raise AssertionError(f"no pod of class {pod_class.index} has an address like {ip}")


def _decode_namespace(
    encoding: ClusterEncoding, model: z3.ModelRef, endpoint: SymbolicEndpoint
) -> Namespace:
    universe = encoding.universe.namespace_labels
    labels = _decode_labels(model, endpoint.namespace_labels, universe)
    name = labels[NAMESPACE_NAME_LABEL]
    existing = encoding.cluster.namespace(name)
    if existing is not None:
        return existing
    return Namespace(name=name, labels=labels, defined=False)


def _decode_labels(
    model: z3.ModelRef, labels: dict[str, z3.ArithRef], universe: LabelUniverse
) -> dict[str, str]:
    decoded: dict[str, str] = {}
    for key, term in labels.items():
        value = universe.value(key, _int(model, term))
        if value is not None:
            decoded[key] = value
    return decoded
