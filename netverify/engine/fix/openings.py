"""Candidate openings of a blocked flow, for a violated `require` or `reachable`: each
blocking side gains a rule admitting exactly the invariant's other endpoint on its ports,
in an isolating policy or in a new one (a new NetworkPolicy also overrides a Baseline tier
Deny). A side an Admin tier rule denies gets none: fixes never weaken the cluster admin's
guardrails."""

from collections.abc import Iterator
from itertools import product

from netverify.engine.fix.patterns import matching_peers, matching_ports, pods_selector, unique_name
from netverify.engine.fix.policies import free_policy_name, policy_named, policy_with
from netverify.model import Cluster, Direction, Invariant, LabelSelector, PolicyRule
from netverify.model.decision import FlowDecision, Layer, SideDecision
from netverify.model.fix import Candidate, ChangeKind, PolicyEdit
from netverify.model.flow import Flow, PodEndpoint
from netverify.model.refs import ObjectRef


def require_candidates(
    cluster: Cluster, invariant: Invariant, decision: FlowDecision
) -> Iterator[Candidate]:
    """Repairs of a require or reachable whose counterexample `decision` is blocked: each
    blocking side admits exactly the invariant's other endpoint on its ports, in a policy
    that isolates it or in a new one; one candidate per combination of the sides' options."""
    blocked = [side for side in (decision.ingress, decision.egress) if not side.allowed]
    if not blocked or any(side.decided_by not in _OVERRIDABLE for side in blocked):
        return
    options = [list(_side_options(cluster, invariant, decision.flow, side)) for side in blocked]
    for combination in product(*options):
        edits = _one_per_policy(cluster, [edit for _, edit in combination])
        kinds = {kind for kind, _ in combination}
        change = ChangeKind.ADD_POLICY if kinds == {ChangeKind.ADD_POLICY} else ChangeKind.ADD_RULE
        where = " and ".join(
            f"{edit.key.namespace}/{edit.key.name} {_directions(edit)}" for edit in edits
        )
        yield Candidate(
            invariant=invariant.name,
            change=change,
            edits=edits,
            why=f"{where} admits exactly the required flows",
        )


def _one_per_policy(cluster: Cluster, edits: list[PolicyEdit]) -> tuple[PolicyEdit, ...]:
    """Both blocked sides' edits as one edit per policy: a policy that isolates both ends
    (the ingress of one and the egress of the other) gains both rules in one edit, and a
    second new policy is renamed; two edits of one policy would make two policies of one
    name, which no manifest can hold (and which a patch could not write)."""
    kept: dict[ObjectRef, PolicyEdit] = {}
    for edit in edits:
        earlier = kept.get(edit.key)
        if earlier is None:
            kept[edit.key] = edit
        elif edit.before is None:
            namespace = edit.key.namespace or ""
            taken = {policy.name for policy in cluster.policies_in(namespace)}
            taken |= {key.name for key in kept if key.namespace == namespace}
            renamed = edit.after.model_copy(update={"name": unique_name(edit.after.name, taken)})
            renamed_edit = edit.model_copy(update={"after": renamed})
            kept[renamed_edit.key] = renamed_edit
        else:
            field = "ingress" if edit.direction is Direction.INGRESS else "egress"
            after = earlier.after.model_copy(update={field: edit.after.rules(edit.direction)})
            kept[edit.key] = earlier.model_copy(update={"after": after})
    return tuple(kept.values())


def _directions(edit: PolicyEdit) -> str:
    """The directions whose rules the edit changes, for people."""
    before = edit.before
    if before is None:
        return edit.direction.value.lower()
    changed = [d for d in Direction if before.rules(d) != edit.after.rules(d)]
    return " and ".join(direction.value.lower() for direction in changed)


_OVERRIDABLE = (Layer.NETWORK_POLICY, Layer.BASELINE_TIER)
"""The layers whose verdict a NetworkPolicy change can turn (a NetworkPolicy that selects
a pod decides before the Baseline tier)."""


def _side_options(
    cluster: Cluster, invariant: Invariant, flow: Flow, side: SideDecision
) -> Iterator[tuple[ChangeKind, PolicyEdit]]:
    ingress = side.direction is Direction.INGRESS
    own = flow.destination if ingress else flow.source
    other = flow.source if ingress else flow.destination
    other_pattern = invariant.source if ingress else invariant.destination
    own_pattern = invariant.destination if ingress else invariant.source
    rule = PolicyRule(
        peers=matching_peers(other_pattern, other), ports=matching_ports(invariant.ports)
    )
    for ref in side.isolated_by:
        policy = policy_named(cluster, ref.namespace, ref.name)
        if policy is None:
            continue
        rules = (*policy.rules(side.direction), rule)
        field = "ingress" if ingress else "egress"
        yield (
            ChangeKind.ADD_RULE,
            PolicyEdit(
                before=policy,
                after=policy.model_copy(update={field: rules}),
                direction=side.direction,
                rule_index=len(rules) - 1,
            ),
        )
    if isinstance(own, PodEndpoint):
        name = free_policy_name(cluster, own.namespace.name, f"allow-{invariant.name}")
        new = policy_with(
            own.namespace.name,
            name,
            pods_selector(own_pattern, own) or LabelSelector(),
            side.direction,
            (rule,),
        )
        yield (
            ChangeKind.ADD_POLICY,
            PolicyEdit(before=None, after=new, direction=side.direction, rule_index=0),
        )
