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
from netverify.semantics.evaluator import may_be_node_local


def _int(model: z3.ModelRef, term: z3.ArithRef) -> int:
    value = model.eval(term, model_completion=True)
    return int(value.as_long())


def _bool(model: z3.ModelRef, term: z3.BoolRef) -> bool:
    return bool(z3.is_true(model.eval(term, model_completion=True)))


def decode_flow(encoding: ClusterEncoding, model: z3.ModelRef) -> Flow:
    flow = encoding.flow
    same_node = _bool(model, flow.same_node)
    source = _decode_endpoint(encoding, model, flow.source)
    avoid = source.pod if isinstance(source, PodEndpoint) else None
    destination = _decode_endpoint(encoding, model, flow.destination, avoid)
    if same_node:
        source, destination = _on_one_node(encoding, model, source, destination)
    return Flow(
        source=source,
        destination=destination,
        protocol=PROTOCOLS[_int(model, flow.protocol)],
        port=_int(model, flow.port),
        same_node=same_node,
    )


def _on_one_node(
    encoding: ClusterEncoding, model: z3.ModelRef, source: Endpoint, destination: Endpoint
) -> tuple[Endpoint, Endpoint]:
    """Two pods of the model's classes that may share a node (the encoding's classes know
    only that some pair of theirs may): the decoded pair if it may, else the first such."""
    if may_be_node_local(source, destination):
        return source, destination
    assert isinstance(source, PodEndpoint) and isinstance(destination, PodEndpoint)
    pairs = (
        (first, second)
        for first in _class_members(encoding, model, encoding.flow.source, source)
        for second in _class_members(encoding, model, encoding.flow.destination, destination)
        if first.pod is not second.pod and may_be_node_local(first, second)
    )
    pair = next(pairs, None)
    assert pair is not None, "the encoding lets only classes that may share a node do so"
    return pair


def _class_members(
    encoding: ClusterEncoding, model: z3.ModelRef, endpoint: SymbolicEndpoint, decoded: PodEndpoint
) -> list[PodEndpoint]:
    """The decoded pod first, then the other pods of its class (a pod that could exist is
    only itself)."""
    class_index = _int(model, endpoint.pod_class)
    if class_index < 0:
        return [decoded]
    pod_class = encoding.classes[class_index]
    others = [
        _existing_pod(encoding, pod_class, decoded.ip, avoid=None, only=pod)
        for pod in pod_class.pods
        if pod is not decoded.pod
    ]
    return [decoded, *(other for other in others if isinstance(other, PodEndpoint))]


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
    encoding: ClusterEncoding,
    pod_class: PodClass,
    ip: IPAddress | None,
    avoid: Pod | None,
    only: Pod | None = None,
) -> Endpoint:
    """The first pod of the class (by namespace and name) with an address like the model's;
    `only` that pod."""
    namespace = encoding.cluster.namespace(pod_class.namespace)
    assert namespace is not None, "every pod's namespace is loaded or implied"
    candidates = [pod for pod in pod_class.pods if pod is not avoid] or list(pod_class.pods)
    if only is not None:
        candidates = [only]
    if not pod_class.address_segments:
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
    return Namespace(name=name, labels=labels, defined=False, exists=False)


def _decode_labels(
    model: z3.ModelRef, labels: dict[str, z3.ArithRef], universe: LabelUniverse
) -> dict[str, str]:
    decoded: dict[str, str] = {}
    for key, term in labels.items():
        value = universe.value(key, _int(model, term))
        if value is not None:
            decoded[key] = value
    return decoded
