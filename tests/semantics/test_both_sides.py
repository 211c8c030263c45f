"""A connection needs the source's egress and the destination's ingress on the same port.

https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
"""

import pytest

from netverify.model import Protocol
from tests.semantics.helpers import (
    cluster,
    decide,
    pod,
    pods_peer,
    policy,
    port,
    rule,
    selector,
)

WEB = pod("shop", "web", {"app": "web"})
DB = pod("shop", "db", {"app": "db"})

WORLD = cluster(
    [WEB, DB],
    [
        policy(
            "shop",
            "web-egress",
            selector(app="web"),
            egress=[
                rule(
                    pods_peer(selector(app="db")),
                    ports=[port(80), port(8080), port(53, protocol=Protocol.UDP)],
                )
            ],
        ),
        policy(
            "shop",
            "db-ingress",
            selector(app="db"),
            ingress=[
                rule(
                    pods_peer(selector(app="web")),
                    ports=[port(443), port(8080), port(53, protocol=Protocol.TCP)],
                )
            ],
        ),
    ],
)


@pytest.mark.parametrize(
    ("number", "protocol", "egress", "ingress"),
    [
        (8080, Protocol.TCP, True, True),
        (80, Protocol.TCP, True, False),
        (443, Protocol.TCP, False, True),
        (53, Protocol.UDP, True, False),
        (53, Protocol.TCP, False, True),
        (22, Protocol.TCP, False, False),
    ],
)
def test_both_sides_must_allow_the_same_protocol_and_port(
    number: int, protocol: Protocol, egress: bool, ingress: bool
) -> None:
    decision = decide(WORLD, WEB, DB, number, protocol)

    assert decision.egress.allowed is egress
    assert decision.ingress.allowed is ingress
    assert decision.allowed is (egress and ingress)


def test_the_reverse_direction_is_governed_by_the_other_directions() -> None:
    """web is isolated only for egress and db only for ingress: db -> web is unaffected."""
    decision = decide(WORLD, DB, WEB, 22)

    assert decision.allowed
    assert decision.egress.isolated_by == ()
    assert decision.ingress.isolated_by == ()
