"""NVL012: admin policy rules that can never decide a flow, because what comes before them
(earlier rules of their policy, policies their tier orders before theirs and, for the
Baseline tier, the Admin tier and NetworkPolicy) decides every flow they match.

An earlier rule of the same policy that covers the rule as the manifests show it is found
without the solver (`admin.rule_covers`; it also reads `nodes` and `domainNames` peers).
Otherwise the proof is Z3's, over every pod that could exist: the rule's policy selects the
flow's end and the rule matches it, while none of what comes before it decides it, is UNSAT;
the finding names a minimal set of what the unsat core keeps. Only what comes first in every
order counts: a policy of equal priority, or of the other API version, may come after it.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import z3

from netverify.encoding.admin import AdminEncoding
from netverify.encoding.capi import conj, disj, negate
from netverify.engine.lint.admin import admin_sites, rule_covers, rule_name
from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import finding, register
from netverify.engine.lint.tierterms import surely_decides
from netverify.engine.lint.witness import flow_text, witness
from netverify.engine.replay import ReplayMismatch
from netverify.model import (
    AdminAction,
    AdminPolicy,
    Direction,
    ObjectRef,
    RuleRef,
    Tier,
    short_name,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity
from netverify.model.refs import network_policy_ref
from netverify.semantics import evaluate


@dataclass(frozen=True)
class _Before:
    """Something that decides a flow before the rule could, when its term holds."""

    kind: str
    """What it is: "rule" (matches), "policy" (some rule of it matches), "surely" (an Admin
    tier rule that decides in every order), "admin tier" (it decides in every order),
    "network policy" (selects the end)."""
    what: RuleRef | ObjectRef | Direction
    """The rule or policy (for "admin tier", the direction)."""
    description: str
    """It named on its own (`cnp/NAME egress[0] "name" (Deny)`), as `related` lists it."""
    term: z3.BoolRef
    in_message: str | None = None
    """How the finding's message names it, where shorter: a rule of the finding's own
    policy without the policy's name, which the finding names already."""


@register(
    "NVL012",
    "admin-rule-shadowed",
    "Admin policy rule that earlier rules or higher-priority policies shadow",
    FindingSeverity.WARNING,
    "Delete the rule, or move it before the rules that shadow it (the first matching rule "
    "decides, so a rule whose every flow an earlier rule or a policy that comes first "
    "matches never decides any).",
    proved=True,
)
def admin_rule_shadowed(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    admin = context.encoding.admin
    proofs = None if admin is None else _Proofs(context, admin)
    if proofs is not None:
        context.solver.push()  # the proofs' assumptions, asserted once for every rule
    try:
        for policy, direction, index, ref in admin_sites(context):
            rules = policy.rules(direction)
            earlier = next((i for i in range(index) if rule_covers(rules[i], rules[index])), None)
            if earlier is not None:
                before = RuleRef(policy=policy.ref, direction=direction, index=earlier)
                yield finding(
                    info,
                    f"{rule_name(policy, direction, index)} never decides a flow: "
                    f"{_own_rule_text(policy, direction, earlier)} comes first and matches "
                    "every flow it matches",
                    **context.at_rule(ref),
                    related=(_located(context, before, _rule_text(policy, direction, earlier)),),
                )
                continue
            shadowing = None if proofs is None else proofs.shadowing(info, policy, direction, index)
            if shadowing is None:
                continue
            names, example = shadowing
            verbs = "comes first and decides" if len(names) == 1 else "come first and decide"
            yield finding(
                info,
                f"{rule_name(policy, direction, index)} never decides a flow: "
                f"{'; '.join(b.in_message or b.description for b in names)} {verbs} every flow "
                "it matches "
                f"(e.g. {example})",
                **context.at_rule(ref),
                related=tuple(_located(context, b.what, b.description) for b in names),
            )
    finally:
        if proofs is not None:
            context.solver.pop()


class _Proofs:
    """The Z3 proofs of one lint run. Every rule is compared with everything before it, so
    each term is built once and asserted once, as "literal implies not term": a rule's proof
    assumes the literals of what comes before it, and the unsat core names what covers it."""

    def __init__(self, context: LintContext, admin: AdminEncoding) -> None:
        self.context, self.admin = context, admin
        self._terms: dict[tuple[str, object], z3.BoolRef] = {}
        self._literals: dict[int, z3.BoolRef] = {}

    def shadowing(
        self, info: CheckInfo, policy: AdminPolicy, direction: Direction, index: int
    ) -> tuple[list[_Before], str] | None:
        """A minimal set of what comes before the rule and decides every flow it matches,
        and one such flow; None when the rule may decide a flow (or the solver gave up, or
        the rule's peers are ones the encoding cannot fully match)."""
        rule = policy.rules(direction)[index]
        if any(peer.nodes is not None or peer.domain_names for peer in rule.peers):
            # NOTE: the encoding of lint has no host-network pods, which `nodes` peers
            # match, and matches no address to `domainNames`: such a rule matches more
            # than its terms.
            return None
        matches = self.rule(policy, direction, index)
        needed = self._core(matches, self._before(policy, direction, index))
        if needed is None:
            return None
        # Named by rule: a policy's rules, and the Admin tier's rules that surely decide
        # (which may cover less than the tier as a whole: then the tier is named).
        fine = [f for b in needed for f in self._rules_of(b, direction)]
        needed = self._core(matches, fine) or needed
        context = self.context
        flow = witness(context, matches)
        if flow is None:
            return None  # it matches nothing at all: nothing to shadow
        decision = evaluate(context.cluster, flow, context.settings)
        side = decision.egress if direction is Direction.EGRESS else decision.ingress
        ref = RuleRef(policy=policy.ref, direction=direction, index=index)
        if ref in {m.rule for m in (side.admin_rule, side.passed_by) if m is not None}:
            raise ReplayMismatch(
                f"lint {info.id}: the reference evaluator has {ref} decide {flow_text(flow)}, "
                "which the solver proved it never decides (a soundness bug; please report it)"
            )
        return needed, flow_text(flow)

    def rule(self, policy: AdminPolicy, direction: Direction, index: int) -> z3.BoolRef:
        """The policy selects the end on `direction`'s side and rule `index` matches."""
        key = ("rule", (policy.ref, direction, index))
        if key not in self._terms:
            self._terms[key] = conj(
                [
                    self.admin.subject_selects(policy.subject, direction),
                    self.admin.rule_matches(policy.rules(direction)[index], direction),
                ]
            )
        return self._terms[key]

    def policy(self, policy: AdminPolicy, direction: Direction) -> z3.BoolRef:
        """Some rule of the policy matches (its subject selecting the end)."""
        key = ("policy", (policy.ref, direction))
        if key not in self._terms:
            count = len(policy.rules(direction))
            self._terms[key] = disj([self.rule(policy, direction, i) for i in range(count)])
        return self._terms[key]

    def surely(self, policy: AdminPolicy, direction: Direction, index: int) -> z3.BoolRef:
        """Rule `index` decides the Admin tier in every order the API allows."""
        key = ("surely", (policy.ref, direction, index))
        if key not in self._terms:
            self._terms[key] = surely_decides(self.admin, policy, direction, index)
        return self._terms[key]

    def _before(self, policy: AdminPolicy, direction: Direction, index: int) -> list[_Before]:
        """What decides a flow before rule `index` of the policy could, in every order the
        API allows: an earlier rule of the policy that matches; a policy of the tier that
        comes first in every order (a lower priority number and the same API version; never
        an equal priority) whose subject selects the end and a rule of which matches (Pass
        included: in the Admin tier it skips the rest of the tier, in the Baseline tier it
        allows); for the Baseline tier, the Admin tier deciding with Accept or Deny in every
        order, and a NetworkPolicy that selects the end for the direction."""
        admin = self.admin
        found = [
            _Before(
                "rule",
                RuleRef(policy=policy.ref, direction=direction, index=earlier),
                _rule_text(policy, direction, earlier),
                self.rule(policy, direction, earlier),
                _own_rule_text(policy, direction, earlier),
            )
            for earlier in range(index)
        ]
        found += [
            _Before(
                "policy",
                other.ref,
                f"{short_name(other.ref)} (priority {other.priority})",
                self.policy(other, direction),
            )
            for other in self.context.cluster.tier(policy.tier)
            if other.precedes(policy)
        ]
        if policy.tier is Tier.BASELINE:
            found.append(
                _Before(
                    "admin tier",
                    direction,
                    "the Admin tier (Accept or Deny in every order)",
                    negate(admin.tier(Tier.ADMIN, direction).can_continue),
                )
            )
            found += [
                _Before(
                    "network policy",
                    network_policy_ref(network_policy),
                    f"NetworkPolicy {network_policy.namespace}/{network_policy.name} (where it "
                    "selects the pod)",
                    self.context.selects(network_policy, direction),
                )
                for network_policy in self.context.cluster.policies
                if direction in network_policy.policy_types
            ]
        return found

    def _rules_of(self, before: _Before, direction: Direction) -> list[_Before]:
        """A policy as its rules; the Admin tier as its Accept and Deny rules that decide in
        every order; anything else as itself."""
        if before.kind == "policy":
            assert isinstance(before.what, ObjectRef)
            policy = next(p for p in self.context.cluster.admin_policies if p.ref == before.what)
            return [
                _Before(
                    "rule",
                    RuleRef(policy=policy.ref, direction=direction, index=number),
                    _rule_text(policy, direction, number, priority=True),
                    self.rule(policy, direction, number),
                )
                for number in range(len(policy.rules(direction)))
            ]
        if before.kind == "admin tier":
            return [
                _Before(
                    "surely",
                    RuleRef(policy=other.ref, direction=direction, index=number),
                    f"{_rule_text(other, direction, number, priority=True)} in the Admin tier",
                    self.surely(other, direction, number),
                )
                for other in self.context.cluster.tier(Tier.ADMIN)
                for number, rule in enumerate(other.rules(direction))
                if rule.action is not AdminAction.PASS
            ]
        return [before]

    def _literal(self, before: _Before) -> z3.BoolRef:
        """The literal that, assumed, says `before` does not decide the flow (asserted the
        first time its term is asked for; Z3 shares equal terms, so the term's id names it)."""
        key = before.term.get_id()
        if key not in self._literals:
            literal = z3.Bool(f"nvl012.{len(self._literals)}")
            self.context.solver.add(z3.Implies(literal, negate(before.term)))
            self._literals[key] = literal
        return self._literals[key]

    def _core(self, matches: z3.BoolRef, before: list[_Before]) -> list[_Before] | None:
        """A minimal set of `before` that leaves no flow the rule matches undecided (the
        unsat core, then each member dropped while the rest still suffice); None when some
        flow the rule matches is left (or the solver gave up)."""
        if not before:
            return None
        literals = [self._literal(b) for b in before]
        solver = self.context.solver
        solver.push()
        try:
            solver.add(matches)
            if solver.check(*literals) != z3.unsat:
                return None
            core = {str(term) for term in solver.unsat_core()}
            needed = [number for number, lit in enumerate(literals) if str(lit) in core]
            for number in list(needed):
                rest = [literals[other] for other in needed if other != number]
                if solver.check(*rest) == z3.unsat:
                    needed.remove(number)
        finally:
            solver.pop()
        return [before[number] for number in needed]


def _rule_text(
    policy: AdminPolicy, direction: Direction, index: int, priority: bool = False
) -> str:
    """`cnp/NAME egress[1] "name" (Deny)`, with `(priority N)` after the policy's name."""
    ordered = f" (priority {policy.priority})" if priority and policy.priority is not None else ""
    return f"{short_name(policy.ref)}{ordered} {_own_rule_text(policy, direction, index)}"


def _own_rule_text(policy: AdminPolicy, direction: Direction, index: int) -> str:
    """`egress[1] "name" (Deny)`: a rule of the policy a finding is about."""
    return f"{rule_name(policy, direction, index)} ({policy.rules(direction)[index].action.value})"


def _located(context: LintContext, what: RuleRef | ObjectRef | Direction, description: str) -> str:
    """The description with where it is written (`file:line`), when known."""
    if isinstance(what, Direction):
        return description
    span = (
        context.sources.of_rule(what)
        if isinstance(what, RuleRef)
        else context.sources.of_object(what)
    )
    return description if span is None else f"{description} ({span})"
