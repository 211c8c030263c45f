"""Which invariants of a spec a candidate can change the verdict of: those whose verdict a
changed policy, before or after the change, can decide (as slicing has it). The others keep
their verdicts, so `fix` proves them neither for a candidate (`search`) nor for the fixes
together (`netverify.engine.fix`)."""

from collections.abc import Sequence

from netverify.engine.slicing import Slicer
from netverify.model import AdminPolicy, Invariant, NetworkPolicy
from netverify.model.fix import Candidate


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
