"""Where a pod without a known address may be, as far as the policies' CIDRs can tell."""

from ipaddress import ip_address, ip_network

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from netverify.model import AdminAction, AdminPeer, Cluster, Flow, Pod, Protocol, Settings
from netverify.semantics import evaluate, explain_flow, placements
from netverify.semantics.addresses import (
    EVERY_ADDRESS,
    AddressChoices,
    alike_address,
    mentioned_networks,
)
from tests.semantics.helpers import (
    admin_rule,
    cluster,
    cnp,
    ip_block,
    pod,
    pod_endpoint,
    policy,
    port,
    rule,
    selector,
)
from tests.strategies import INTERESTING_PORTS, admin_policy_lists, rules, settings

DENY = AdminAction.DENY
EVERY_V4 = ip_network("0.0.0.0/0")


def test_addresses_cut_the_pod_cidrs_where_policy_cidrs_start_and_end() -> None:
    client = pod("default", "client", {"app": "client"})
    server = policy("default", "server", ingress=[rule(ip_block("10.0.1.0/24", "10.0.1.128/25"))])
    world = cluster([client], [server])
    end = pod_endpoint(world, client)
    networks = mentioned_networks(world) | {ip_network("0.0.0.0/0")}
    settings = Settings(pod_cidrs=(ip_network("10.0.0.0/16"), ip_network("fd00::/64")))
    firsts = [one.ip for one in AddressChoices(settings, networks).of(end)]
    assert firsts == [
        ip_address(a) for a in ("10.0.0.0", "10.0.1.0", "10.0.1.128", "10.0.2.0", "fd00::")
    ]
    lasts = [one.ip for one in AddressChoices(settings, networks).of(end, last=True)]
    assert lasts[:4] == [
        ip_address(a) for a in ("10.0.0.255", "10.0.1.127", "10.0.1.255", "10.0.255.255")
    ]


def test_a_known_address_or_no_pod_cidrs_leave_the_end_alone() -> None:
    known = pod("default", "known", ip="10.0.0.7")
    unknown = pod("default", "unknown")
    world = cluster([known, unknown])
    settings = Settings(pod_cidrs=(ip_network("10.0.0.0/16"),))
    assert AddressChoices(settings, set()).of(pod_endpoint(world, known)) == (
        pod_endpoint(world, known),
    )
    assert AddressChoices(Settings(), set()).of(pod_endpoint(world, unknown)) == (
        pod_endpoint(world, unknown),
    )


def test_an_alike_address_stands_for_the_pod_cidrs_only_when_no_network_tells_them_apart() -> None:
    pod_cidrs = (ip_network("10.244.0.0/16"),)
    assert alike_address(pod_cidrs, {ip_network("0.0.0.0/0"), ip_network("::/0")}) == (
        ip_address("10.244.0.0")
    )
    assert alike_address(pod_cidrs, {ip_network("192.168.0.0/16")}) == ip_address("10.244.0.0")
    assert alike_address(pod_cidrs, {ip_network("10.244.0.0/17")}) is None
    assert alike_address((), {ip_network("0.0.0.0/0")}) is None


CLIENT = pod("default", "client", {"app": "client"})
SERVER = pod("default", "server", {"app": "server"})
TO_10 = policy("default", "to-10", selector(app="client"), egress=[rule(ip_block("10.0.0.0/8"))])
"""The client may reach 10.0.0.0/8 only: the server, at no address, is blocked."""


def _unaddressed(
    world: Cluster, source: Pod, destination: Pod, settings: Settings | None = None
) -> list[str]:
    """The names of the ends `explain_flow` says its verdict rests on having no address."""
    flow = Flow(
        source=pod_endpoint(world, source),
        destination=pod_endpoint(world, destination),
        protocol=Protocol.TCP,
        port=80,
    )
    explanation = explain_flow(world, flow, settings)
    return [str(end.pod.name) for end in explanation.unaddressed]


def test_a_verdict_resting_on_an_end_without_an_address_names_it() -> None:
    assert _unaddressed(cluster([CLIENT, SERVER], [TO_10]), CLIENT, SERVER) == ["server"]
    deny = cnp("no-networks", 10, egress=[admin_rule(DENY, AdminPeer(networks=(EVERY_V4,)))])
    world = cluster([CLIENT, SERVER]).model_copy(update={"admin_policies": (deny,)})
    assert _unaddressed(world, CLIENT, SERVER) == ["server"]  # allowed, denied at any address


def test_ends_that_turn_the_verdict_only_together_are_both_named() -> None:
    from_10 = policy(
        "default", "from-10", selector(app="server"), ingress=[rule(ip_block("10.0.0.0/8"))]
    )
    world = cluster([CLIENT, SERVER], [TO_10, from_10])
    assert _unaddressed(world, CLIENT, SERVER) == ["client", "server"]


def test_no_peer_that_could_match_an_end_without_an_address_leaves_the_verdict_alone() -> None:
    elsewhere = policy("default", "db", selector(app="db"), ingress=[rule(ip_block("10.0.0.0/8"))])
    on_443 = policy(
        "default",
        "443",
        selector(app="client"),
        egress=[rule(ip_block("10.0.0.0/8"), ports=[port(443)])],
    )
    for policies in ([], [elsewhere], [on_443]):
        assert _unaddressed(cluster([CLIENT, SERVER], policies), CLIENT, SERVER) == [], policies


def test_an_address_known_or_given_or_ipblocks_matching_no_pod_name_no_end() -> None:
    known = pod("default", "server", {"app": "server"}, ip="192.168.0.1")
    assert _unaddressed(cluster([CLIENT, known], [TO_10]), CLIENT, known) == []
    world = cluster([CLIENT, SERVER], [TO_10])
    assert (
        _unaddressed(world, CLIENT, SERVER, Settings(pod_cidrs=(ip_network("10.244.0.0/16"),)))
        == []
    )
    assert _unaddressed(world, CLIENT, SERVER, Settings(ip_block_matches_pods=False)) == []
    host = pod("default", "server", {"app": "server"}, host_network=True)
    assert _unaddressed(cluster([CLIENT, host], [TO_10]), CLIENT, host) == []


@st.composite
def _pods_without_addresses(draw: st.DrawFn) -> tuple[Cluster, Flow, Settings]:
    """The client and the server, neither with an address, under policies drawn as for any
    generated cluster (ipBlocks among their peers), 0-2 admin policies (networks among their
    egress peers) and either ipBlock profile: a flow between the two, either way."""
    egress = draw(st.lists(rules(), max_size=2))
    ingress = draw(st.lists(rules(), max_size=2))
    policies = [
        policy("default", "out", selector(app="client"), egress=egress),
        policy("default", "in", selector(app="server"), ingress=ingress),
    ]
    admin = draw(admin_policy_lists(("default",), 2))
    world = cluster(
        [CLIENT, SERVER], draw(st.sampled_from([[], policies[:1], policies[1:], policies]))
    )
    world = world.model_copy(update={"admin_policies": admin})
    ends = [pod_endpoint(world, CLIENT), pod_endpoint(world, SERVER)]
    if draw(st.booleans()):
        ends.reverse()
    port = draw(st.sampled_from(INTERESTING_PORTS))
    flow = Flow(source=ends[0], destination=ends[1], protocol=Protocol.TCP, port=port)
    return world, flow, draw(settings())


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pods_without_addresses())
def test_ends_are_named_exactly_where_some_address_turns_the_verdict(
    case: tuple[Cluster, Flow, Settings],
) -> None:
    """Against every address the policies' CIDRs tell apart (all of them, not only those of
    the peers that could match an end), for both ends at once: the ends are named exactly
    when one such pair of addresses gives the flow the other verdict."""
    world, flow, chosen = case
    explanation = explain_flow(world, flow, chosen)
    anywhere = chosen.model_copy(update={"pod_cidrs": EVERY_ADDRESS})
    turned = [
        addressed
        for addressed in AddressChoices(anywhere, mentioned_networks(world)).flows(flow)
        if any(evaluate(world, one, chosen).allowed for one in placements(addressed))
        != explanation.allowed
    ]
    assert bool(explanation.unaddressed) == bool(turned), turned[:1]
