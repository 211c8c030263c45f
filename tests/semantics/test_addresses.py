"""Where a pod without a known address may be, as far as the policies' CIDRs can tell."""

from ipaddress import ip_address, ip_network

from netverify.model import Settings
from netverify.semantics.addresses import AddressChoices, alike_address, mentioned_networks
from tests.semantics.helpers import cluster, ip_block, pod, pod_endpoint, policy, rule


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
