"""NVL012's syntactic cover between admin rules, peer kind by peer kind (the fixtures show
the check end to end)."""

from ipaddress import ip_network

import pytest

from netverify.engine.lint.admin import rule_covers
from netverify.model import (
    AdminAction,
    AdminPeer,
    AdminRule,
    LabelSelector,
    NamespacedPods,
    PolicyPort,
    PortRange,
    Protocol,
)

PROD = LabelSelector(match_labels={"env": "prod"})
DB = LabelSelector(match_labels={"app": "db"})


def _rule(*peers: AdminPeer, ports: tuple[PolicyPort, ...] = ()) -> AdminRule:
    return AdminRule(action=AdminAction.DENY, peers=peers, ports=ports)


def _tcp(start: int, end: int) -> PolicyPort:
    return PolicyPort(protocol=Protocol.TCP, port_range=PortRange(start=start, end=end))


@pytest.mark.parametrize(
    ("wide", "narrow", "covers"),
    [
        (
            AdminPeer(namespaces=LabelSelector()),
            AdminPeer(pods=NamespacedPods(pod_selector=DB)),
            True,
        ),
        (
            AdminPeer(namespaces=PROD),
            AdminPeer(pods=NamespacedPods(namespace_selector=PROD, pod_selector=DB)),
            True,
        ),
        (AdminPeer(pods=NamespacedPods(pod_selector=DB)), AdminPeer(namespaces=PROD), False),
        (
            AdminPeer(networks=(ip_network("10.0.0.0/8"),)),
            AdminPeer(networks=(ip_network("10.1.0.0/16"),)),
            True,
        ),
        (
            AdminPeer(networks=(ip_network("10.1.0.0/16"),)),
            AdminPeer(networks=(ip_network("10.0.0.0/8"),)),
            False,
        ),
        (AdminPeer(networks=(ip_network("0.0.0.0/0"),)), AdminPeer(namespaces=PROD), False),
        (AdminPeer(nodes=LabelSelector()), AdminPeer(nodes=PROD), True),
        (AdminPeer(domain_names=("a.io", "b.io")), AdminPeer(domain_names=("a.io",)), True),
        (AdminPeer(domain_names=("a.io",)), AdminPeer(domain_names=("a.io", "b.io")), False),
    ],
)
def test_peers(wide: AdminPeer, narrow: AdminPeer, covers: bool) -> None:
    assert rule_covers(_rule(wide), _rule(narrow)) is covers


@pytest.mark.parametrize(
    ("wide", "narrow", "covers"),
    [
        ((), (_tcp(80, 80),), True),
        ((_tcp(80, 80),), (), False),
        ((_tcp(1, 1024),), (_tcp(80, 80), _tcp(443, 443)), True),
        ((_tcp(1, 1024),), (_tcp(1000, 2000),), False),
        (
            (PolicyPort(protocol=Protocol.UDP, port_range=PortRange(start=53, end=53)),),
            (_tcp(53, 53),),
            False,
        ),
        ((PolicyPort(named_port="http"),), (PolicyPort(named_port="http"),), True),
        ((_tcp(1, 65535),), (PolicyPort(named_port="http"),), False),
    ],
)
def test_ports(wide: tuple[PolicyPort, ...], narrow: tuple[PolicyPort, ...], covers: bool) -> None:
    every = AdminPeer(namespaces=LabelSelector())
    assert rule_covers(_rule(every, ports=wide), _rule(every, ports=narrow)) is covers


def test_every_peer_must_be_covered() -> None:
    prod, qa = (
        AdminPeer(namespaces=PROD),
        AdminPeer(namespaces=LabelSelector(match_labels={"env": "qa"})),
    )
    assert rule_covers(_rule(prod, qa), _rule(qa))
    assert not rule_covers(_rule(prod), _rule(prod, qa))
