"""Which invariants of a spec a candidate can change the verdict of: those whose verdict a
changed policy, before or after the change, can decide (as slicing has it), and of those
that held, the ones its edits' shape keeps holding (`monotone`), and of those a fix in a
union makes hold, the ones the union's other edits keep holding. The others keep their
verdicts, so `fix` proves them neither for a candidate (`search`) nor for the fixes
together (`union`)."""

from collections.abc import Collection, Sequence

from netverify.engine.fix.apply import applied
from netverify.engine.fix.monotone import keeps_holding
from netverify.engine.slicing import Slicer
from netverify.model import (
    AdminPolicy,
    Cluster,
    Direction,
    Invariant,
    LoadedCluster,
    NetworkPolicy,
)
from netverify.model.fix import Candidate, PolicyEdit


def changeable(
    candidate: Candidate, invariants: Sequence[Invariant], slicers: Sequence[Slicer]
) -> tuple[Invariant, ...]:
    """The invariants (`slicers` gives each one's) whose verdict the candidate can change,
    in order. A new admin policy can decide any flow: then all of them."""
    if any(isinstance(edit.after, AdminPolicy) for edit in candidate.edits):
        return tuple(invariants)
    policies = [
        policy
        for edit in candidate.edits
        for policy in (edit.before, edit.after)
        if isinstance(policy, NetworkPolicy)
    ]
    return tuple(
        invariant
        for invariant, slicer in zip(invariants, slicers, strict=True)
        if any(slicer.depends_on(policy) for policy in policies)
    )


def still_holds(
    candidate: Candidate,
    invariants: Sequence[Invariant],
    slicers: Sequence[Slicer],
    isolating: Collection[tuple[str, Direction]],
    admin_policies: Sequence[object],
) -> bool:
    """Whether invariants of one name (`slicers`: each one's), which held, hold with the
    candidate for the shape of the edits their verdict can depend on alone
    (`keeps_holding`): a rule narrowed or removed keeps a `forbid`, and so does a new policy
    where no loaded one isolates pods (`isolating`). Admin tiers are left to the proof."""
    if admin_policies:
        return False
    return keeps_holding(invariants[0].kind, _deciding(candidate.edits, slicers), isolating)


def kept_by_its_fix(
    fix: Candidate,
    together: Candidate,
    invariants: Sequence[Invariant],
    slicers: Sequence[Slicer],
    cluster: Cluster,
) -> bool:
    """Whether invariants of one name (`slicers`: each one's), which their own `fix` makes
    hold, still hold with the fixes `together`: `still_holds` of the union's edits as they
    change the cluster the fix makes (its isolated pods, its policies as the edits'
    `before`), or none of those edits changes a policy their verdict can depend on. Admin
    policies are left to the proof."""
    if cluster.admin_policies or any(
        isinstance(edit.after, AdminPolicy) for edit in together.edits
    ):
        return False
    made = {edit.key: edit.after for edit in fix.edits}
    rebased = []
    for edit in together.edits:
        start = made.get(edit.key, edit.before)
        assert start is None or isinstance(start, NetworkPolicy)
        if start != edit.after:
            rebased.append(edit.model_copy(update={"before": start}))
    edits = _deciding(rebased, slicers)
    if not edits:
        return True
    head = applied(LoadedCluster(cluster=cluster), fix).cluster
    return keeps_holding(invariants[0].kind, edits, isolating(head))


def _deciding(edits: Sequence[PolicyEdit], slicers: Sequence[Slicer]) -> list[PolicyEdit]:
    """The edits of a policy, before or after, that can decide a verdict of the slicers'."""
    return [
        edit
        for edit in edits
        if any(
            isinstance(policy, NetworkPolicy) and slicer.depends_on(policy)
            for policy in (edit.before, edit.after)
            for slicer in slicers
        )
    ]


def isolating(cluster: Cluster) -> frozenset[tuple[str, Direction]]:
    """The namespaces and directions in which a policy of the cluster isolates pods."""
    return frozenset(
        (policy.namespace, direction)
        for policy in cluster.policies
        for direction in policy.policy_types
    )
