"""Checks of admin policies proved with Z3 over every pod that could exist, each with a
witness flow replayed through the reference evaluator: same-priority overlaps that change a
verdict, Pass rules with no effect, and egress Accept rules that the destination's
NetworkPolicy blocks anyway (Deny rules that cut DNS are `dnscut`'s)."""

from collections.abc import Iterator
from itertools import combinations

import z3

from netverify.encoding.admin import AdminEncoding
from netverify.encoding.capi import conj, disj
from netverify.engine.lint.admin import qualified_rule_name, rule_name
from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import finding, register
from netverify.engine.lint.tierterms import (
    may_decide,
    policy_matches,
    rule_sites,
    surely_decides,
)
from netverify.engine.lint.witness import flow_text, replay_mismatch, witness
from netverify.model import (
    AdminAction,
    AdminPolicy,
    Direction,
    Layer,
    Tier,
    short_name,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity
from netverify.semantics import evaluate
from netverify.semantics.admin import first_match, possible_firsts, tier_matches
from netverify.semantics.evaluator import possible_verdicts

# -- same-priority overlap --------------------------------------------------------------------


def _unordered_pairs(context: LintContext) -> Iterator[tuple[AdminPolicy, AdminPolicy]]:
    """Pairs of policies of one tier that the API does not order (equal priorities, or one
    policy of each API version)."""
    for tier in Tier:
        for first, second in combinations(context.cluster.tier(tier), 2):
            if not first.precedes(second) and not second.precedes(first):
                yield first, second


def _first_actions(
    admin: AdminEncoding, policy: AdminPolicy, direction: Direction
) -> dict[AdminAction, z3.BoolRef]:
    """For each action: the policy may come first and its first matching rule has it."""
    by_action: dict[AdminAction, list[z3.BoolRef]] = {action: [] for action in AdminAction}
    for index, rule in enumerate(policy.rules(direction)):
        by_action[rule.action].append(may_decide(admin, policy, direction, index))
    return {action: disj(terms) for action, terms in by_action.items()}


@register(
    "NVL015",
    "admin-priority-overlap",
    "Admin policies without a defined order that decide a common flow differently",
    FindingSeverity.WARNING,
    "Give the policies different priorities (and one API version), so that the one meant to "
    "win comes first; upstream may apply either of them, and CNIs differ.",
    proved=True,
)
def admin_priority_overlap(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    admin = context.encoding.admin
    if admin is None:
        return
    encoding = context.encoding
    for first, second in _unordered_pairs(context):
        for direction in Direction:
            ones, others = (_first_actions(admin, p, direction) for p in (first, second))
            differ = disj(
                [conj([ones[a], others[b]]) for a in AdminAction for b in AdminAction if a != b]
            )
            flow = witness(context, differ, encoding.allowed, encoding.blocked)
            if flow is None:
                continue
            matches = dict(
                (policy.ref, match)
                for policy, match in possible_firsts(
                    tier_matches(context.cluster, first.tier, flow, direction)
                )
            )
            one, other = matches.get(first.ref), matches.get(second.ref)
            if one is None or other is None or len(possible_verdicts(context.cluster, flow)) < 2:
                raise replay_mismatch(info.id, flow)
            why = (
                f"both priority {first.priority}"
                if first.api_version == second.api_version
                else "of different API versions"
            )
            yield finding(
                info,
                f"this policy and {short_name(second.ref)} ({first.tier} tier, {why}) have no "
                f"defined order and decide {flow_text(flow)} differently: its "
                f"{rule_name(first, direction, one.rule.index)} {one.action} and "
                f"{qualified_rule_name(second, direction, other.rule.index)} {other.action}; "
                "the flow is allowed in one order and blocked in the other",
                span=context.sources.of_object(first.ref),
                object=first.ref,
                related=(str(second.ref), flow_text(flow)),
            )
            break


# -- Pass without effect -------------------------------------------------------------------


@register(
    "NVL016",
    "admin-pass-without-effect",
    "Admin tier Pass rule that no later Admin rule would decide otherwise",
    FindingSeverity.WARNING,
    "Delete the Pass rule (the flows it passes reach NetworkPolicy without it), or add the "
    "Admin tier rule it was meant to let those flows skip, after it.",
    proved=True,
)
def admin_pass_without_effect(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for direction in Direction:
        for admin, policy, index, ref in rule_sites(
            context, Tier.ADMIN, direction, AdminAction.PASS
        ):
            decides = may_decide(admin, policy, direction, index)
            later = disj(
                [
                    *[
                        admin.rule_matches(r, direction)
                        for r in policy.rules(direction)[index + 1 :]
                    ],
                    *[
                        policy_matches(admin, other, direction)
                        for other in context.cluster.tier(Tier.ADMIN)
                        if other is not policy and not other.precedes(policy)
                    ],
                ]
            )
            flow = witness(context, decides)
            if flow is None or context.satisfiable(decides, later) is not False:
                continue
            if _addresses_matter(context, policy, direction, index):
                continue
            match = first_match(context.cluster, policy, flow, direction)
            if match is None or match.rule != ref:
                raise replay_mismatch(info.id, flow)
            yield finding(
                info,
                f"{rule_name(policy, direction, index)} has no effect: no later rule of this "
                "policy and no Admin tier policy that may come after it "
                f"matches a flow it passes (e.g. {flow_text(flow)}), so without it those flows "
                "reach NetworkPolicy all the same",
                **context.at_rule(ref),
                related=(flow_text(flow),),
            )


def _addresses_matter(
    context: LintContext, policy: AdminPolicy, direction: Direction, index: int
) -> bool:
    """Whether a flow the Pass rule `index` passes and a later rule matches may need an end
    the encoding has no stand-in for: an existing pod matched by its namespace or labels in
    one rule and by its address in another (`networks` holding it, `nodes` matching a
    host-network pod). The encoding's pods have no such address, so no such flow is found
    there: `admin_pass_without_effect` cannot tell, and says nothing."""
    unplaced = context.unplaced_pods
    if not unplaced:
        return False
    rules = [
        *policy.rules(direction)[index:],
        *[
            rule
            for other in context.cluster.tier(Tier.ADMIN)
            if other is not policy and not other.precedes(policy)
            for rule in other.rules(direction)
        ],
    ]
    peers = [peer for rule in rules for peer in rule.peers]
    host_network = any(pod.host_network for pod in unplaced)
    return any(
        (peer.nodes is not None and host_network)
        or any(
            ip in network
            for network in peer.networks
            for pod in unplaced
            for ip in pod.ips
            if ip.version == network.version
        )
        for peer in peers
    )


# -- egress Accept blocked at ingress -----------------------------------------------------


@register(
    "NVL018",
    "admin-accept-blocked-at-ingress",
    "Admin tier egress Accept that the destination's NetworkPolicy blocks anyway",
    FindingSeverity.INFO,
    "An egress Accept decides only the source's side: admit the flow in the destination's "
    "NetworkPolicy too (or with an Admin tier ingress Accept for the destination), or narrow "
    "the Accept to destinations that admit it.",
    proved=True,
)
def admin_accept_blocked_at_ingress(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    encoding = context.encoding
    network_policy = encoding.policies.network_policy_layer(Direction.INGRESS)
    for admin, policy, index, ref in rule_sites(
        context, Tier.ADMIN, Direction.EGRESS, AdminAction.ACCEPT
    ):
        ingress_tier = admin.tier(Tier.ADMIN, Direction.INGRESS)
        flow = witness(
            context,
            surely_decides(admin, policy, Direction.EGRESS, index),
            z3.Not(ingress_tier.can_accept),
            z3.Not(ingress_tier.can_deny),
            network_policy.decides,
            z3.Not(network_policy.allows),
            z3.Not(encoding.self_traffic),
            z3.Not(encoding.flow.same_node),
        )
        if flow is None:
            continue
        decision = evaluate(context.cluster, flow, context.settings)
        ingress = decision.ingress
        if (
            decision.egress.admin_rule is None
            or decision.egress.admin_rule.rule != ref
            or ingress.decided_by is not Layer.NETWORK_POLICY
            or ingress.allowed
        ):
            raise replay_mismatch(info.id, flow)
        isolating = ", ".join(f"{r.namespace}/{r.name}" for r in ingress.isolated_by)
        yield finding(
            info,
            f"{rule_name(policy, Direction.EGRESS, index)} accepts {flow_text(flow)} at "
            f"the source, but the destination's ingress is isolated by {isolating} and no rule "
            "admits it: the flow is blocked anyway (an egress Accept does not skip the "
            "destination's ingress)",
            **context.at_rule(ref),
            related=(flow_text(flow), *(str(r) for r in ingress.isolated_by)),
        )
