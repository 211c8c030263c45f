"""Redundancy checks, proved with Z3 over every pod that could exist: a rule (NVL003) or a
policy (NVL004 with rules, NVL005 without) whose removal changes no flow. Concrete evidence
from the existing pods settles "not redundant" first; the solver alone proves redundancy."""

from collections.abc import Iterator

import z3

from netverify.engine.lint.context import LintContext
from netverify.engine.lint.evidence import (
    policy_matters,
    rule_matters,
    syntactic_cover,
    syntactic_policy_cover,
)
from netverify.engine.lint.registry import finding, register
from netverify.engine.lint.tierterms import baseline_may_deny
from netverify.model import Direction, NetworkPolicy
from netverify.model.lint import CheckInfo, Finding, FindingSeverity


def redundant_policies(context: LintContext) -> list[tuple[NetworkPolicy, list[str]]]:
    """Policies whose removal changes no flow, with the other policies of their namespace
    that cover them: read off the manifests when they show it, else a minimal set that
    proves it."""
    found: list[tuple[NetworkPolicy, list[str]]] = []
    for policy in context.cluster.policies:
        others = [p for p in context.namespace_policies(policy.namespace) if p is not policy]
        if not any(policy.policy_types & other.policy_types for other in others):
            continue
        if policy_matters(context, policy):
            continue
        covering = syntactic_policy_cover(context, policy)
        if covering is None:
            proved = _proved_cover(context, policy, others)
            covering = None if proved is None else [f"{p.namespace}/{p.name}" for p in proved]
        if covering is not None:
            found.append((policy, covering))
    return found


def _proved_cover(
    context: LintContext, policy: NetworkPolicy, others: list[NetworkPolicy]
) -> list[NetworkPolicy] | None:
    """A minimal set of `others` that proves removing the policy changes no flow, in each
    of its directions; None when removing it changes a flow (or the solver gave up)."""
    chosen: set[int] = set()
    for direction in sorted(policy.policy_types):
        rivals = [p for p in others if direction in p.policy_types]
        proof = _Cover(context, policy, rivals, direction)
        if not proof.proves(rivals):
            return None
        cover = list(rivals)
        for rival in rivals:
            fewer = [p for p in cover if p is not rival]
            if proof.proves(fewer):
                cover = fewer
        chosen |= {id(p) for p in cover}
    return [p for p in others if id(p) in chosen]


class _Cover:
    """Whether some of the rival policies (the others of the namespace that have the
    direction) prove that removing the policy changes no verdict on that side. Removing it
    changes a verdict exactly where it isolates a pod no rival isolates and does not admit
    the flow, or where it admits a flow to a pod a rival isolates and no rival admits it; so
    a subset proves it when (a) wherever the policy isolates without admitting, a policy of
    the subset isolates too, and (b) whatever it admits to a pod any rival isolates, a
    policy of the subset admits.

    With admin policies, a pod no NetworkPolicy isolates is left to the Baseline tier: where
    the policy admits a flow that a Baseline rule may deny, removing it changes the verdict,
    so (a) also asks for isolation there."""

    def __init__(
        self,
        context: LintContext,
        policy: NetworkPolicy,
        rivals: list[NetworkPolicy],
        direction: Direction,
    ) -> None:
        self.context = context
        self.direction = direction
        self.selects = context.selects(policy, direction)
        self.admits = self._admitted([policy])
        self.isolated = self._isolated(rivals)
        self.baseline_denies = baseline_may_deny(context, direction)

    def proves(self, subset: list[NetworkPolicy]) -> bool:
        isolation = self.context.satisfiable(
            self.selects,
            z3.Or(z3.Not(self.admits), self.baseline_denies),
            z3.Not(self._isolated(subset)),
        )
        if isolation is not False:
            return False
        admission = self.context.satisfiable(
            self.admits, self.isolated, z3.Not(self._admitted(subset))
        )
        return admission is False

    def _isolated(self, policies: list[NetworkPolicy]) -> z3.BoolRef:
        return z3.Or([self.context.selects(p, self.direction) for p in policies])

    def _admitted(self, policies: list[NetworkPolicy]) -> z3.BoolRef:
        return z3.Or(
            [
                self.context.admits(p, index, self.direction)
                for p, _, index, _ in self.context.rules(policies, self.direction)
            ]
        )


@register(
    "NVL003",
    "redundant-rule",
    "Rule made redundant by other rules",
    FindingSeverity.WARNING,
    "Delete the rule (or the covering one, if the covering rule is the mistake): removing it "
    "changes no flow for any pod that could exist.",
    proved=True,
)
def redundant_rule(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    whole = {id(policy) for policy, _ in context.memo(redundant_policies)}
    for policy, direction, index, _ in context.rules(active=True):
        if id(policy) in whole:
            continue
        competitors = [
            (other, other_index)
            for other, _, other_index, _ in context.rules(
                context.namespace_policies(policy.namespace), direction=direction, active=True
            )
            if not (other is policy and other_index == index)
        ]
        if not competitors or rule_matters(context, policy, direction, index):
            continue
        cover = syntactic_cover(context, policy, direction, index)
        if cover is not None:
            covering = [cover]
        else:
            this = context.admits(policy, index, direction)
            rest = [context.admits(o, i, direction) for o, i in competitors]
            covering_terms = _covering(context, this, rest)
            if covering_terms is None:
                continue
            covering = [
                context.rule_ref(o, direction, i)
                for position, (o, i) in enumerate(competitors)
                if position in covering_terms
            ]
        ref = context.rule_ref(policy, direction, index)
        named = "; ".join(context.describe_rule(c, within=ref.policy) for c in covering)
        message = f"{direction.value.lower()}[{index}] is redundant: " + (
            f"everything it admits, {named} admits" + (" together" if len(covering) > 1 else "")
            if covering
            else "it admits no flow at all (its selectors can match no pod together)"
        )
        related = tuple(context.describe_rule(c) for c in covering)
        yield finding(info, message, **context.at_rule(ref), related=related)


def _covering(context: LintContext, this: z3.BoolRef, rest: list[z3.BoolRef]) -> set[int] | None:
    """The positions of rules in `rest` that together admit everything `this` admits (from
    an unsat core: `this` and no rule of the core is UNSAT), or None when `this` admits a
    flow no rule of `rest` admits (or the solver gave up)."""
    solver = context.solver
    indicators = [z3.Bool(f"lint.covers[{position}]") for position in range(len(rest))]
    solver.push()
    try:
        solver.add(this)
        solver.add(*[z3.Implies(a, z3.Not(t)) for a, t in zip(indicators, rest, strict=True)])
        if solver.check(*indicators) != z3.unsat:
            return None
        core = {str(term) for term in solver.unsat_core()}
    finally:
        solver.pop()
    return {position for position, a in enumerate(indicators) if str(a) in core}


@register(
    "NVL004",
    "redundant-policy",
    "Policy made redundant by other policies",
    FindingSeverity.WARNING,
    "Delete the policy or merge it into the policies that cover it: removing it changes no "
    "flow for any pod that could exist (but keep a policy over the whole namespace: it still "
    "guards the namespace if the covering policies change).",
    proved=True,
)
def redundant_policy(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    return _covered_policies(context, info, with_rules=True)


@register(
    "NVL005",
    "policy-without-effect",
    "Policy without rules whose isolation other policies already provide",
    FindingSeverity.WARNING,
    "Delete the policy: the pods it selects are already isolated for its policyTypes by "
    "other policies, and it admits nothing itself (but keep a default-deny over the whole "
    "namespace: it still guards the namespace if those policies change).",
    proved=True,
)
def policy_without_effect(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    return _covered_policies(context, info, with_rules=False)


GUARD_REMEDIATION = (
    "Keep it: a policy over the whole namespace isolates the pods created later too, and stays "
    "in force if the policies that cover it today change or go; if the overlap is unwanted, "
    "narrow or merge those instead."
)


def is_guard(policy: NetworkPolicy) -> bool:
    """The policy selects every pod of its namespace, those that do not exist yet too, and
    so isolates them for its policyTypes: a default-deny (or allow-all) kept on purpose."""
    return not policy.pod_selector.match_labels and not policy.pod_selector.match_expressions


def _covered_policies(context: LintContext, info: CheckInfo, with_rules: bool) -> Iterator[Finding]:
    """The redundant policies with rules (NVL004) or without (NVL005), with what covers them;
    a guard (see `is_guard`) is reported with the advice to keep it."""
    for policy, covering in context.memo(redundant_policies):
        if any(policy.rules(d) for d in policy.policy_types) is not with_rules:
            continue
        covers = ", ".join(covering)
        types = ", ".join(sorted(t.value for t in policy.policy_types))
        if with_rules and not covering:
            # NOTE: nothing covers it because it needs no cover: its rules admit every flow
            # of the pods it isolates (an allow-all), so it changes nothing on its own.
            message = "removing this policy changes no flow: its rules admit every flow of the "
            message += f"pods it isolates for {types} (an allow-all)"
        elif with_rules:
            message = "removing this policy changes no flow: its isolation and every rule are "
            message += f"covered by {covers}"
        else:
            message = f"no rules, and every pod it isolates for {types} is already isolated by "
            message += covers
        guard = is_guard(policy)
        if guard and not covering:
            message += f"; it selects every pod of namespace {policy.namespace}"
        elif guard:
            verb = "changes" if len(covering) == 1 else "change"
            message += (
                f"; but it selects every pod of namespace {policy.namespace}, so it also guards "
                f"pods that do not exist yet, and stays in force for {types} if {covers} {verb}"
            )
        yield finding(
            info,
            message,
            span=context.span_of(policy),
            object=context.policy_ref(policy),
            related=tuple(covering),
            remediation=GUARD_REMEDIATION if guard else None,
        )
