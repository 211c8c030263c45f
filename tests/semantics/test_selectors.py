"""Label selectors: matchLabels and the four matchExpressions operators, all ANDed.

https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements
"""

import pytest

from netverify.model import LabelRequirement, LabelSelector, Operator, PolicyPeer
from netverify.semantics import selector_matches
from tests.semantics.helpers import (
    EVERYTHING,
    allowed,
    cluster,
    namespace,
    pod,
    policy,
    rule,
    selector,
)


def expression(key: str, operator: Operator, *values: str) -> LabelRequirement:
    return LabelRequirement(key=key, operator=operator, values=values)


def expressions(*requirements: LabelRequirement, **match_labels: str) -> LabelSelector:
    return LabelSelector(match_labels=match_labels, match_expressions=requirements)


IN_A_B = expressions(expression("app", Operator.IN, "a", "b"))
NOT_IN_A = expressions(expression("app", Operator.NOT_IN, "a"))
EXISTS = expressions(expression("app", Operator.EXISTS))
DOES_NOT_EXIST = expressions(expression("app", Operator.DOES_NOT_EXIST))
PROD_AND_IN_A = expressions(expression("app", Operator.IN, "a"), env="prod")
TWO_EXPRESSIONS = expressions(
    expression("app", Operator.EXISTS), expression("env", Operator.NOT_IN, "dev")
)


@pytest.mark.parametrize(
    ("selector_", "labels", "expected"),
    [
        (EVERYTHING, {}, True),
        (EVERYTHING, {"app": "a"}, True),
        (selector(app="a"), {"app": "a", "env": "prod"}, True),
        (selector(app="a"), {"app": "b"}, False),
        (selector(app="a"), {}, False),
        (selector(app="a", env="prod"), {"app": "a"}, False),
        (IN_A_B, {"app": "a"}, True),
        (IN_A_B, {"app": "b"}, True),
        (IN_A_B, {"app": "c"}, False),
        (IN_A_B, {}, False),
        (NOT_IN_A, {"app": "b"}, True),
        (NOT_IN_A, {"app": "a"}, False),
        (NOT_IN_A, {}, True),  # NOTE: NotIn matches objects without the key
        (NOT_IN_A, {"env": "a"}, True),
        (EXISTS, {"app": ""}, True),
        (EXISTS, {"app": "a"}, True),
        (EXISTS, {"env": "a"}, False),
        (DOES_NOT_EXIST, {}, True),
        (DOES_NOT_EXIST, {"env": "a"}, True),
        (DOES_NOT_EXIST, {"app": ""}, False),
        (PROD_AND_IN_A, {"app": "a", "env": "prod"}, True),
        (PROD_AND_IN_A, {"app": "b", "env": "prod"}, False),
        (PROD_AND_IN_A, {"app": "a", "env": "dev"}, False),
        (PROD_AND_IN_A, {"app": "a"}, False),
        (TWO_EXPRESSIONS, {"app": "a"}, True),
        (TWO_EXPRESSIONS, {"app": "a", "env": "prod"}, True),
        (TWO_EXPRESSIONS, {"app": "a", "env": "dev"}, False),
        (TWO_EXPRESSIONS, {"env": "prod"}, False),
    ],
)
def test_selector_matches(selector_: LabelSelector, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector_, labels) is expected


def test_a_policy_selects_by_match_expressions() -> None:
    """DoesNotExist selects the unlabelled pod and only it."""
    plain = pod("shop", "plain", {})
    labelled = pod("shop", "labelled", {"app": "a"})
    deny = policy("shop", "deny-unlabelled", DOES_NOT_EXIST, ingress=())
    world = cluster([plain, labelled], [deny])

    assert not allowed(world, labelled, plain)
    assert allowed(world, plain, labelled)


def test_a_namespace_selector_by_match_expressions_matches_namespaces_without_the_key() -> None:
    """NotIn: namespaces without a `team` label match; team=x does not."""
    db = pod("shop", "db", {"app": "db"})
    from_x = pod("team-x", "web", {})
    from_y = pod("team-y", "web", {})
    from_unlabelled = pod("plain", "web", {})
    not_x = PolicyPeer(namespace_selector=expressions(expression("team", Operator.NOT_IN, "x")))
    world = cluster(
        [db, from_x, from_y, from_unlabelled],
        [policy("shop", "db", selector(app="db"), ingress=[rule(not_x)])],
        [namespace("team-x", {"team": "x"}), namespace("team-y", {"team": "y"})],
    )

    assert not allowed(world, from_x, db)
    assert allowed(world, from_y, db)
    assert allowed(world, from_unlabelled, db)
