"""Each invariant kind searches for its violation (or, for `reachable`, its witness).

`forbid`: a matching flow that is allowed is a violation. `require`: a matching flow that is
blocked is a violation. `reachable`: a matching allowed flow is the witness that it holds;
none at all means it is violated.
"""

from dataclasses import dataclass

import z3

from netverify.encoding.cluster import ClusterEncoding, pattern_names_pod
from netverify.encoding.selectors import in_network, selector_term
from netverify.encoding.terms import SymbolicEndpoint, protocol_code
from netverify.model import (
    PROTOCOLS,
    EndpointPattern,
    Invariant,
    InvariantKind,
    NamespaceScope,
    PodScope,
    PortPattern,
)


@dataclass(frozen=True)
class Query:
    """A formula to satisfy and what a model of it means."""

    formula: z3.BoolRef
    found_means_violated: bool
    """True: a model is a counterexample. False: a model is a witness that it holds."""
    expect_allowed: bool
    """What the reference evaluator must say about a decoded model's flow."""


def query_for(
    encoding: ClusterEncoding, invariant: Invariant, matching: z3.BoolRef | None = None
) -> Query:
    """The invariant's query; `matching` is its `matching_flow` where the caller kept it
    from an encoding that differs from this one only in its policies."""
    if matching is None:
        matching = matching_flow(encoding, invariant)
    match invariant.kind:
        case InvariantKind.FORBID:
            return Query(z3.And(matching, encoding.allowed), True, expect_allowed=True)
        case InvariantKind.REQUIRE:
            return Query(z3.And(matching, encoding.blocked), True, expect_allowed=False)
        case InvariantKind.REACHABLE:
            return Query(z3.And(matching, encoding.allowed), False, expect_allowed=True)


def matching_flow(encoding: ClusterEncoding, invariant: Invariant) -> z3.BoolRef:
    """The symbolic flow is one the invariant talks about, within its scope."""
    flow = encoding.flow
    terms = [
        z3.Not(encoding.self_traffic),
        endpoint_pattern(encoding, invariant.source, flow.source),
        endpoint_pattern(encoding, invariant.destination, flow.destination),
        ports_pattern(encoding, invariant.ports),
    ]
    for endpoint in (flow.source, flow.destination):
        if invariant.pods is PodScope.EXISTING:
            terms.append(encoding.existing_pod(endpoint))
        if invariant.namespaces is NamespaceScope.EXISTING:
            terms.append(encoding.existing_namespace(endpoint))
    return z3.And(terms)


def endpoint_pattern(
    encoding: ClusterEncoding, pattern: EndpointPattern, endpoint: SymbolicEndpoint
) -> z3.BoolRef:
    universe = encoding.universe
    terms = []
    if pattern.pods_only:
        terms.append(endpoint.is_pod)
    if pattern.external:
        terms.append(z3.Not(endpoint.is_pod))
    if pattern.namespace_name is not None:
        terms.append(encoding.namespace_is(endpoint, pattern.namespace_name))
    if pattern.namespace_selector is not None:
        terms.append(
            selector_term(
                pattern.namespace_selector, endpoint.namespace_labels, universe.namespace_labels
            )
        )
    if pattern.pod_name is not None:
        classes = [
            pod_class
            for pod_class in encoding.classes
            if any(pattern_names_pod(pattern, pod) for pod in pod_class.pods)
        ]
        terms.append(z3.Or([encoding.class_is(endpoint, pod_class) for pod_class in classes]))
    if pattern.pod_selector is not None:
        terms.append(selector_term(pattern.pod_selector, endpoint.pod_labels, universe.pod_labels))
    if pattern.ip is not None:
        terms.append(z3.And(endpoint.has_ip, in_network(endpoint.ip, pattern.ip)))
    return z3.And(terms)


def ports_pattern(encoding: ClusterEncoding, ports: tuple[PortPattern, ...]) -> z3.BoolRef:
    """Empty: every port of every protocol."""
    if not ports:
        return z3.BoolVal(True)
    return z3.Or([_port_pattern(encoding, port) for port in ports])


def _port_pattern(encoding: ClusterEncoding, pattern: PortPattern) -> z3.BoolRef:
    flow = encoding.flow
    protocols = PROTOCOLS if pattern.protocol is None else (pattern.protocol,)
    if pattern.named_port is not None:
        return encoding.has_named_port(pattern.named_port, protocols)
    terms = [z3.Or([flow.protocol == protocol_code(p) for p in protocols])]
    if pattern.port_range is not None:
        terms += [flow.port >= pattern.port_range.start, flow.port <= pattern.port_range.end]
    return z3.And(terms)
