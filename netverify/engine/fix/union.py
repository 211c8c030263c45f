"""The smallest fixes of every violated invariant, together: one change for the whole spec,
proved as one."""

from collections.abc import Callable, Sequence

from netverify.engine.fix.deciding import changeable, isolating, kept_by_its_fix, still_holds
from netverify.engine.fix.jobs import Shared, proved
from netverify.engine.fix.selection import fixes_together
from netverify.engine.slicing import Slicer
from netverify.engine.workers import Workers
from netverify.model import InvariantResult, Status
from netverify.model.fix import Candidate

Union = tuple[Candidate, tuple[str, ...], tuple[InvariantResult, ...]]
"""The fixes together, the invariants whose fix is left out and still violated, and the
spec's results with them applied (read for their statuses: `results_with`)."""


def union(
    workers: Workers[Shared],
    smallest: list[Candidate],
    before: tuple[InvariantResult, ...],
    slicers: Sequence[Slicer],
    told: Callable[[Candidate], None],
) -> Union | None:
    """The smallest fixes together (`before`: the spec's results without them; `slicers`:
    each invariant's of the spec; `told` hears each union before it is proved). When a fix
    is left out (it edits rules another one edits), the fixes are also put together later
    ones first: a later, wider fix often covers an earlier one's invariant (only
    checkoutservice may reach paymentservice, so loadgenerator does not either). The order
    under which more invariants hold wins, spec order on a tie; a left-out invariant that
    holds anyway is not reported."""
    best: Union | None = None
    for order in (smallest, smallest[::-1]):
        together, left_out = fixes_together(order)
        if together is None:
            return None
        told(together)
        fixes = [candidate for candidate in order if candidate.invariant not in left_out]
        results = results_with(workers, together, before, slicers, fixes)
        holding = {result.name for result in results if result.status is Status.HOLDS}
        if best is None or len(holding) > sum(r.status is Status.HOLDS for r in best[2]):
            best = together, tuple(name for name in left_out if name not in holding), results
        if not left_out:
            break
    return best


def results_with(
    workers: Workers[Shared],
    together: Candidate,
    before: tuple[InvariantResult, ...],
    slicers: Sequence[Slicer],
    fixes: Sequence[Candidate] = (),
) -> tuple[InvariantResult, ...]:
    """The spec's results with the fixes `together` applied: the invariants whose verdict
    they can change (`changeable`) proved again, but for those that held and that the
    edits' shape keeps holding (`still_holds`), and those whose own fix (one of `fixes`,
    proved to make it hold) the union's other edits keep holding (`kept_by_its_fix`); the
    others' results as `before`. Only statuses are read: an invariant its fix keeps holding
    is said to hold, without a flow."""
    cluster, spec = workers.shared.cluster, workers.shared.loaded_spec.spec.invariants
    names = {invariant.name for invariant in changeable(together, spec, slicers)}
    held = {result.name for result in before if result.status is Status.HOLDS}
    own = {fix.invariant: fix for fix in fixes}
    isolated = isolating(cluster)
    kept_by_fix = set()
    for name in sorted(names):
        named = [(i, slicer) for i, slicer in zip(spec, slicers, strict=True) if i.name == name]
        invariants, their_slicers = [i for i, _ in named], [slicer for _, slicer in named]
        if name in held:
            if still_holds(together, invariants, their_slicers, isolated, cluster.admin_policies):
                names.discard(name)
        elif name in own and kept_by_its_fix(
            own[name], together, invariants, their_slicers, cluster
        ):
            names.discard(name)
            kept_by_fix.add(name)
    again = [(i, slicer) for i, slicer in zip(spec, slicers, strict=True) if i.name in names]
    by_name = (
        proved(workers, together, [i for i, _ in again], [slicer for _, slicer in again])
        if again
        else {}
    )
    return tuple(
        by_name.get(result.name) or (_holding(result) if result.name in kept_by_fix else result)
        for result in before
    )


def _holding(result: InvariantResult) -> InvariantResult:
    """The invariant's result as holding, without the flow that violated it."""
    return result.model_copy(
        update={
            "status": Status.HOLDS,
            "counterexample": None,
            "reason": None,
            "all_findings": None,
        }
    )
