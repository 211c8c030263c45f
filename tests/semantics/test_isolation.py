"""Isolation per direction, effective policy types, and the union of admitting rules.

https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation
"""

import pytest

from netverify.model import Direction, PolicyRule, Protocol
from netverify.semantics import Layer
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
    ref,
    rule,
    rule_ref,
    selector,
)

WEB = pod("shop", "web", {"app": "web"}, ip="10.0.0.1")
DB = pod("shop", "db", {"app": "db"}, ip="10.0.0.2")
OTHER = pod("shop", "other", {"app": "other"}, ip="10.0.0.3")
STRANGER = pod("shop", "stranger", {"app": "stranger"}, ip="10.0.0.4")


def test_a_pod_no_policy_selects_allows_everything_in_both_directions() -> None:
    deny_db = policy("shop", "deny-db", selector(app="db"), ingress=(), egress=())
    world = cluster([WEB, DB, OTHER], [deny_db])

    decision = decide(world, WEB, OTHER, 12345, Protocol.UDP)

    assert decision.allowed
    for side in (decision.egress, decision.ingress):
        assert side.governed
        assert side.allowed
        assert side.isolated_by == ()
        assert side.decided_by is None
    # The same policy does isolate the pod it selects.
    assert not allowed(world, WEB, DB)
    assert not allowed(world, DB, WEB)


def test_a_policy_selects_pods_of_its_own_namespace_only() -> None:
    elsewhere = pod("other-ns", "web", {"app": "web"})
    deny_all = policy("shop", "deny-all", EVERYTHING, ingress=(), egress=())
    world = cluster([WEB, DB, elsewhere], [deny_all])

    decision = decide(world, elsewhere, external("8.8.8.8"))

    assert decision.allowed
    assert decision.egress.isolated_by == ()
    assert not allowed(world, WEB, external("8.8.8.8"))


def test_a_selected_pod_admits_only_what_some_rule_admits() -> None:
    db_ingress = policy(
        "shop",
        "db",
        selector(app="db"),
        ingress=[rule(pods_peer(selector(app="web")), ports=[port(5432)])],
    )
    world = cluster([WEB, DB, OTHER], [db_ingress])

    assert allowed(world, WEB, DB, 5432)
    assert not allowed(world, WEB, DB, 80)
    assert not allowed(world, OTHER, DB, 5432)
    assert not allowed(world, external("10.0.0.9"), DB, 5432)


@pytest.mark.parametrize("direction", list(Direction))
def test_an_isolated_direction_without_rules_denies_everything(direction: Direction) -> None:
    deny = policy("shop", "deny", selector(app="db"), policy_types=[direction])
    world = cluster([WEB, DB], [deny])

    if direction is Direction.INGRESS:
        blocked = [decide(world, WEB, DB).ingress, decide(world, external("1.2.3.4"), DB).ingress]
        open_side = decide(world, DB, WEB).egress
    else:
        blocked = [decide(world, DB, WEB).egress, decide(world, DB, external("1.2.3.4")).egress]
        open_side = decide(world, WEB, DB).ingress

    for side in blocked:
        assert side.isolated_by == (ref(deny),)
        assert not side.allowed
    assert open_side.allowed
    assert open_side.isolated_by == ()


@pytest.mark.parametrize("direction", list(Direction))
def test_a_direction_missing_from_policy_types_is_not_isolated_even_with_rules(
    direction: Direction,
) -> None:
    """E.g. `policyTypes: [Ingress]` with `egress` rules: the egress rules are ignored."""
    only_db = [rule(pods_peer(selector(app="db")), ports=[port(5432)])]
    other = Direction.EGRESS if direction is Direction.INGRESS else Direction.INGRESS
    half = policy(
        "shop", "half", selector(app="web"), ingress=only_db, egress=only_db, policy_types=[other]
    )
    world = cluster([WEB, DB, OTHER], [half])

    if direction is Direction.EGRESS:
        ignored = decide(world, WEB, OTHER, 80).egress
        enforced = decide(world, OTHER, WEB, 80).ingress
    else:
        ignored = decide(world, OTHER, WEB, 80).ingress
        enforced = decide(world, WEB, OTHER, 80).egress

    assert ignored.allowed
    assert ignored.isolated_by == ()
    assert ignored.decided_by is None
    assert not enforced.allowed
    assert enforced.isolated_by == (ref(half),)


def test_rules_of_all_selecting_policies_are_a_union() -> None:
    from_web = policy(
        "shop",
        "a-from-web",
        selector(app="db"),
        ingress=[rule(pods_peer(selector(app="nobody"))), rule(pods_peer(selector(app="web")))],
    )
    from_other = policy(
        "shop", "b-from-other", EVERYTHING, ingress=[rule(pods_peer(selector(app="other")))]
    )
    from_anyone_on_443 = policy(
        "shop", "c-https", selector(app="db"), ingress=[rule(ports=[port(443)])]
    )
    world = cluster(
        [WEB, DB, OTHER, STRANGER],
        [from_web, from_other, from_anyone_on_443],
    )
    isolating = (ref(from_web), ref(from_other), ref(from_anyone_on_443))

    by_web = decide(world, WEB, DB).ingress
    assert by_web.allowed
    assert by_web.isolated_by == isolating
    assert by_web.allowed_by == (rule_ref(from_web, Direction.INGRESS, 1),)

    by_other = decide(world, OTHER, DB).ingress
    assert by_other.allowed
    assert by_other.allowed_by == (rule_ref(from_other, Direction.INGRESS, 0),)

    by_web_on_443 = decide(world, WEB, DB, 443).ingress
    assert by_web_on_443.allowed_by == (
        rule_ref(from_web, Direction.INGRESS, 1),
        rule_ref(from_anyone_on_443, Direction.INGRESS, 0),
    )

    refused = decide(world, STRANGER, DB).ingress
    assert not refused.allowed
    assert refused.isolated_by == isolating
    assert refused.allowed_by == ()


def test_egress_rules_of_all_selecting_policies_are_a_union() -> None:
    to_db: list[PolicyRule] = [rule(pods_peer(selector(app="db")))]
    to_other: list[PolicyRule] = [rule(ports=[port(53, protocol=Protocol.UDP)])]
    first = policy("shop", "to-db", selector(app="web"), egress=to_db)
    second = policy("shop", "to-dns", selector(app="web"), egress=to_other)
    world = cluster([WEB, DB, OTHER], [first, second])

    to_db_decision = decide(world, WEB, DB, 5432).egress
    assert to_db_decision.allowed_by == (rule_ref(first, Direction.EGRESS, 0),)
    dns = decide(world, WEB, OTHER, 53, Protocol.UDP).egress
    assert dns.allowed_by == (rule_ref(second, Direction.EGRESS, 0),)
    assert dns.decided_by is Layer.NETWORK_POLICY
    blocked = decide(world, WEB, OTHER, 53, Protocol.TCP).egress
    assert not blocked.allowed
    assert blocked.isolated_by == (ref(first), ref(second))


def test_a_copied_cluster_does_not_keep_the_lookup_tables_of_the_original() -> None:
    from netverify.model import NAMESPACE_NAME_LABEL, Cluster, Namespace

    original = Cluster(namespaces=(Namespace(name="a", labels={NAMESPACE_NAME_LABEL: "a"}),))
    assert original.namespace("b") is None
    grown = original.model_copy(update={"namespaces": (*original.namespaces, Namespace(name="b"))})
    assert grown.namespace("b") is not None
