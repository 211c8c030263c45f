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

from netverify.encoding.admin import AdminEncoding
from netverify.encoding.capi import conj
from netverify.encoding.classes import PodClass, is_single_pod, pod_classes, pod_identity
from netverify.encoding.policies import PolicyEncoding, namespace_is
from netverify.encoding.selectors import in_network
from netverify.encoding.smtlib import parse_assertions, symbol
from netverify.encoding.solver import fresh_context
from netverify.encoding.terms import (
    SymbolicEndpoint,
    SymbolicFlow,
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
    network_interval,
)
from netverify.model import (
    MAX_PORT,
    NAMESPACE_NAME_LABEL,
    PROTOCOLS,
    Cluster,
    EndpointPattern,
    Invariant,
    Pod,
    Protocol,
    Settings,
)
from netverify.semantics.admin import has_nodes_peers

_Profile = TypeVar("_Profile", bound=Hashable)


def pattern_names_pod(pattern: EndpointPattern, pod: Pod) -> bool:
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
        by_node: bool = False,
        whole: Cluster | None = None,
    ) -> None:
        """`universe` is given when several clusters share one (a diff); by default it is
        what this cluster's policies and the invariants mention. Host-network pods are
        classed by node when `by_node` (another revision's `nodes` peers tell nodes apart)
        or this cluster's `nodes` peers do. `whole` is given when `cluster` is a slice of
        it (`netverify.engine.slicing`): the addresses of its pods and Services stay
        taken, though only the slice's pods can be endpoints."""
        fresh_context()
        self.cluster = cluster
        self.whole = whole or cluster
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
            pod_identity(pod)
            for pod in cluster.pods
            if any(pattern_names_pod(p, pod) for p in named)
        }
        self.classes: list[PodClass] = pod_classes(
            cluster.pods, self.universe, pinned, by_node=by_node or has_nodes_peers(cluster)
        )
        self.singleton_classes = sum(
            1 for pod_class in self.classes if is_single_pod(pod_class.pods)
        )
        self.flow: SymbolicFlow = symbolic_flow(self.universe)
        self.policies = PolicyEncoding(cluster.policies, self.universe, self.flow, settings)
        self.admin = (
            AdminEncoding(cluster, self.classes, self.policies) if cluster.admin_policies else None
        )

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
        if self.node_local_possible:
            terms += self._node_domain()
        terms += self._distinct_addresses()
        return conj(terms)

    @cached_property
    def node_local_possible(self) -> bool:
        """Whether some flow can be node-local: only with a hostNetwork pod loaded (pods
        that could exist never use hostNetwork). Without one, `flow.same_node` is left out
        of every formula and decodes as False."""
        return any(pod_class.host_network for pod_class in self.classes)

    def _node_domain(self) -> list[z3.BoolRef]:
        """`same_node`: two pods, one of them a hostNetwork pod, that may share a node (pods
        bound to nodes share one only if some of their nodes are the same, and two bound to
        one and the same node always do)."""
        source, destination = self.flow.source, self.flow.destination
        terms = [
            z3.Implies(
                self.flow.same_node,
                z3.And(
                    source.is_pod,
                    destination.is_pod,
                    z3.Or(source.host_network, destination.host_network),
                ),
            )
        ]
        bound = [c for c in self.classes if c.node_names is not None]
        for host in (c for c in bound if c.host_network):
            assert host.node_names is not None
            apart = [c.index for c in bound if not host.node_names & (c.node_names or set())]
            together = [
                c.index
                for c in bound
                if len(host.node_names) == 1 == len(c.node_names or ())
                and host.node_names == c.node_names
            ]
            for end, other in ((source, destination), (destination, source)):
                terms += [
                    z3.Implies(
                        z3.And(self.flow.same_node, end.pod_class == host.index),
                        z3.And([other.pod_class != index for index in apart]),
                    ),
                    z3.Implies(
                        z3.And(
                            end.pod_class == host.index,
                            z3.Or([other.pod_class == index for index in together]),
                        ),
                        self.flow.same_node,
                    ),
                ]
        return terms

    def _distinct_addresses(self) -> list[z3.BoolRef]:
        """Two different pods whose addresses the manifests do not give never get the same
        one from the pod CIDRs (known addresses are kept out in `_address_attributes`)."""
        if not self.settings.pod_cidrs:
            return []
        unknown = [
            index
            for segments, index in _profiles(c.address_segments for c in self.classes).items()
            if segments is None
        ]
        source, destination = self.flow.source, self.flow.destination
        return [
            z3.Implies(
                z3.And(
                    [
                        z3.Not(self.self_traffic),
                        *(
                            z3.And(
                                end.is_pod,
                                z3.Or(
                                    end.pod_class == -1,
                                    *(end.address_profile == index for index in unknown),
                                ),
                            )
                            for end in (source, destination)
                        ),
                    ]
                ),
                source.ip != destination.ip,
            )
        ]

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
        terms += self._namespace_domain(endpoint)
        terms += self._external_domain(endpoint)
        terms += self._class_domain(endpoint)
        return terms

    def _namespace_domain(self, endpoint: SymbolicEndpoint) -> list[z3.BoolRef]:
        """A namespace name is unique: naming an existing namespace fixes its labels."""
        label_universe = self.universe.namespace_labels
        labels = [symbol(endpoint.namespace_labels[key]) for key in label_universe.keys]
        name = symbol(endpoint.namespace_labels[NAMESPACE_NAME_LABEL])
        rows = (
            f"(=> (= {name} {label_universe.code(NAMESPACE_NAME_LABEL, namespace.name)}) "
            f"{_conjunction(labels, label_universe.codes(namespace.labels))})"
            for namespace in self.cluster.namespaces
        )
        return parse_assertions(rows, endpoint.namespace_labels.values())

    def _external_domain(self, endpoint: SymbolicEndpoint) -> list[z3.BoolRef]:
        """An external address is known, is outside the pod CIDRs and is no pod's address
        nor a Service's ClusterIP (traffic to one goes to the Service's backends)."""
        outside_pods = [z3.Not(in_network(endpoint.ip, cidr)) for cidr in self.settings.pod_cidrs]
        if self._known_addresses:
            outside_pods += parse_assertions([self._not_known_address(endpoint)], [endpoint.ip])
        return [
            z3.Implies(
                z3.Not(endpoint.is_pod),
                z3.And(endpoint.has_ip, endpoint.pod_class == -1, *outside_pods),
            )
        ]

    @cached_property
    def _known_addresses(self) -> list[int]:
        """Every address a loaded pod has (hostNetwork pods: their node's) and every loaded
        Service's ClusterIP, in the whole cluster: none is an external host's."""
        pods = {ip_number(ip) for pod in self.whole.pods for ip in pod.ips}
        services = {ip_number(ip) for service in self.whole.services for ip in service.cluster_ips}
        return sorted(pods | services)

    def _not_known_address(self, endpoint: SymbolicEndpoint) -> str:
        """The endpoint's address is none of `_known_addresses`, as SMT-LIB text."""
        if not self._known_addresses:
            return "true"
        ip = symbol(endpoint.ip)
        equalities = " ".join(f"(= {ip} {number})" for number in self._known_addresses)
        return f"(not (or {equalities}))"

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
        label_terms = [endpoint.pod_labels[key] for key in self.universe.pod_labels.keys]
        label_names = [symbol(term) for term in label_terms]
        terms += _profile_table(
            endpoint.label_profile,
            labels,
            lambda codes: _conjunction(label_names, codes),
            label_terms,
        )
        port_terms = [
            term
            for named_port in endpoint.named_ports.values()
            for term in (named_port.defined, named_port.number)
        ]
        port_names = {
            key: (symbol(named_port.defined), symbol(named_port.number))
            for key, named_port in endpoint.named_ports.items()
        }
        terms += _profile_table(
            endpoint.port_profile,
            ports,
            lambda named_ports: _port_attributes(port_names, named_ports),
            port_terms,
        )
        terms += _profile_table(
            endpoint.address_profile,
            addresses,
            lambda segments: self._address_attributes(endpoint, segments),
            [endpoint.has_ip, endpoint.ip],
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

    def _address_attributes(
        self, endpoint: SymbolicEndpoint, segments: tuple[int, ...] | None
    ) -> str:
        """Known addresses: in one of the segments; unknown: in the pod CIDRs and no loaded
        pod's address (addresses never collide), or none."""
        has_ip = symbol(endpoint.has_ip)
        if segments is None:
            if not self.settings.pod_cidrs:
                return f"(not {has_ip})"
            within = _within(endpoint, map(network_interval, self.settings.pod_cidrs))
            return f"(and {has_ip} {within} {self._not_known_address(endpoint)})"
        within = _within(endpoint, map(self.universe.segment_interval, segments))
        return f"(and {has_ip} {within})"

    def _hypothetical_pod(self, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """A pod that could exist: any labels and named ports, no hostNetwork (an assumption
        reported with every verdict), an address only when pod CIDRs say where (and no
        loaded pod's)."""
        pod_cidrs = self.settings.pod_cidrs
        has_ip = z3.And(
            endpoint.has_ip,
            z3.Or([in_network(endpoint.ip, c) for c in pod_cidrs]),
            *parse_assertions([self._not_known_address(endpoint)], [endpoint.ip]),
        )
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
        (or it is a pod's traffic to itself, or node-local traffic). With admin policies
        whose order the API leaves open: allowed in some order (see `blocked`)."""
        if self.admin is not None:
            return self._admin_verdict(allowed=True)
        if self.node_local_possible:
            return z3.Or(self.self_traffic, self.flow.same_node, self.policies.allowed)
        return z3.Or(self.self_traffic, self.policies.allowed)

    @property
    def blocked(self) -> z3.BoolRef:
        """The symbolic flow is blocked (in some order of the admin policies the API leaves
        open; without such policies, exactly not `allowed`)."""
        # NOTE: built afresh per query, as before admin tiers: the order terms are built in
        # steers which of many equally good flows the solver returns.
        if self.admin is not None:
            return self._admin_blocked
        return z3.Not(self.allowed)

    @cached_property
    def _admin_blocked(self) -> z3.BoolRef:
        return self._admin_verdict(allowed=False)

    def _admin_verdict(self, allowed: bool) -> z3.BoolRef:
        assert self.admin is not None
        same_node = self.flow.same_node if self.node_local_possible else None
        return self.admin.flow_verdict(allowed, self.self_traffic, same_node)


def _profiles(values: Iterable[_Profile]) -> dict[_Profile, int]:
    """Distinct values, numbered in order of first appearance."""
    table: dict[_Profile, int] = {}
    for value in values:
        table.setdefault(value, len(table))
    return table


def _profile_table(
    variable: z3.ArithRef,
    table: dict[_Profile, int],
    attributes: Callable[[_Profile], str],
    constants: Sequence[z3.ExprRef],
) -> list[z3.BoolRef]:
    """`variable == i` fixes the endpoint's attributes to profile i's; -1 fixes nothing.

    `attributes` writes a profile's attributes as SMT-LIB text over `constants`."""
    terms = [variable >= -1, variable < len(table)]
    if not constants:
        # NOTE: without attributes a row is `(and)`, which SMT-LIB cannot write.
        return terms + [z3.Implies(variable == index, z3.And([])) for index in table.values()]
    name = symbol(variable)
    rows = (f"(=> (= {name} {index}) {attributes(profile)})" for profile, index in table.items())
    return terms + parse_assertions(rows, [variable, *constants])


def _within(endpoint: SymbolicEndpoint, intervals: Iterable[tuple[int, int]]) -> str:
    """The endpoint's address is in one of the intervals, as SMT-LIB text."""
    ip = symbol(endpoint.ip)
    within = " ".join(f"(and (>= {ip} {low}) (<= {ip} {high}))" for low, high in intervals)
    return f"(or {within})"


def _conjunction(names: Sequence[str], values: Sequence[int]) -> str:
    """Each named constant equals its value, as SMT-LIB text."""
    equalities = " ".join(f"(= {name} {value})" for name, value in zip(names, values, strict=True))
    return f"(and {equalities})"


def _port_attributes(
    names: dict[tuple[str, Protocol], tuple[str, str]],
    named_ports: tuple[tuple[str, Protocol, tuple[int, ...]], ...],
) -> str:
    """The named ports defined with their numbers, every other one undefined (SMT-LIB text
    over the (defined, number) constants in `names`)."""
    defined = {(name, protocol): numbers for name, protocol, numbers in named_ports}
    parts = []
    for key, (is_defined, number) in names.items():
        numbers = defined.get(key)
        if numbers is None:
            parts.append(f"(not {is_defined})")
        else:
            choices = " ".join(f"(= {number} {value})" for value in numbers)
            parts += [is_defined, f"(or {choices})"]
    return f"(and {' '.join(parts)})"
