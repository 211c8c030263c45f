"""The Z3 variables of one symbolic flow: two endpoints, a protocol and a port."""

from dataclasses import dataclass

import z3

from netverify.encoding.universe import Universe
from netverify.model import PROTOCOLS, Protocol


def protocol_code(protocol: Protocol) -> int:
    return PROTOCOLS.index(protocol)


@dataclass(frozen=True)
class NamedPortTerms:
    """Whether the endpoint has a containerPort of this name and protocol, and its number."""

    defined: z3.BoolRef
    number: z3.ArithRef


@dataclass(frozen=True)
class SymbolicEndpoint:
    """Either an external address or a pod (existing or one that could exist)."""

    role: str
    is_pod: z3.BoolRef
    pod_class: z3.ArithRef
    """Index of the existing-pod class, or -1 for an address or a pod that could exist."""
    namespace_labels: dict[str, z3.ArithRef]
    pod_labels: dict[str, z3.ArithRef]
    host_network: z3.BoolRef
    named_ports: dict[tuple[str, Protocol], NamedPortTerms]
    has_ip: z3.BoolRef
    ip: z3.ArithRef
    label_profile: z3.ArithRef
    """Which existing pods' label codes the endpoint has (-1: none in particular)."""
    port_profile: z3.ArithRef
    """Which existing pods' named ports the endpoint has (-1: none in particular)."""
    address_profile: z3.ArithRef
    """Which existing pods' address segments the endpoint's address is in (-1: none)."""


@dataclass(frozen=True)
class SymbolicFlow:
    source: SymbolicEndpoint
    destination: SymbolicEndpoint
    protocol: z3.ArithRef
    """An index into `PROTOCOLS`."""
    port: z3.ArithRef
    same_node: z3.BoolRef
    """Node-local traffic: both ends on one node, one a hostNetwork pod (`Flow.same_node`)."""


def _endpoint(role: str, universe: Universe) -> SymbolicEndpoint:
    return SymbolicEndpoint(
        role=role,
        is_pod=z3.Bool(f"{role}.is_pod"),
        pod_class=z3.Int(f"{role}.class"),
        namespace_labels={
            key: z3.Int(f"{role}.ns_label[{key}]") for key in universe.namespace_labels.keys
        },
        pod_labels={key: z3.Int(f"{role}.label[{key}]") for key in universe.pod_labels.keys},
        host_network=z3.Bool(f"{role}.host_network"),
        named_ports={
            (name, protocol): NamedPortTerms(
                defined=z3.Bool(f"{role}.port[{name}/{protocol}].defined"),
                number=z3.Int(f"{role}.port[{name}/{protocol}]"),
            )
            for name in universe.port_names
            for protocol in PROTOCOLS
        },
        has_ip=z3.Bool(f"{role}.has_ip"),
        ip=z3.Int(f"{role}.ip"),
        label_profile=z3.Int(f"{role}.label_profile"),
        port_profile=z3.Int(f"{role}.port_profile"),
        address_profile=z3.Int(f"{role}.address_profile"),
    )


def symbolic_flow(universe: Universe) -> SymbolicFlow:
    """Fresh variables for a flow over the universe's labels and named ports."""
    return SymbolicFlow(
        source=_endpoint("src", universe),
        destination=_endpoint("dst", universe),
        protocol=z3.Int("flow.protocol"),
        port=z3.Int("flow.port"),
        same_node=z3.Bool("flow.same_node"),
    )
