"""`netverify fix`: for each violated invariant, the smallest proved policy change.

Candidates (`candidates`) are read off the invariant's counterexample, applied to an
in-memory copy of the cluster (`apply`) and proved with the whole spec by the prove engine:
one is kept only if its invariant now holds and every invariant that held still holds. A
candidate after which the invariant is violated through another rule is extended from the
new counterexample (up to `MAX_DEPTH` changes). The kept ones are ranked by the flows they
change between existing pods (then with external addresses), counted by the semantic diff
engine (`rank`), and written as patches (`patch`). The searches of the violated invariants
(`search`) are independent: with `jobs` they run in worker processes (`Workers`), which are
sent the cluster alone; where each fix is written is said here.
"""

from pathlib import Path
from typing import Any

from netverify.encoding.solver import SolverLimits, collector_paused
from netverify.engine.fix.apply import applied
from netverify.engine.fix.candidates import candidates
from netverify.engine.fix.deciding import changeable
from netverify.engine.fix.patch import file_patches
from netverify.engine.fix.search import MAX_DEPTH, Fixer
from netverify.engine.fix.selection import Made, edits_key, fixes_together
from netverify.engine.prove import prove
from netverify.engine.slicing import Slicer, worth_slicing
from netverify.engine.workers import Workers
from netverify.model import (
    Cluster,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    SourceMap,
    Status,
)
from netverify.model.fix import Candidate, FixReport, InvariantFix, PolicyEdit
from netverify.model.refs import RuleRef, SourceSpan


def fix(
    loaded: LoadedCluster, loaded_spec: LoadedSpec, limits: SolverLimits, jobs: int = 1
) -> FixReport:
    """The proved fixes of every invariant the cluster violates, in spec order. `jobs` is
    how many processes search at once (`Workers`: this one and `jobs - 1` workers); the
    report does not depend on it. On a cluster large enough to be sliced the workers start
    while this process proves the spec (a start is ~1 s on the 5,000-pod tier: imports,
    the cluster unpickled), each search group is a job, and each group's fixes are placed
    (patches written) as they come in; the spec is proved in this process, before and with
    the fixes together."""
    spec = loaded_spec.spec
    folder = _new_folder(loaded_spec)
    placed: dict[str, InvariantFix] = {}
    with Workers(_Search(loaded.cluster, loaded_spec, limits), jobs) as workers:
        if worth_slicing(loaded.cluster):
            workers.start()
        # NOTE: paused, the collector frees no term of the proof at a moment the workers'
        # starting thread could move (see `collector_paused`, `Workers.start`).
        with collector_paused():
            before = prove(loaded, loaded_spec, limits)
        violated = [result for result in before.results if result.status is Status.VIOLATED]
        groups = _sharing(loaded.cluster, loaded_spec, violated)
        searches = [workers.submit(_fixes_of_group, (before.results, group)) for group in groups]
        for search in workers.completed(searches):
            for entry in search.result():
                placed[entry.invariant] = _placed(entry, loaded.sources, folder)
    entries = tuple(placed[result.name] for result in violated)
    smallest = [entry.fixes[0].candidate for entry in entries if entry.fixes]
    union = _union(loaded, loaded_spec, limits, smallest, before.results)
    if union is None:
        return FixReport(spec_file=spec.file, invariants=entries)
    together, left_out, results = union
    fixed = {entry.invariant for entry in entries if entry.fixes} - set(left_out)
    kept = {result.name for result in before.results if result.status is Status.HOLDS}
    return FixReport(
        spec_file=spec.file,
        invariants=entries,
        patches=file_patches(together, loaded.sources, folder),
        left_out=left_out,
        together_holds=all(result.status is Status.HOLDS for result in results),
        together_safe=all(
            result.status is Status.HOLDS for result in results if result.name in fixed | kept
        ),
    )


class _Search:
    """What the search of every violated invariant of one spec starts from, shared with the
    worker processes (sent once to each), and, in each process, the one `Fixer` its
    searches share (its caches: verdicts, kept encodings, the diff's counts)."""

    def __init__(self, cluster: Cluster, loaded_spec: LoadedSpec, limits: SolverLimits) -> None:
        self.cluster = cluster
        self.loaded_spec = loaded_spec
        self.limits = limits
        self._fixer: Fixer | None = None

    def fixer(self, before: tuple[InvariantResult, ...]) -> Fixer:
        """This process's fixer; `before` (the spec's results) is the same for every
        search of one `fix`."""
        if self._fixer is None:
            self._fixer = Fixer(self.cluster, self.loaded_spec, self.limits, before)
        return self._fixer

    def __getstate__(self) -> dict[str, Any]:
        """Sent without the fixer: a worker makes its own."""
        return {"cluster": self.cluster, "loaded_spec": self.loaded_spec, "limits": self.limits}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


def _fixes_of_group(
    search: _Search, item: tuple[tuple[InvariantResult, ...], list[InvariantResult]]
) -> list[InvariantFix]:
    """The fixes of a group of violated invariants (`_sharing`), given the spec's results,
    in whichever process is free (`Workers`)."""
    before, group = item
    fixer = search.fixer(before)
    return [fixer.fixes(result) for result in group]


def _sharing(
    cluster: Cluster, loaded_spec: LoadedSpec, violated: list[InvariantResult]
) -> list[list[InvariantResult]]:
    """The violated invariants in groups, each searched in one process: those with a first
    candidate in common (violated through one rule, as the two dev-to-prod forbids of the
    planted leak are) ask the same verdicts of the same repaired clusters and diff the same
    fix, which a process of its own would do again."""
    spec = loaded_spec.spec.invariants
    groups: list[tuple[set[Made], list[InvariantResult]]] = []
    for result in violated:
        made: set[Made] = set()
        if result.counterexample is not None:
            invariant = next(i for i in spec if i.name == result.name)
            decision = result.counterexample.decision
            made = {edits_key(c) for c in candidates(cluster, invariant, decision, spec)}
        meeting = [group for group in groups if group[0] & made]
        groups = [group for group in groups if not group[0] & made]
        joined = made.union(*(group[0] for group in meeting))
        groups.append((joined, [r for group in meeting for r in group[1]] + [result]))
    order = {result.name: position for position, result in enumerate(violated)}
    ordered = [sorted(group, key=lambda result: order[result.name]) for _, group in groups]
    return sorted(ordered, key=lambda group: order[group[0].name])


def _new_folder(loaded_spec: LoadedSpec) -> Path | None:
    """Where new policies go as files of their own: a folder the spec loads whole."""
    folders = [Path(path) for path in loaded_spec.spec.manifests if Path(path).is_dir()]
    return folders[0] if folders else None


def _placed(entry: InvariantFix, sources: SourceMap, folder: Path | None) -> InvariantFix:
    """The invariant's fixes with the rule each is written at and its patches, and its
    failed candidates with where each edit is written."""
    fixes = tuple(
        fix.model_copy(
            update={
                "location": _written(fix.candidate.edits[0], sources, rule_of_policy=True),
                "patches": file_patches(fix.candidate, sources, folder),
            }
        )
        for fix in entry.fixes
    )
    failed = tuple(
        failure.model_copy(
            update={"locations": tuple(_written(e, sources) for e in failure.candidate.edits)}
        )
        for failure in entry.failed
    )
    return entry.model_copy(update={"fixes": fixes, "failed": failed})


def _written(
    edit: PolicyEdit, sources: SourceMap, rule_of_policy: bool = False
) -> SourceSpan | None:
    """Where the edited rule is written (its policy's line for a rule the edit adds, as
    `of_rule` falls back); None for a new policy. A fix's own location is its first
    edit's rule, the policy's first rule for an edit of the policy as a whole
    (`rule_of_policy`); a failed candidate's, the policy."""
    if edit.before is None:
        return None
    if edit.rule_index is None and not rule_of_policy:
        return sources.of_object(edit.key)
    ref = RuleRef(policy=edit.key, direction=edit.direction, index=edit.rule_index or 0)
    return sources.of_rule(ref)


def _union(
    loaded: LoadedCluster,
    loaded_spec: LoadedSpec,
    limits: SolverLimits,
    smallest: list[Candidate],
    before: tuple[InvariantResult, ...],
) -> tuple[Candidate, tuple[str, ...], tuple[InvariantResult, ...]] | None:
    """The smallest fixes together, the invariants whose fix is left out and still violated,
    and the spec's results with the union applied (`before`: without it). When a fix is
    left out (it edits rules another one edits), the fixes are also put together later ones
    first: a later, wider fix often covers an earlier one's invariant (only checkoutservice
    may reach paymentservice, so loadgenerator does not either). The order under which more
    invariants hold wins, spec order on a tie; a left-out invariant that holds anyway is not
    reported."""
    best: tuple[Candidate, tuple[str, ...], tuple[InvariantResult, ...]] | None = None
    for order in (smallest, smallest[::-1]):
        together, left_out = fixes_together(order)
        if together is None:
            return None
        results = _results_with(loaded, loaded_spec, limits, together, before)
        holding = {result.name for result in results if result.status is Status.HOLDS}
        if best is None or len(holding) > sum(r.status is Status.HOLDS for r in best[2]):
            best = together, tuple(name for name in left_out if name not in holding), results
        if not left_out:
            break
    return best


def _results_with(
    loaded: LoadedCluster,
    loaded_spec: LoadedSpec,
    limits: SolverLimits,
    together: Candidate,
    before: tuple[InvariantResult, ...],
) -> tuple[InvariantResult, ...]:
    """The spec's results with the fixes `together` applied: the invariants whose verdict
    they can change (`changeable`) proved again, the others' results as `before`."""
    spec = loaded_spec.spec
    slicers = [Slicer(loaded.cluster, spec.settings, invariant) for invariant in spec.invariants]
    names = {invariant.name for invariant in changeable(together, spec.invariants, slicers)}
    again = tuple(invariant for invariant in spec.invariants if invariant.name in names)
    if not again:
        return before
    part = loaded_spec.model_copy(update={"spec": spec.model_copy(update={"invariants": again})})
    proved = {
        result.name: result for result in prove(applied(loaded, together), part, limits).results
    }
    return tuple(proved.get(result.name, result) for result in before)


__all__ = ["MAX_DEPTH", "fix"]
