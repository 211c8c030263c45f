"""The admin policy tiers as lint checks ask about them: Z3 terms over the context's symbolic
flow (which rule of a policy decides, whether a policy may or surely does come first in its
tier, a side's verdict through every tier), and a concrete flow's egress verdict in every
order the API allows."""

from collections.abc import Iterator

import z3

from netverify.encoding.admin import AdminEncoding
from netverify.encoding.capi import conj, disj, negate
from netverify.engine.lint.context import LintContext
from netverify.model import AdminAction, AdminPolicy, Direction, Flow, RuleRef, Tier
from netverify.semantics import evaluate
from netverify.semantics.evaluator import open_choices


def rule_sites(
    context: LintContext, tier: Tier, direction: Direction, action: AdminAction
) -> Iterator[tuple[AdminEncoding, AdminPolicy, int, RuleRef]]:
    """Every rule of `tier` and `direction` with `action`, with the admin encoding."""
    admin = context.encoding.admin
    if admin is None:
        return
    for policy in context.cluster.tier(tier):
        for index, rule in enumerate(policy.rules(direction)):
            if rule.action is action:
                yield (
                    admin,
                    policy,
                    index,
                    RuleRef(policy=policy.ref, direction=direction, index=index),
                )


def first_rule(
    admin: AdminEncoding, policy: AdminPolicy, direction: Direction, index: int
) -> z3.BoolRef:
    """The policy's subject is the flow's end on `direction`'s side and rule `index` is the
    first of its rules that matches the flow."""
    rules = policy.rules(direction)
    return conj(
        [
            admin.subject_selects(policy.subject, direction),
            admin.rule_matches(rules[index], direction),
            *[negate(admin.rule_matches(rule, direction)) for rule in rules[:index]],
        ]
    )


def policy_matches(admin: AdminEncoding, policy: AdminPolicy, direction: Direction) -> z3.BoolRef:
    """The policy's subject is the flow's end on that side and some rule of it matches."""
    return conj(
        [
            admin.subject_selects(policy.subject, direction),
            disj([admin.rule_matches(rule, direction) for rule in policy.rules(direction)]),
        ]
    )


def _others(admin: AdminEncoding, policy: AdminPolicy) -> list[AdminPolicy]:
    return [other for other in admin.cluster.tier(policy.tier) if other is not policy]


def may_decide(
    admin: AdminEncoding, policy: AdminPolicy, direction: Direction, index: int
) -> z3.BoolRef:
    """Rule `index` decides the policy's part of the flow in some order the API allows: it
    is the policy's first matching rule and no matching policy must come before it."""
    before = [p for p in _others(admin, policy) if p.precedes(policy)]
    return conj(
        [
            first_rule(admin, policy, direction, index),
            *[negate(policy_matches(admin, p, direction)) for p in before],
        ]
    )


def surely_decides(
    admin: AdminEncoding, policy: AdminPolicy, direction: Direction, index: int
) -> z3.BoolRef:
    """Rule `index` decides the tier in every order the API allows: it is the policy's first
    matching rule and no other policy of the tier that may come first matches."""
    rivals = [p for p in _others(admin, policy) if not policy.precedes(p)]
    return conj(
        [
            first_rule(admin, policy, direction, index),
            *[negate(policy_matches(admin, p, direction)) for p in rivals],
        ]
    )


def side_may_allow(context: LintContext, direction: Direction) -> z3.BoolRef:
    """Some order of the admin policies lets the side through: Admin tier, NetworkPolicy,
    Baseline tier (NetworkPolicy alone without admin policies)."""
    admin = context.encoding.admin
    if admin is None:
        return context.encoding.policies.side_allowed(direction)
    return admin.side(direction, node_local=False).may_allow


def baseline_may_deny(context: LintContext, direction: Direction) -> z3.BoolRef:
    """Some Baseline tier policy may deny the side when NetworkPolicy leaves it undecided."""
    admin = context.encoding.admin
    if admin is None:
        return z3.BoolVal(False)
    return admin.tier(Tier.BASELINE, direction).can_deny


def egress_may_allow(context: LintContext, flow: Flow) -> bool:
    """Whether the source's egress lets the concrete flow through in some order of the admin
    policies: in netverify's walk order, or whenever the order is open for the flow (then
    no check claims it blocked), at some address `podCIDRs` may give its ends."""
    return any(
        evaluate(context.cluster, addressed, context.settings).egress.allowed
        or bool(open_choices(context.cluster, addressed))
        for addressed in context.addresses.flows(flow)
    )
