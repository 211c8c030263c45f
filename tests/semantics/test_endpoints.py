"""Endpoints policies cannot select: hostNetwork pods and external addresses; self traffic.

https://kubernetes.io/docs/concepts/services-networking/network-policies/#what-you-can-t-do-with-network-policies-at-least-not-yet
"""

import pytest

from netverify.model import Direction, Flow, PodEndpoint, Protocol
from netverify.semantics import Layer, evaluate, policy_selects
from tests.semantics.helpers import (
    EVERYTHING,
    allowed,
    cluster,
    decide,
    external,
    ip_block,
    namespace,
    pod,
    policy,
    ref,
    rule,
    rule_ref,
    selector,
)

WEB = pod("shop", "web", {"app": "web"}, ip="10.0.0.1")
DB = pod("shop", "db", {"app": "db"}, ip="10.0.0.2")
AGENT = pod("shop", "agent", {"app": "web"}, ip="10.0.0.3", host_network=True)
DENY_ALL = policy("shop", "deny-all", EVERYTHING, ingress=(), egress=())


def test_a_host_network_pod_is_never_selected_even_by_an_empty_pod_selector() -> None:
    world = cluster([WEB, AGENT], [DENY_ALL])

    outbound = decide(world, AGENT, external("8.8.8.8"))
    inbound = decide(world, external("8.8.8.8"), AGENT)

    assert not policy_selects(DENY_ALL, outbound.flow.source)
    assert policy_selects(DENY_ALL, decide(world, WEB, AGENT).flow.source)
    assert outbound.allowed
    assert inbound.allowed
    for side in (outbound.egress, inbound.ingress):
        assert not side.governed
        assert side.allowed
        assert side.isolated_by == ()
        assert side.decided_by is None
    # An ordinary pod of the same namespace is isolated by the same policy.
    assert not allowed(world, WEB, external("8.8.8.8"))


def test_a_host_network_pod_talking_to_an_isolated_pod_meets_its_ingress() -> None:
    world = cluster([WEB, AGENT], [DENY_ALL])

    decision = decide(world, AGENT, WEB)

    assert decision.egress.allowed
    assert not decision.egress.governed
    assert not decision.ingress.allowed
    assert decision.ingress.isolated_by == (ref(DENY_ALL),)


@pytest.mark.parametrize("address", ["8.8.8.8", "10.0.0.77", "2001:db8::1"])
def test_an_external_source_has_no_egress_side(address: str) -> None:
    admit_cidr = policy("shop", "db", selector(app="db"), ingress=[rule(ip_block("10.0.0.0/24"))])
    world = cluster([DB], [admit_cidr, policy("shop", "deny-egress", EVERYTHING, egress=())])

    decision = decide(world, external(address), DB)

    assert not decision.egress.governed
    assert decision.egress.allowed
    assert decision.egress.isolated_by == ()
    assert decision.ingress.governed
    assert decision.ingress.isolated_by == (ref(admit_cidr),)
    assert decision.allowed is (address == "10.0.0.77")


@pytest.mark.parametrize("address", ["8.8.8.8", "10.0.0.77", "2001:db8::1"])
def test_an_external_destination_has_no_ingress_side(address: str) -> None:
    admit_cidr = policy("shop", "db", selector(app="db"), egress=[rule(ip_block("10.0.0.0/24"))])
    world = cluster([DB], [admit_cidr, policy("shop", "deny-ingress", EVERYTHING, ingress=())])

    decision = decide(world, DB, external(address))

    assert not decision.ingress.governed
    assert decision.ingress.allowed
    assert decision.ingress.isolated_by == ()
    assert decision.egress.governed
    assert decision.egress.isolated_by == (ref(admit_cidr),)
    assert decision.allowed is (address == "10.0.0.77")


def test_a_pod_can_always_talk_to_itself() -> None:
    world = cluster([WEB, DB], [DENY_ALL])

    to_itself = decide(world, WEB, WEB, 8080, Protocol.UDP)

    assert to_itself.self_traffic
    assert to_itself.allowed
    assert not to_itself.egress.allowed  # the sides still say what the policies say
    assert not to_itself.ingress.allowed
    assert not allowed(world, WEB, DB)


def test_same_name_in_another_namespace_is_not_self_traffic() -> None:
    twin = pod("other", "web", {"app": "web"}, ip="10.0.0.9")
    world = cluster([WEB, twin], [DENY_ALL, policy("other", "deny-all", EVERYTHING, ingress=())])

    for source, destination in ((WEB, twin), (twin, WEB)):
        decision = decide(world, source, destination)
        assert not decision.self_traffic
        assert not decision.allowed


def test_a_pod_that_could_exist_is_never_self_traffic() -> None:
    """`name=None` stands for any pod the template could create: two of them are not one."""
    possible = pod("shop", None, {"app": "web"})
    world = cluster([possible], [DENY_ALL])
    end = PodEndpoint(namespace=namespace("shop"), pod=possible)

    decision = evaluate(world, Flow(source=end, destination=end, protocol=Protocol.TCP, port=80))

    assert not decision.self_traffic
    assert not decision.allowed


def test_a_blocked_flow_names_the_isolating_policies_and_no_rules() -> None:
    db_from_web = policy(
        "shop", "db-from-web", selector(app="db"), ingress=[rule(ip_block("192.168.0.0/16"))]
    )
    db_egress_only = policy("shop", "db-egress", selector(app="db"), egress=())
    elsewhere = policy("other", "deny-all", EVERYTHING, ingress=())
    world = cluster([WEB, DB], [DENY_ALL, db_from_web, db_egress_only, elsewhere])

    decision = decide(world, external("8.8.8.8"), DB)

    assert not decision.allowed
    assert decision.ingress.isolated_by == (ref(db_from_web), ref(DENY_ALL))
    assert decision.ingress.allowed_by == ()
    assert decision.ingress.decided_by is Layer.NETWORK_POLICY
    assert not decision.ingress.allowed


def test_an_allowed_flow_names_the_admitting_rules_on_each_isolated_side() -> None:
    web_out = policy("shop", "web-out", selector(app="web"), egress=[rule(), rule()])
    world = cluster([WEB, DB], [web_out])

    decision = decide(world, WEB, DB)

    assert decision.allowed
    assert decision.egress.allowed_by == (
        rule_ref(web_out, Direction.EGRESS, 0),
        rule_ref(web_out, Direction.EGRESS, 1),
    )
    assert decision.egress.decided_by is Layer.NETWORK_POLICY
    assert decision.ingress.governed
    assert decision.ingress.isolated_by == ()
    assert decision.ingress.allowed_by == ()
    assert decision.ingress.decided_by is None


def test_a_pod_and_a_workload_of_the_same_name_are_not_one_pod() -> None:
    bare = pod("shop", "web", {"app": "web"})
    workload = bare.model_copy(update={"kind": "Deployment"})
    world = cluster([bare, workload], [DENY_ALL])

    decision = decide(world, bare, workload)

    assert not decision.self_traffic
    assert not decision.allowed


def test_traffic_between_replicas_of_a_workload_is_not_self_traffic() -> None:
    replicas = pod("shop", "web", {"app": "web"}).model_copy(update={"kind": "Deployment"})
    world = cluster([replicas], [DENY_ALL])

    decision = decide(world, replicas, replicas)

    assert not decision.self_traffic
    assert not decision.allowed
