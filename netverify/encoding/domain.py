"""What makes the symbolic flow a flow: the constraints every flow satisfies, whatever
the invariant asks.

Each endpoint is a loaded pod's class (every attribute pinned to that class's), a pod that
could exist (class -1: any labels and named ports, no hostNetwork), or an external address
that is neither a pod's nor a Service's. Namespaces are unique by name, and two pods get the
same address or node only when the manifests allow it.
"""

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import z3

from netverify.encoding.classes import PodClass
from netverify.encoding.remembered import Remembered
from netverify.encoding.selectors import in_network
from netverify.encoding.smtlib import (
    Formulas,
    assertions_text,
    parse_formulas,
    parse_text,
    symbol,
)
from netverify.encoding.terms import SymbolicEndpoint, SymbolicFlow
from netverify.encoding.universe import (
    ABSENT,
    IP_SPACE_END,
    IPV4_INTERVAL,
    IPV6_OFFSET,
    Universe,
    ip_number,
    network_interval,
)
from netverify.model import MAX_PORT, NAMESPACE_NAME_LABEL, PROTOCOLS, Cluster, Protocol, Settings

_Profile = TypeVar("_Profile", bound=Hashable)

Conjuncts = list[z3.BoolRef | Formulas]
"""Terms of the domain, and tables of them parsed at once, all to be conjoined
(`netverify.encoding.smtlib.conjunction`)."""


class FlowDomain:
    """The domain's terms for one encoding's flow, universe and pod classes."""

    def __init__(
        self,
        cluster: Cluster,
        whole: Cluster,
        settings: Settings,
        universe: Universe,
        classes: Sequence[PodClass],
        flow: SymbolicFlow,
        remembered: Remembered,
    ) -> None:
        """`whole` is the cluster `cluster` is a slice of (or `cluster` itself): its pods' and
        Services' addresses are taken, though only the slice's pods can be endpoints.
        `remembered` keeps the texts and tables worked out of these inputs, for encodings
        that read the same (see `ClusterEncoding.remembered`); the flow's constants are
        named by their endpoint's role (`netverify.encoding.terms`)."""
        self.cluster = cluster
        self.whole = whole
        self.settings = settings
        self.universe = universe
        self.classes = classes
        self.flow = flow
        self.remembered = remembered

    def flow_terms(self) -> Conjuncts:
        """A protocol, a port, at least one pod, and each endpoint a real one."""
        flow = self.flow
        terms: Conjuncts = [
            flow.protocol >= 0,
            flow.protocol < len(PROTOCOLS),
            flow.port >= 1,
            flow.port <= MAX_PORT,
            z3.Or(flow.source.is_pod, flow.destination.is_pod),
        ]
        for endpoint in (flow.source, flow.destination):
            terms += self.endpoint_terms(endpoint)
        return terms

    def node_terms(self) -> list[z3.BoolRef]:
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

    def distinct_addresses(self, self_traffic: z3.BoolRef) -> list[z3.BoolRef]:
        """Two different pods whose addresses the manifests do not give never get the same
        one from the pod CIDRs (known addresses are kept out in `_address_attributes`); only
        with pod CIDRs, which are where such addresses come from. `self_traffic`: both ends
        are the same pod."""
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
                        z3.Not(self_traffic),
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

    def endpoint_terms(self, endpoint: SymbolicEndpoint) -> Conjuncts:
        universe = self.universe
        terms: Conjuncts = []
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
        terms.append(self._namespace_domain(endpoint))
        terms += self._external_domain(endpoint)
        terms += self._class_domain(endpoint)
        return terms

    def _text(self, name: str, endpoint: SymbolicEndpoint, write: Callable[[], str]) -> str:
        """The endpoint's text called `name`, written by `write` unless remembered."""
        return self.remembered.value((name, endpoint.role), write)

    def _namespace_domain(self, endpoint: SymbolicEndpoint) -> Formulas:
        """A namespace name is unique: naming an existing namespace fixes its labels."""
        label_universe = self.universe.namespace_labels

        def write() -> str:
            labels = [symbol(endpoint.namespace_labels[key]) for key in label_universe.keys]
            name = symbol(endpoint.namespace_labels[NAMESPACE_NAME_LABEL])
            return assertions_text(
                f"(=> (= {name} {label_universe.code(NAMESPACE_NAME_LABEL, namespace.name)}) "
                f"{_conjunction(labels, label_universe.codes(namespace.labels))})"
                for namespace in self.cluster.namespaces
            )

        text = self._text("namespaces", endpoint, write)
        return parse_formulas(text, endpoint.namespace_labels.values())

    def _external_domain(self, endpoint: SymbolicEndpoint) -> list[z3.BoolRef]:
        """An external address is known, is outside the pod CIDRs and is no pod's address
        nor a Service's ClusterIP (traffic to one goes to the Service's backends)."""
        outside_pods = [z3.Not(in_network(endpoint.ip, cidr)) for cidr in self.settings.pod_cidrs]
        if self._known_addresses:
            outside_pods += parse_text(self._not_known_text(endpoint), [endpoint.ip])
        return [
            z3.Implies(
                z3.Not(endpoint.is_pod),
                z3.And(endpoint.has_ip, endpoint.pod_class == -1, *outside_pods),
            )
        ]

    @property
    def _known_addresses(self) -> tuple[int, ...]:
        """Every address a loaded pod has (hostNetwork pods: their node's) and every loaded
        Service's ClusterIP, in the whole cluster: none is an external host's."""

        def work_out() -> tuple[int, ...]:
            whole = self.whole
            pods = {ip_number(ip) for pod in whole.pods for ip in pod.ips}
            services = {ip_number(ip) for service in whole.services for ip in service.cluster_ips}
            return tuple(sorted(pods | services))

        return self.remembered.value(("known addresses",), work_out)

    def _not_known_address(self, endpoint: SymbolicEndpoint) -> str:
        """The endpoint's address is none of `_known_addresses`, as SMT-LIB text."""

        def write() -> str:
            if not self._known_addresses:
                return "true"
            ip = symbol(endpoint.ip)
            equalities = " ".join(f"(= {ip} {number})" for number in self._known_addresses)
            return f"(not (or {equalities}))"

        return self._text("not known", endpoint, write)

    def _not_known_text(self, endpoint: SymbolicEndpoint) -> str:
        """`_not_known_address` as `parse_text` takes it."""
        return self._text(
            "not known assertion",
            endpoint,
            lambda: assertions_text([self._not_known_address(endpoint)]),
        )

    @property
    def _profile_tables(
        self,
    ) -> tuple[
        dict[tuple[int, ...], int],
        dict[tuple[tuple[str, Protocol, tuple[int, ...]], ...], int],
        dict[tuple[int, ...] | None, int],
    ]:
        """The classes' label, port and address profiles (see `_class_domain`)."""
        return self.remembered.value(
            ("profiles",),
            lambda: (
                _profiles(pod_class.label_codes for pod_class in self.classes),
                _profiles(pod_class.named_ports for pod_class in self.classes),
                _profiles(pod_class.address_segments for pod_class in self.classes),
            ),
        )

    def _class_domain(self, endpoint: SymbolicEndpoint) -> Conjuncts:
        """Class -1 is a pod that could exist; class i pins every attribute to class i's.

        Classes share few distinct label vectors, port sets and address sets, so those are
        tabled once as profiles and a class names its profiles: the constraint grows with
        classes + profiles x attributes, not classes x attributes.
        """
        labels, ports, addresses = self._profile_tables
        terms: Conjuncts = [
            endpoint.pod_class >= -1,
            endpoint.pod_class < len(self.classes),
            z3.Implies(endpoint.pod_class == -1, self._hypothetical_pod(endpoint)),
        ]
        label_terms = [endpoint.pod_labels[key] for key in self.universe.pod_labels.keys]

        def label_attributes() -> Callable[[tuple[int, ...]], str]:
            names = [symbol(term) for term in label_terms]
            return lambda codes: _conjunction(names, codes)

        terms += self._profile_table(
            endpoint,
            "label profiles",
            endpoint.label_profile,
            labels,
            label_attributes,
            label_terms,
        )
        port_terms = [
            term
            for named_port in endpoint.named_ports.values()
            for term in (named_port.defined, named_port.number)
        ]

        def port_attributes() -> Callable[[tuple[tuple[str, Protocol, tuple[int, ...]], ...]], str]:
            names = {
                key: (symbol(named_port.defined), symbol(named_port.number))
                for key, named_port in endpoint.named_ports.items()
            }
            return lambda named_ports: _port_attributes(names, named_ports)

        terms += self._profile_table(
            endpoint, "port profiles", endpoint.port_profile, ports, port_attributes, port_terms
        )
        terms += self._profile_table(
            endpoint,
            "address profiles",
            endpoint.address_profile,
            addresses,
            lambda: lambda segments: self._address_attributes(endpoint, segments),
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

        def write() -> str:
            pod_class_, is_pod, name, host_network, label_profile, port_profile, address_profile = (
                symbol(constant) for constant in constants
            )
            return assertions_text(
                f"(=> (= {pod_class_} {pod_class.index}) (and {is_pod} "
                f"(= {name} {code(NAMESPACE_NAME_LABEL, pod_class.namespace)}) "
                f"{host_network if pod_class.host_network else f'(not {host_network})'} "
                f"(= {label_profile} {labels[pod_class.label_codes]}) "
                f"(= {port_profile} {ports[pod_class.named_ports]}) "
                f"(= {address_profile} {addresses[pod_class.address_segments]})))"
                for pod_class in self.classes
            )

        terms.append(parse_formulas(self._text("classes", endpoint, write), constants))
        return terms

    def _profile_table(
        self,
        endpoint: SymbolicEndpoint,
        name: str,
        variable: z3.ArithRef,
        table: dict[_Profile, int],
        attributes: Callable[[], Callable[[_Profile], str]],
        constants: Sequence[z3.ExprRef],
    ) -> Conjuncts:
        """`variable == i` fixes the endpoint's attributes to profile i's; -1 fixes nothing.

        `attributes()` writes a profile's attributes as SMT-LIB text over `constants`; the
        table's text is the endpoint's text called `name`."""
        terms: Conjuncts = [variable >= -1, variable < len(table)]
        if not constants:
            # NOTE: without attributes a row is `(and)`, which SMT-LIB cannot write.
            return terms + [z3.Implies(variable == index, z3.And([])) for index in table.values()]

        def write() -> str:
            variable_name, attributes_of = symbol(variable), attributes()
            return assertions_text(
                f"(=> (= {variable_name} {index}) {attributes_of(profile)})"
                for profile, index in table.items()
            )

        return [*terms, parse_formulas(self._text(name, endpoint, write), [variable, *constants])]

    def _address_attributes(
        self, endpoint: SymbolicEndpoint, segments: tuple[int, ...] | None
    ) -> str:
        """Known addresses: in one of the segments; unknown: in the pod CIDRs and no loaded
        pod's address (addresses never collide), or none; a hostNetwork pod's unknown
        address (no segments): none, as its node's is outside the pod CIDRs."""
        has_ip = symbol(endpoint.has_ip)
        if segments == ():
            return f"(not {has_ip})"
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
            *parse_text(self._not_known_text(endpoint), [endpoint.ip]),
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


def _profiles(values: Iterable[_Profile]) -> dict[_Profile, int]:
    """Distinct values, numbered in order of first appearance."""
    table: dict[_Profile, int] = {}
    for value in values:
        table.setdefault(value, len(table))
    return table


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
