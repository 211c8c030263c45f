"""The smallest fixes of every violated invariant, together: one change for the whole spec,
proved as one."""

from collections.abc import Sequence

from netverify.engine.fix.apply import applied
from netverify.engine.fix.deciding import changeable
from netverify.engine.fix.jobs import Shared, proved_with
from netverify.engine.fix.selection import fixes_together
from netverify.engine.slicing import Slice, Slicer, worth_slicing
from netverify.engine.workers import Workers
from netverify.model import Cluster, Invariant, InvariantResult, LoadedCluster, Status
from netverify.model.fix import Candidate

Union = tuple[Candidate, tuple[str, ...], tuple[InvariantResult, ...]]
"""The fixes together, the invariants whose fix is left out and still violated, and the
spec's results with them applied."""


def union(
    workers: Workers[Shared],
    loaded: LoadedCluster,
    smallest: list[Candidate],
    before: tuple[InvariantResult, ...],
) -> Union | None:
    """The smallest fixes together (`before`: the spec's results without them). When a fix
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
        results = results_with(workers, loaded, together, before)
        holding = {result.name for result in results if result.status is Status.HOLDS}
        if best is None or len(holding) > sum(r.status is Status.HOLDS for r in best[2]):
            best = together, tuple(name for name in left_out if name not in holding), results
        if not left_out:
            break
    return best


def results_with(
    workers: Workers[Shared],
    loaded: LoadedCluster,
    together: Candidate,
    before: tuple[InvariantResult, ...],
) -> tuple[InvariantResult, ...]:
    """The spec's results with the fixes `together` applied: the invariants whose verdict
    they can change (`changeable`) proved again, one job per slice of the repaired cluster
    (`Workers`: a verdict does not depend on which invariants are proved beside it), the
    others' results as `before`."""
    spec = workers.shared.loaded_spec.spec
    slicers = [Slicer(loaded.cluster, spec.settings, invariant) for invariant in spec.invariants]
    names = {invariant.name for invariant in changeable(together, spec.invariants, slicers)}
    again = [(i, s) for i, s in zip(spec.invariants, slicers, strict=True) if i.name in names]
    if not again:
        return before
    parts = _parts(applied(loaded, together).cluster, again)
    jobs = [workers.submit(proved_with, (together, part)) for part in parts]
    proved = {result.name: result for job in workers.completed(jobs) for result in job.result()}
    return tuple(proved.get(result.name, result) for result in before)


def _parts(head: Cluster, again: Sequence[tuple[Invariant, Slicer]]) -> list[tuple[Invariant, ...]]:
    """The invariants by their slice of the repaired cluster (as `prove` groups them: the
    whole spec on a cluster too small to slice), every invariant of one name (a Service's
    backends) with the first one's."""
    if not worth_slicing(head):
        return [tuple(invariant for invariant, _ in again)]
    slice_of_name: dict[str, Slice] = {}
    parts: dict[Slice, list[Invariant]] = {}
    for invariant, slicer in again:
        part = slice_of_name.setdefault(invariant.name, slicer.slice(head))
        parts.setdefault(part, []).append(invariant)
    return [tuple(part) for part in parts.values()]
