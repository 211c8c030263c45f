"""What a `from`/`to` entry matches: pod and namespace selectors, their absence, ipBlock.

https://kubernetes.io/docs/concepts/services-networking/network-policies/#behavior-of-to-and-from-selectors
"""

import pytest

from netverify.model import Direction, Endpoint, Pod, PodEndpoint, PolicyPeer, Settings
from netverify.semantics import ip_block_contains, peer_matches
from tests.semantics.helpers import (
    EVERYTHING,
    allowed,
    cluster,
    decide,
    external,
    ip_block,
    namespace,
    pod,
    pods_peer,
    policy,
    port,
    rule,
    rule_ref,
    selector,
)

# Namespaces: "shop" holds the policies; "team-x" and "team-y" are labelled, "plain" is not.
SHOP = namespace("shop")
TEAM_X = namespace("team-x", {"team": "x"})
TEAM_Y = namespace("team-y", {"team": "y"})
PLAIN = namespace("plain")

DB = pod("shop", "db", {"app": "db"}, ip="10.0.0.2")
SHOP_WEB = pod("shop", "web", {"app": "web"}, ip="10.0.0.3")
SHOP_JOB = pod("shop", "job", {"app": "job"}, ip="10.0.0.4")
X_WEB = pod("team-x", "web", {"app": "web"}, ip="10.0.0.5")
X_JOB = pod("team-x", "job", {"app": "job"}, ip="10.0.0.6")
Y_WEB = pod("team-y", "web", {"app": "web"}, ip="10.0.0.7")
PLAIN_WEB = pod("plain", "web", {"app": "web"}, ip="10.0.0.8")
HOST_WEB = pod("shop", "node-agent", {"app": "web"}, ip="10.0.0.9", host_network=True)
ALL_PODS = (DB, SHOP_WEB, SHOP_JOB, X_WEB, X_JOB, Y_WEB, PLAIN_WEB, HOST_WEB)
SOURCES = tuple(p for p in ALL_PODS if p is not DB)


def admitted_sources(peers: tuple[PolicyPeer, ...]) -> set[tuple[str, str | None]]:
    """The pods (namespace, name) that `db`'s ingress admits with one rule of these peers."""
    world = cluster(
        ALL_PODS,
        [policy("shop", "db", selector(app="db"), ingress=[rule(*peers)])],
        [SHOP, TEAM_X, TEAM_Y, PLAIN],
    )
    return {(p.namespace, p.name) for p in SOURCES if decide(world, p, DB).ingress.allowed}


def names(*pods: Pod) -> set[tuple[str, str | None]]:
    return {(p.namespace, p.name) for p in pods}


def test_a_pod_selector_alone_matches_pods_of_the_policys_namespace_only() -> None:
    """Pods with matching labels in other namespaces do not match."""
    assert admitted_sources((pods_peer(selector(app="web")),)) == names(SHOP_WEB)


def test_an_empty_pod_selector_alone_matches_every_pod_of_the_policys_namespace() -> None:
    assert admitted_sources((pods_peer(EVERYTHING),)) == names(SHOP_WEB, SHOP_JOB)


def test_a_namespace_selector_alone_matches_every_pod_of_the_selected_namespaces() -> None:
    peer = PolicyPeer(namespace_selector=selector(team="x"))

    assert admitted_sources((peer,)) == names(X_WEB, X_JOB)


def test_a_namespace_selector_can_name_a_namespace_by_its_metadata_name_label() -> None:
    peer = PolicyPeer(namespace_selector=selector(**{"kubernetes.io/metadata.name": "plain"}))

    assert admitted_sources((peer,)) == names(PLAIN_WEB)


def test_an_empty_namespace_selector_matches_every_pod_of_every_namespace() -> None:
    peer = PolicyPeer(namespace_selector=EVERYTHING)

    assert admitted_sources((peer,)) == names(SHOP_WEB, SHOP_JOB, X_WEB, X_JOB, Y_WEB, PLAIN_WEB)
    assert not allowed(
        cluster(ALL_PODS, [policy("shop", "db", selector(app="db"), ingress=[rule(peer)])]),
        external("10.0.0.42"),
        DB,
    )


def test_both_selectors_in_one_peer_are_anded() -> None:
    peer = PolicyPeer(namespace_selector=selector(team="x"), pod_selector=selector(app="web"))

    assert admitted_sources((peer,)) == names(X_WEB)


def test_two_peers_of_one_rule_are_ored() -> None:
    peers = (PolicyPeer(namespace_selector=selector(team="x")), pods_peer(selector(app="web")))

    assert admitted_sources(peers) == names(X_WEB, X_JOB, SHOP_WEB)


def test_an_empty_namespace_selector_with_a_pod_selector_matches_those_pods_everywhere() -> None:
    peer = PolicyPeer(namespace_selector=EVERYTHING, pod_selector=selector(app="web"))

    assert admitted_sources((peer,)) == names(SHOP_WEB, X_WEB, Y_WEB, PLAIN_WEB)


def test_a_rule_without_peers_admits_every_pod_and_every_external_address() -> None:
    everyone = policy("shop", "db", selector(app="db"), ingress=[rule(ports=[port(5432)])])
    world = cluster(ALL_PODS, [everyone])

    sources: list[Pod | Endpoint] = [*SOURCES, external("8.8.8.8"), external("2001:db8::1")]
    for source in sources:
        assert allowed(world, source, DB, 5432), source
        assert not allowed(world, source, DB, 5433), source


# ipBlock: 10.0.0.0/24 except 10.0.0.128/25.
IN_CIDR, IN_EXCEPT, OUTSIDE, IPV6 = "10.0.0.5", "10.0.0.130", "192.168.1.1", "2001:db8::a00:5"
BLOCK = ip_block("10.0.0.0/24", "10.0.0.128/25")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (IN_CIDR, True),
        ("10.0.0.127", True),
        (IN_EXCEPT, False),
        ("10.0.0.128", False),
        (OUTSIDE, False),
        ("10.0.1.0", False),
        (IPV6, False),
    ],
)
def test_an_ip_block_admits_its_cidr_minus_its_excepts(address: str, expected: bool) -> None:
    ingress = policy("shop", "db-in", selector(app="db"), ingress=[rule(BLOCK)])
    egress = policy("shop", "db-out", selector(app="db"), egress=[rule(BLOCK)])
    world = cluster([DB], [ingress, egress])

    from_outside = decide(world, external(address), DB)
    to_outside = decide(world, DB, external(address))

    assert from_outside.allowed is expected
    assert from_outside.ingress.allowed_by == (
        (rule_ref(ingress, Direction.INGRESS, 0),) if expected else ()
    )
    assert to_outside.allowed is expected
    assert to_outside.egress.allowed_by == (
        (rule_ref(egress, Direction.EGRESS, 0),) if expected else ()
    )


def test_an_ipv6_address_never_matches_an_ipv4_block() -> None:
    everything_v4 = ip_block("0.0.0.0/0")
    assert everything_v4.ip_block is not None

    assert ip_block_contains(everything_v4.ip_block, external("8.8.8.8").ip)
    # NOTE: IPv4-mapped addresses (::ffff:a.b.c.d) are left unpinned: Go's IPNet treats them
    # as IPv4, and no pod or external address of a flow is written that way.
    for address in ("::", "::1", "::808:808", "2001:db8::1"):
        assert not ip_block_contains(everything_v4.ip_block, external(address).ip), address


def test_an_ipv6_block_matches_ipv6_addresses_only() -> None:
    v6 = ip_block("2001:db8::/32", "2001:db8:ff::/48")
    assert v6.ip_block is not None

    assert ip_block_contains(v6.ip_block, external("2001:db8::1").ip)
    assert not ip_block_contains(v6.ip_block, external("2001:db8:ff::1").ip)
    assert not ip_block_contains(v6.ip_block, external("32.1.13.184").ip)  # 2001:0db8 as IPv4


# ipBlock and pods: by the pod's address, when known and when the plugin matches pods.
WIDE = ip_block("10.0.0.0/24", "10.0.0.8/29")
IN_BLOCK = pod("team-x", "in-block", {"app": "web"}, ip="10.0.0.5")
EXCEPTED = pod("team-x", "excepted", {"app": "web"}, ip="10.0.0.9")
NO_IP = pod("team-x", "no-ip", {"app": "web"})
PEER_WORLD = cluster(
    [DB, IN_BLOCK, EXCEPTED, NO_IP],
    [
        policy("shop", "db-in", selector(app="db"), ingress=[rule(WIDE)]),
        policy("shop", "db-out", selector(app="db"), egress=[rule(WIDE)]),
    ],
)


def test_an_ip_block_matches_a_pod_by_its_known_address_by_default() -> None:
    assert Settings().ip_block_matches_pods
    assert allowed(PEER_WORLD, IN_BLOCK, DB)
    assert allowed(PEER_WORLD, DB, IN_BLOCK)
    assert not allowed(PEER_WORLD, EXCEPTED, DB)
    assert not allowed(PEER_WORLD, DB, EXCEPTED)


def test_an_ip_block_never_matches_a_pod_when_the_plugin_does_not_match_pods() -> None:
    cilium = Settings(ip_block_matches_pods=False)

    assert not allowed(PEER_WORLD, IN_BLOCK, DB, settings=cilium)
    assert not allowed(PEER_WORLD, DB, IN_BLOCK, settings=cilium)
    # External addresses still match, even the same address as a pod's.
    assert allowed(PEER_WORLD, external("10.0.0.5"), DB, settings=cilium)
    assert allowed(PEER_WORLD, DB, external("10.0.0.5"), settings=cilium)
    assert not allowed(PEER_WORLD, external("10.0.0.9"), DB, settings=cilium)


@pytest.mark.parametrize("settings", [Settings(), Settings(ip_block_matches_pods=False)])
def test_an_ip_block_never_matches_a_pod_without_a_known_address(settings: Settings) -> None:
    match_all = ip_block("0.0.0.0/0")
    world = cluster(
        [DB, NO_IP], [policy("shop", "db-in", selector(app="db"), ingress=[rule(match_all)])]
    )

    assert not allowed(world, NO_IP, DB, settings=settings)
    assert not peer_matches(
        match_all, "shop", PodEndpoint(namespace=TEAM_X, pod=IN_BLOCK, ip=None), settings
    )


def test_the_address_the_flow_uses_decides_an_ip_block_match() -> None:
    """`PodEndpoint.ip` is the address in question, not any address the pod might have."""
    inside = PodEndpoint(namespace=TEAM_X, pod=EXCEPTED, ip=IN_BLOCK.ips[0])
    outside = PodEndpoint(namespace=TEAM_X, pod=IN_BLOCK, ip=EXCEPTED.ips[0])

    assert peer_matches(WIDE, "shop", inside, Settings())
    assert not peer_matches(WIDE, "shop", outside, Settings())


def test_host_network_pods_are_never_matched_by_pod_or_namespace_selectors() -> None:
    for peer in (
        pods_peer(EVERYTHING),
        pods_peer(selector(app="web")),
        PolicyPeer(namespace_selector=EVERYTHING),
        PolicyPeer(namespace_selector=selector(**{"kubernetes.io/metadata.name": "shop"})),
        PolicyPeer(namespace_selector=EVERYTHING, pod_selector=EVERYTHING),
    ):
        assert (HOST_WEB.namespace, HOST_WEB.name) not in admitted_sources((peer,)), peer
        assert (SHOP_WEB.namespace, SHOP_WEB.name) in admitted_sources((peer,)), peer


def test_a_decision_names_the_first_entry_of_each_admitting_rule_that_matched() -> None:
    """`explain` says `ingress[0] from[1]`: which entry of the rule let the flow in."""
    guard = policy(
        "shop",
        "db",
        selector(app="db"),
        ingress=[
            rule(pods_peer(selector(app="job")), pods_peer(selector(app="web"))),
            rule(),
        ],
    )
    side = decide(cluster(ALL_PODS, [guard]), SHOP_WEB, DB).ingress
    assert side.allowed_by == (
        rule_ref(guard, Direction.INGRESS, 0),
        rule_ref(guard, Direction.INGRESS, 1),
    )
    assert side.allowed_by_peer == (1, None)
