"""A cluster as Z3 terms: one symbolic flow, the constraints that make it a real flow, and
the formula of "this flow is allowed" that means exactly what the reference evaluator means.

Every side of a flow is decided by an ordered list of policy layers (as in
`netverify.semantics.evaluator`): the first layer that has an opinion decides, and a side no
layer has an opinion on is allowed. Today the only layer is NetworkPolicy.
"""

from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import cached_property
from typing import TypeVar

import z3

from netverify.encoding.classes import PodClass, is_single_pod, pod_classes, pod_identity
from netverify.encoding.policies import PolicyEncoding, namespace_is
from netverify.encoding.selectors import in_network
from netverify.encoding.smtlib import parse_assertions, symbol
from netverify.encoding.terms import (
    PROTOCOLS,
    SymbolicEndpoint,
    SymbolicFlow,
    fresh_context,
    symbolic_flow,
)
from netverify.encoding.universe import (
    ABSENT,
    IP_SPACE_END,
    IPV4_INTERVAL,
    IPV6_OFFSET,
    Universe,
    build_universe,
    ip_number,
)
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    EndpointPattern,
    Invariant,
    Pod,
    Protocol,
    Settings,
)

MAX_PORT = 65535

_Profile = TypeVar("_Profile", bound=Hashable)


def pattern_names(pattern: EndpointPattern, pod: Pod) -> bool:
    """Whether an invariant endpoint names this pod (by namespace, name and maybe kind)."""
    return (
        pattern.pod_name == pod.name
        and pattern.namespace_name == pod.namespace
        and (pattern.pod_kind is None or pattern.pod_kind == pod.kind)
    )


class ClusterEncoding:
    """The shared encoding of one cluster, built once and queried by every invariant."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        invariants: Sequence[Invariant] = (),
        universe: Universe | None = None,
    ) -> None:
        """`universe` is given when several clusters share one (a diff); by default it is
        what this cluster's policies and the invariants mention."""
        fresh_context()
        self.cluster = cluster
        self.settings = settings
        self.universe: Universe = universe or build_universe(
            [cluster], invariants, settings.pod_cidrs
        )
        named = [
            pattern
            for invariant in invariants
            for pattern in (invariant.source, invariant.destination)
            if pattern.pod_name is not None
        ]
        pinned = {
            pod_identity(pod) for pod in cluster.pods if any(pattern_names(p, pod) for p in named)
        }
        self.classes: list[PodClass] = pod_classes(cluster.pods, self.universe, pinned)
        self.singleton_classes = sum(
            1 for pod_class in self.classes if is_single_pod(pod_class.pods)
        )
        self.flow: SymbolicFlow = symbolic_flow(self.universe)
        self.policies = PolicyEncoding(cluster.policies, self.universe, self.flow, settings)

    # -- small term builders -------------------------------------------------------------

    def namespace_is(self, endpoint: SymbolicEndpoint, name: str) -> z3.BoolRef:
        return namespace_is(self.universe, endpoint, name)

    def has_named_port(self, name: str, protocols: Iterable[Protocol]) -> z3.BoolRef:
        return self.policies.has_named_port(name, protocols)

    def class_is(self, endpoint: SymbolicEndpoint, pod_class: PodClass) -> z3.BoolRef:
        return endpoint.pod_class == pod_class.index

    # -- what makes the symbolic flow a flow -----------------------------------------------

    @cached_property
    def domain(self) -> z3.BoolRef:
        """Constraints every flow satisfies, whatever the invariant's scope."""
        flow = self.flow
        terms = [
            flow.protocol >= 0,
            flow.protocol < len(PROTOCOLS),
            flow.port >= 1,
            flow.port <= MAX_PORT,
            z3.Or(flow.source.is_pod, flow.destination.is_pod),
        ]
        for endpoint in (flow.source, flow.destination):
            terms += self._endpoint_domain(endpoint)
        return z3.And(terms)

    def _endpoint_domain(self, endpoint: SymbolicEndpoint) -> list[z3.BoolRef]:
        universe = self.universe
        terms: list[z3.BoolRef] = []
        for labels, label_universe in (
            (endpoint.pod_labels, universe.pod_labels),
            (endpoint.namespace_labels, universe.namespace_labels),
        ):
            for key, term in labels.items():
                terms += [term >= ABSENT, term <= label_universe.other(key)]
        terms.append(
            z3.Implies(endpoint.is_pod, endpoint.namespace_labels[NAMESPACE_NAME_LABEL] != ABSENT)
        )
        for named_port in endpoint.named_ports.values():
            terms += [named_port.number >= 1, named_port.number <= MAX_PORT]
        terms.append(
            z3.Or(
                z3.And(endpoint.ip >= IPV4_INTERVAL[0], endpoint.ip <= IPV4_INTERVAL[1]),
                z3.And(endpoint.ip >= IPV6_OFFSET, endpoint.ip < IP_SPACE_END),
            )
        )
        # A namespace name is unique: naming an existing namespace fixes its labels.
        for namespace in self.cluster.namespaces:
            codes = universe.namespace_labels.codes(namespace.labels)
            terms.append(
                z3.Implies(
                    self.namespace_is(endpoint, namespace.name),
                    z3.And(
                        [
                            endpoint.namespace_labels[key] == code
                            for key, code in zip(universe.namespace_labels.keys, codes, strict=True)
                        ]
                    ),
                )
            )
        terms += self._external_domain(endpoint)
        terms += self._class_domain(endpoint)
        return terms

    def _external_domain(self, endpoint: SymbolicEndpoint) -> list[z3.BoolRef]:
        """An external address is known, is outside the pod CIDRs and is no pod's address."""
        pod_addresses = sorted({ip_number(ip) for pod in self.cluster.pods for ip in pod.ips})
        outside_pods = [z3.Not(in_network(endpoint.ip, cidr)) for cidr in self.settings.pod_cidrs]
        if pod_addresses:
            outside_pods.append(z3.Not(z3.Or([endpoint.ip == number for number in pod_addresses])))
        return [
            z3.Implies(
                z3.Not(endpoint.is_pod),
                z3.And(endpoint.has_ip, endpoint.pod_class == -1, *outside_pods),
            )
        ]

    def _class_domain(self, endpoint: SymbolicEndpoint) -> list[z3.BoolRef]:
        """Class -1 is a pod that could exist; class i pins every attribute to class i's.

        Classes share few distinct label vectors, port sets and address sets, so those are
        tabled once as profiles and a class names its profiles: the constraint grows with
        classes + profiles x attributes, not classes x attributes.
        """
        labels = _profiles(pod_class.label_codes for pod_class in self.classes)
        ports = _profiles(pod_class.named_ports for pod_class in self.classes)
        addresses = _profiles(pod_class.address_segments for pod_class in self.classes)
        terms = [
            endpoint.pod_class >= -1,
            endpoint.pod_class < len(self.classes),
            z3.Implies(endpoint.pod_class == -1, self._hypothetical_pod(endpoint)),
        ]
        terms += _profile_table(endpoint.label_profile, labels, self._label_attributes, endpoint)
        terms += _profile_table(endpoint.port_profile, ports, self._port_attributes, endpoint)
        terms += _profile_table(
            endpoint.address_profile, addresses, self._address_attributes, endpoint
        )
        name_label = endpoint.namespace_labels[NAMESPACE_NAME_LABEL]
        code = self.universe.namespace_labels.code
        constants = (
            endpoint.pod_class,
            endpoint.is_pod,
            name_label,
            endpoint.host_network,
            endpoint.label_profile,
            endpoint.port_profile,
            endpoint.address_profile,
        )
        pod_class_, is_pod, name, host_network, label_profile, port_profile, address_profile = (
            symbol(constant) for constant in constants
        )
        rows = (
            f"(=> (= {pod_class_} {pod_class.index}) (and {is_pod} "
            f"(= {name} {code(NAMESPACE_NAME_LABEL, pod_class.namespace)}) "
            f"{host_network if pod_class.host_network else f'(not {host_network})'} "
            f"(= {label_profile} {labels[pod_class.label_codes]}) "
            f"(= {port_profile} {ports[pod_class.named_ports]}) "
            f"(= {address_profile} {addresses[pod_class.address_segments]})))"
            for pod_class in self.classes
        )
        terms += parse_assertions(rows, constants)
        return terms

    def _label_attributes(
        self, endpoint: SymbolicEndpoint, label_codes: tuple[int, ...]
    ) -> z3.BoolRef:
        keys = self.universe.pod_labels.keys
        return z3.And(
            [endpoint.pod_labels[key] == code for key, code in zip(keys, label_codes, strict=True)]
        )

    def _port_attributes(
        self,
        endpoint: SymbolicEndpoint,
        named_ports: tuple[tuple[str, Protocol, tuple[int, ...]], ...],
    ) -> z3.BoolRef:
        defined = {(name, protocol): numbers for name, protocol, numbers in named_ports}
        terms = []
        for key, named_port in endpoint.named_ports.items():
            numbers = defined.get(key)
            if numbers is None:
                terms.append(z3.Not(named_port.defined))
            else:
                terms.append(named_port.defined)
                terms.append(z3.Or([named_port.number == number for number in numbers]))
        return z3.And(terms)

    def _address_attributes(
        self, endpoint: SymbolicEndpoint, segments: tuple[int, ...] | None
    ) -> z3.BoolRef:
        """Known addresses: in one of the segments; unknown: in the pod CIDRs, or none."""
        if segments is None:
            if self.settings.pod_cidrs:
                return z3.And(
                    endpoint.has_ip,
                    z3.Or([in_network(endpoint.ip, c) for c in self.settings.pod_cidrs]),
                )
            return z3.Not(endpoint.has_ip)
        intervals = [self.universe.segment_interval(segment) for segment in segments]
        return z3.And(
            endpoint.has_ip,
            z3.Or([z3.And(endpoint.ip >= low, endpoint.ip <= high) for low, high in intervals]),
        )

    def _hypothetical_pod(self, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """A pod that could exist: any labels and named ports, no hostNetwork (an assumption
        reported with every verdict), an address only when pod CIDRs say where."""
        pod_cidrs = self.settings.pod_cidrs
        has_ip = z3.And(endpoint.has_ip, z3.Or([in_network(endpoint.ip, c) for c in pod_cidrs]))
        one_protocol_per_name = [
            z3.AtMost(*[endpoint.named_ports[(name, p)].defined for p in PROTOCOLS], 1)
            for name in self.universe.port_names
        ]
        return z3.Implies(
            endpoint.is_pod,
            z3.And(
                z3.Not(endpoint.host_network),
                has_ip if pod_cidrs else z3.Not(endpoint.has_ip),
                *one_protocol_per_name,
            ),
        )

    # -- scopes ----------------------------------------------------------------------------

    def existing_pod(self, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """The endpoint, if a pod, is one of the loaded pods."""
        return z3.Implies(endpoint.is_pod, endpoint.pod_class >= 0)

    def existing_namespace(self, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """The endpoint, if a pod, runs in one of the loaded (or implied) namespaces."""
        return z3.Implies(
            endpoint.is_pod,
            z3.Or([self.namespace_is(endpoint, ns.name) for ns in self.cluster.namespaces]),
        )

    @cached_property
    def self_traffic(self) -> z3.BoolRef:
        """Both ends are the same existing pod (a pod's traffic to itself)."""
        source, destination = self.flow.source, self.flow.destination
        return z3.And(
            source.is_pod,
            destination.is_pod,
            source.pod_class >= 0,
            source.pod_class < self.singleton_classes,
            source.pod_class == destination.pod_class,
        )

    @cached_property
    def allowed(self) -> z3.BoolRef:
        """The symbolic flow is allowed: egress at the source and ingress at the destination
        (or it is a pod's traffic to itself)."""
        return z3.Or(self.self_traffic, self.policies.allowed)


def _profiles(values: Iterable[_Profile]) -> dict[_Profile, int]:
    """Distinct values, numbered in order of first appearance."""
    table: dict[_Profile, int] = {}
    for value in values:
        table.setdefault(value, len(table))
    return table


def _profile_table(
    variable: z3.ArithRef,
    table: dict[_Profile, int],
    attributes: Callable[[SymbolicEndpoint, _Profile], z3.BoolRef],
    endpoint: SymbolicEndpoint,
) -> list[z3.BoolRef]:
    """`variable == i` fixes the endpoint's attributes to profile i's; -1 fixes nothing."""
    terms = [variable >= -1, variable < len(table)]
    terms += [
        z3.Implies(variable == index, attributes(endpoint, profile))
        for profile, index in table.items()
    ]
    return terms
