"""Rule ports: numbers, ranges, names resolved on the destination pod, protocols.

https://kubernetes.io/docs/concepts/services-networking/network-policies/#targeting-a-range-of-ports
"""

import pytest

from netverify.model import ContainerPort, Endpoint, Pod, PolicyPort, Protocol
from netverify.semantics import port_matches
from tests.semantics.helpers import (
    EVERYTHING,
    allowed,
    cluster,
    decide,
    external,
    pod,
    pods_peer,
    policy,
    port,
    rule,
    selector,
)

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
CLIENT = pod("shop", "client", {"app": "client"}, ports=[ContainerPort(name="http", port=9090)])
SERVER = pod("shop", "server", {"app": "server"}, ports=[ContainerPort(name="http", port=8080)])
OTHER_SERVER = pod(
    "shop",
    "other-server",
    {"app": "server"},
    ports=[ContainerPort(name="http", port=9090), ContainerPort(name="dns", port=53, protocol=UDP)],
)
BARE_SERVER = pod("shop", "bare", {"app": "server"}, ports=[ContainerPort(port=8080)])


def ingress_admits(entry: PolicyPort, server: Pod, number: int, protocol: Protocol = TCP) -> bool:
    """Whether an ingress rule with this one port entry admits CLIENT -> server."""
    world = cluster(
        [CLIENT, server],
        [policy("shop", "in", selector(app="server"), ingress=[rule(ports=[entry])])],
    )
    return allowed(world, CLIENT, server, number, protocol)


def egress_admits(
    entry: PolicyPort, destination: Pod | Endpoint, number: int, protocol: Protocol = TCP
) -> bool:
    """Whether an egress rule of CLIENT with this one port entry admits CLIENT -> destination."""
    pods = [CLIENT] + ([destination] if isinstance(destination, Pod) else [])
    world = cluster(
        pods, [policy("shop", "out", selector(app="client"), egress=[rule(ports=[entry])])]
    )
    return allowed(world, CLIENT, destination, number, protocol)


@pytest.mark.parametrize(("number", "expected"), [(80, True), (79, False), (81, False)])
def test_a_port_number_admits_that_port_only(number: int, expected: bool) -> None:
    assert ingress_admits(port(80), SERVER, number) is expected
    assert egress_admits(port(80), SERVER, number) is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [(8000, True), (8040, True), (8080, True), (7999, False), (8081, False)],
)
def test_a_port_range_is_inclusive_at_both_ends(number: int, expected: bool) -> None:
    assert ingress_admits(port(8000, 8080), SERVER, number) is expected
    assert egress_admits(port(8000, 8080), SERVER, number) is expected


HTTP = PolicyPort(named_port="http")


@pytest.mark.parametrize(
    ("server", "number", "expected"),
    [
        (SERVER, 8080, True),
        (SERVER, 9090, False),  # the client's "http", and another pod's
        (OTHER_SERVER, 9090, True),
        (OTHER_SERVER, 8080, False),
        (BARE_SERVER, 8080, False),  # the number without the name
    ],
)
def test_a_named_port_is_resolved_on_the_destination_pod_for_ingress(
    server: Pod, number: int, expected: bool
) -> None:
    assert ingress_admits(HTTP, server, number) is expected


@pytest.mark.parametrize(
    ("server", "number", "expected"),
    [
        (SERVER, 8080, True),
        (SERVER, 9090, False),  # NOTE: the source's own "http" (9090) is irrelevant
        (OTHER_SERVER, 9090, True),
        (OTHER_SERVER, 8080, False),
        (BARE_SERVER, 8080, False),
    ],
)
def test_a_named_port_is_resolved_on_the_destination_pod_for_egress(
    server: Pod, number: int, expected: bool
) -> None:
    assert egress_admits(HTTP, server, number) is expected


@pytest.mark.parametrize("number", [8080, 9090])
def test_a_named_port_never_matches_an_external_destination(number: int) -> None:
    assert not egress_admits(HTTP, external("8.8.8.8"), number)
    assert egress_admits(port(number), external("8.8.8.8"), number)


@pytest.mark.parametrize(
    ("entry", "protocol", "expected"),
    [
        (PolicyPort(named_port="dns", protocol=UDP), UDP, True),
        (PolicyPort(named_port="dns", protocol=TCP), TCP, False),  # containerPort is UDP
        (PolicyPort(named_port="dns", protocol=TCP), UDP, False),
        (PolicyPort(named_port="http", protocol=UDP), UDP, False),  # containerPort is TCP
    ],
)
def test_a_named_port_needs_a_container_port_of_the_same_protocol(
    entry: PolicyPort, protocol: Protocol, expected: bool
) -> None:
    number = 53 if entry.named_port == "dns" else 9090
    assert ingress_admits(entry, OTHER_SERVER, number, protocol) is expected
    assert egress_admits(entry, OTHER_SERVER, number, protocol) is expected


def test_the_default_protocol_is_tcp() -> None:
    assert PolicyPort().protocol is TCP
    assert ingress_admits(port(53), SERVER, 53, TCP)
    assert not ingress_admits(port(53), SERVER, 53, UDP)
    assert not ingress_admits(PolicyPort(), SERVER, 53, UDP)
    assert not ingress_admits(PolicyPort(named_port="dns"), OTHER_SERVER, 53, UDP)


@pytest.mark.parametrize("protocol", list(Protocol))
def test_a_protocol_without_a_port_admits_every_port_of_that_protocol(protocol: Protocol) -> None:
    entry = PolicyPort(protocol=protocol)

    for number in (1, 53, 8080, 65535):
        for flow_protocol in Protocol:
            assert ingress_admits(entry, SERVER, number, flow_protocol) is (
                flow_protocol is protocol
            )


def test_sctp_ports_admit_sctp_only() -> None:
    sctp = port(3868, protocol=SCTP)

    assert ingress_admits(sctp, SERVER, 3868, SCTP)
    assert not ingress_admits(sctp, SERVER, 3868, TCP)
    assert not ingress_admits(sctp, SERVER, 3869, SCTP)
    assert not ingress_admits(port(3868), SERVER, 3868, SCTP)


def test_a_rule_without_ports_admits_every_port_and_protocol_of_its_peers() -> None:
    from_client = policy(
        "shop", "in", selector(app="server"), ingress=[rule(pods_peer(selector(app="client")))]
    )
    stranger = pod("shop", "stranger", {"app": "stranger"})
    world = cluster([CLIENT, SERVER, stranger], [from_client])

    for protocol in Protocol:
        for number in (1, 80, 65535):
            assert allowed(world, CLIENT, SERVER, number, protocol)
            assert not allowed(world, stranger, SERVER, number, protocol)


def test_several_port_entries_of_a_rule_are_ored() -> None:
    entries = [port(80), port(53, protocol=UDP), PolicyPort(named_port="http")]
    world = cluster(
        [CLIENT, SERVER],
        [policy("shop", "in", EVERYTHING, ingress=[rule(ports=entries)])],
    )

    assert decide(world, CLIENT, SERVER, 80).ingress.allowed
    assert decide(world, CLIENT, SERVER, 53, UDP).ingress.allowed
    assert decide(world, CLIENT, SERVER, 8080).ingress.allowed
    assert not decide(world, CLIENT, SERVER, 53).ingress.allowed
    assert not decide(world, CLIENT, SERVER, 9090).ingress.allowed


def test_port_matches_resolves_names_on_the_destination_argument() -> None:
    world = cluster([CLIENT, SERVER])
    server = decide(world, CLIENT, SERVER).flow.destination

    assert port_matches(HTTP, TCP, 8080, server)
    assert not port_matches(HTTP, TCP, 9090, server)
    assert not port_matches(HTTP, TCP, 8080, external("10.0.0.1"))
