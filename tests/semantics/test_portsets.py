"""`allowed_ports` (one pass over the policies) against `evaluate` port by port.

The per-port reference asks the evaluator once per segment between the `port_cuts` of every
range the cluster's policies name and the destination's container ports, as the diff did
before it had port sets.
"""

from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.model import (
    MAX_PORT,
    AdminAction,
    Cluster,
    ContainerPort,
    Direction,
    Endpoint,
    Flow,
    LabelSelector,
    NetworkPolicy,
    PodEndpoint,
    PodScope,
    PolicyPort,
    Protocol,
    Settings,
)
from netverify.semantics import evaluate, port_cuts
from netverify.semantics.patterns import flow_matches, matched_ports
from netverify.semantics.portsets import EVERY_PORT, NO_PORT, PortSet, allowed_ports
from tests.engine.test_differential import invariants
from tests.semantics.helpers import (
    admin_rule,
    cluster,
    cnp,
    external,
    pod,
    pod_endpoint,
    pods_peer,
    policy,
    port,
    rule,
    selector,
)
from tests.strategies import clusters, flows, policy_ports, rules
from tests.strategies import settings as settings_strategy

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
CLIENT = pod("shop", "client", {"app": "client"}, ip="10.0.0.1")
SERVER = pod(
    "shop",
    "server",
    {"app": "server"},
    ip="10.0.0.2",
    ports=[ContainerPort(name="http", port=8080), ContainerPort(name="dns", port=53, protocol=UDP)],
)
AGENT = pod("shop", "agent", {"app": "agent"}, host_network=True)
TO_SERVER = policy("shop", "to-server", selector(app="server"), ingress=[])
FROM_CLIENT = policy("shop", "from-client", selector(app="client"), egress=[])


def per_port(world: Cluster, flow: Flow, chosen: Settings | None = None) -> PortSet:
    """The ports at which `evaluate` allows the flow, asked once per segment."""
    ranges = [
        entry.port_range
        for one in world.policies
        for each in (*one.ingress, *one.egress)
        for entry in each.ports
        if entry.port_range is not None
    ]
    destination = flow.destination
    numbers = (
        [p.port for p in destination.pod.ports] if isinstance(destination, PodEndpoint) else []
    )
    found = NO_PORT
    for start, end in pairwise(port_cuts(ranges, numbers)):
        if evaluate(world, flow.model_copy(update={"port": start}), chosen).allowed:
            found |= PortSet.span(start, end - 1)
    return found


def flow(
    world: Cluster,
    source: Endpoint | None = None,
    destination: Endpoint | None = None,
    protocol: Protocol = TCP,
    same_node: bool = False,
) -> Flow:
    """CLIENT -> SERVER unless other ends are given (the port is left to the port sets)."""
    return Flow(
        source=source or pod_endpoint(world, CLIENT),
        destination=destination or pod_endpoint(world, SERVER),
        protocol=protocol,
        port=1,
        same_node=same_node,
    )


def ranges_of(world: Cluster, probe: Flow) -> list[tuple[int, int]]:
    """The allowed ports as runs, checked against the per-port evaluation."""
    found = allowed_ports(world, probe, Settings())
    assert found is not None
    assert found == per_port(world, probe)
    return list(found.ranges())


def test_port_set_operations_and_runs() -> None:
    low, high = PortSet.span(10, 20), PortSet.span(15, 30)
    assert list((low | high).ranges()) == [(10, 30)]
    assert list((low & high).ranges()) == [(15, 20)]
    assert list((low - high).ranges()) == [(10, 14)]
    assert list((PortSet.span(1, 1) | PortSet.span(3, 3)).ranges()) == [(1, 1), (3, 3)]
    assert list(EVERY_PORT.ranges()) == [(1, MAX_PORT)]
    assert 20 in low and 21 not in low and 0 not in EVERY_PORT
    assert list(NO_PORT.ranges()) == []
    assert EVERY_PORT and not NO_PORT


def test_pods_without_a_policy_are_allowed_on_every_port() -> None:
    world = cluster([CLIENT, SERVER])
    assert ranges_of(world, flow(world)) == [(1, MAX_PORT)]


def test_a_named_port_is_resolved_on_the_destination_with_its_protocol() -> None:
    named = PolicyPort(named_port="http")
    world = cluster(
        [CLIENT, SERVER], [TO_SERVER.model_copy(update={"ingress": (rule(ports=[named]),)})]
    )
    assert ranges_of(world, flow(world)) == [(8080, 8080)]
    assert ranges_of(world, flow(world, protocol=UDP)) == []
    udp_named = PolicyPort(protocol=UDP, named_port="dns")
    world = cluster(
        [CLIENT, SERVER], [TO_SERVER.model_copy(update={"ingress": (rule(ports=[udp_named]),)})]
    )
    assert ranges_of(world, flow(world, protocol=UDP)) == [(53, 53)]
    assert ranges_of(world, flow(world)) == []


def test_a_named_port_never_matches_an_external_destination() -> None:
    world = cluster(
        [CLIENT],
        [FROM_CLIENT.model_copy(update={"egress": (rule(ports=[PolicyPort(named_port="http")]),)})],
    )
    assert ranges_of(world, flow(world, destination=external("192.0.2.1"))) == []


def test_an_end_port_range_and_protocols() -> None:
    entries = [port(8000, 8100), port(53, protocol=UDP), PolicyPort(protocol=SCTP)]
    world = cluster(
        [CLIENT, SERVER], [TO_SERVER.model_copy(update={"ingress": (rule(ports=entries),)})]
    )
    assert ranges_of(world, flow(world)) == [(8000, 8100)]
    assert ranges_of(world, flow(world, protocol=UDP)) == [(53, 53)]
    assert ranges_of(world, flow(world, protocol=SCTP)) == [(1, MAX_PORT)]


def test_ports_on_one_side_only_and_on_both() -> None:
    out = FROM_CLIENT.model_copy(update={"egress": (rule(ports=[port(80, 90)]),)})
    world = cluster([CLIENT, SERVER], [out])
    assert ranges_of(world, flow(world)) == [(80, 90)]
    into = TO_SERVER.model_copy(
        update={"ingress": (rule(pods_peer(selector(app="client")), ports=[port(85, 100)]),)}
    )
    world = cluster([CLIENT, SERVER], [out, into])
    assert ranges_of(world, flow(world)) == [(85, 90)]


def test_rules_whose_peers_miss_the_other_end_admit_no_port() -> None:
    into = TO_SERVER.model_copy(
        update={
            "ingress": (
                rule(pods_peer(selector(app="nobody")), ports=[port(80)]),
                rule(pods_peer(selector(app="client")), ports=[port(443)]),
            )
        }
    )
    world = cluster([CLIENT, SERVER], [into])
    assert ranges_of(world, flow(world)) == [(443, 443)]


def test_a_host_network_end_leaves_its_side_open_and_node_local_traffic_every_port() -> None:
    out = policy("shop", "agent-out", selector(app="agent"), egress=[])
    into = TO_SERVER.model_copy(update={"ingress": (rule(ports=[port(9000)]),)})
    world = cluster([AGENT, SERVER], [out, into])
    agent = pod_endpoint(world, AGENT)
    assert ranges_of(world, flow(world, source=agent)) == [(9000, 9000)]
    assert ranges_of(world, flow(world, source=agent, same_node=True)) == [(1, MAX_PORT)]


def test_a_pods_traffic_to_itself_is_allowed_on_every_port() -> None:
    world = cluster([SERVER], [TO_SERVER])
    server = pod_endpoint(world, SERVER)
    assert ranges_of(world, flow(world, source=server, destination=server)) == [(1, MAX_PORT)]


def test_admin_policies_are_left_to_the_evaluator() -> None:
    deny = cnp("deny", 1, ingress=[admin_rule(AdminAction.DENY)])
    world = cluster([CLIENT, SERVER]).model_copy(update={"admin_policies": (deny,)})
    assert allowed_ports(world, flow(world), Settings()) is None


_RULES_WITH_PORTS = st.one_of(
    rules(),
    st.builds(
        lambda drawn, entries: drawn.model_copy(update={"ports": tuple(entries)}),
        rules(),
        st.lists(policy_ports(), min_size=1, max_size=3),
    ),
)


@st.composite
def _isolated(draw: st.DrawFn, world: Cluster, probe: Flow) -> Cluster:
    """The cluster with, now and then, a policy isolating each pod end of the flow for its
    side with 1-3 rules, mostly with ports (generated clusters seldom isolate both ends)."""
    added = []
    for end, direction in (
        (probe.source, Direction.EGRESS),
        (probe.destination, Direction.INGRESS),
    ):
        if isinstance(end, PodEndpoint) and draw(st.integers(0, 3)) > 0:
            drawn = tuple(draw(st.lists(_RULES_WITH_PORTS, min_size=1, max_size=3)))
            added.append(
                NetworkPolicy(
                    namespace=end.pod.namespace,
                    name=f"isolating-{direction.value}",
                    pod_selector=LabelSelector(),
                    policy_types=frozenset({direction}),
                    ingress=drawn if direction is Direction.INGRESS else (),
                    egress=drawn if direction is Direction.EGRESS else (),
                )
            )
    policies = sorted((*world.policies, *added), key=lambda p: (p.namespace, p.name))
    return world.model_copy(update={"policies": tuple(policies)})


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_allowed_ports_equal_the_evaluation_at_every_segment(data: st.DataObject) -> None:
    generated = data.draw(clusters())
    probe = data.draw(flows(generated))
    world = data.draw(_isolated(generated, probe))
    chosen = data.draw(settings_strategy())
    found = allowed_ports(world, probe, chosen)
    assert found == per_port(world, probe, chosen)
    assert found is not None and (probe.port in found) is evaluate(world, probe, chosen).allowed


@pytest.mark.parametrize("number", [1, 2, 63, 64, 65, 1000, MAX_PORT - 1, MAX_PORT])
def test_single_ports_make_single_runs(number: int) -> None:
    assert list(PortSet.span(number, number).ranges()) == [(number, number)]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_matched_ports_equal_flow_matches_at_every_segment(data: st.DataObject) -> None:
    world = data.draw(clusters())
    probe = data.draw(flows(world))
    invariant = data.draw(invariants(PodScope.ANY))
    found = matched_ports(invariant, world, probe)
    ranges = [p.port_range for p in invariant.ports if p.port_range is not None]
    destination = probe.destination
    numbers = (
        [p.port for p in destination.pod.ports] if isinstance(destination, PodEndpoint) else []
    )
    for start, end in pairwise(port_cuts(ranges, numbers)):
        at_start = flow_matches(invariant, world, probe.model_copy(update={"port": start}))
        assert (start in found) is at_start
        assert (end - 1 in found) is at_start
