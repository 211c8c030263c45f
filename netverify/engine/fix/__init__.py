"""`netverify fix`: for each violated invariant, the smallest proved policy change.

Candidates (`candidates`) are read off the invariant's counterexample, applied to an
in-memory copy of the cluster (`apply`) and proved with the whole spec by the prove engine:
one is kept only if its invariant now holds and every invariant that held still holds. A
candidate after which the invariant is violated through another rule is extended from the
new counterexample (up to `MAX_DEPTH` changes). The kept ones are ranked by the flows they
change between existing pods (then with external addresses), counted by the semantic diff
engine (`rank`), and written as patches (`patch`). The searches of the violated invariants
(`search`) are independent: with `jobs` they run in worker processes, which are sent the
cluster alone; where each fix is written is said here.
"""

from dataclasses import dataclass
from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.apply import applied
from netverify.engine.fix.candidates import candidates
from netverify.engine.fix.patch import file_patches
from netverify.engine.fix.search import MAX_DEPTH, Fixer
from netverify.engine.fix.selection import Made, edits_key, fixes_together
from netverify.engine.prove import prove
from netverify.engine.workers import in_workers
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
    how many processes search at once (`in_workers`); the report does not depend on it.
    The spec itself is proved in this process, before and with the fixes together: a
    worker's start (imports, the cluster unpickled: ~1 s of CPU on the 5,000-pod tier)
    costs about what proving its parts at once would save there."""
    spec = loaded_spec.spec
    before = prove(loaded, loaded_spec, limits)
    violated = [result for result in before.results if result.status is Status.VIOLATED]
    search = _Search(loaded.cluster, loaded_spec, limits, before.results)
    groups = _sharing(loaded.cluster, loaded_spec, violated)
    if jobs <= 1 or len(groups) <= 1:
        fixer = search.fixer()
        found = [fixer.fixes(result) for result in violated]
    else:
        by_name = {
            entry.invariant: entry
            for entries in in_workers(search, _fixes_in_worker, groups, jobs)
            for entry in entries
        }
        found = [by_name[result.name] for result in violated]
    folder = _new_folder(loaded_spec)
    entries = tuple(_placed(entry, loaded.sources, folder) for entry in found)
    smallest = [entry.fixes[0].candidate for entry in entries if entry.fixes]
    union = _union(loaded, loaded_spec, limits, smallest)
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


@dataclass(frozen=True)
class _Search:
    """What the search of every violated invariant of one spec starts from; sent once to
    each worker process."""

    cluster: Cluster
    loaded_spec: LoadedSpec
    limits: SolverLimits
    before: tuple[InvariantResult, ...]

    def fixer(self) -> Fixer:
        return Fixer(self.cluster, self.loaded_spec, self.limits, self.before)


_fixer: list[Fixer] = []
"""In a worker process: the fixer of its searches, whose caches they share."""


def _fixes_in_worker(search: _Search, group: list[InvariantResult]) -> list[InvariantFix]:
    """The fixes of a group of violated invariants (`_sharing`), in a worker process
    (`in_workers`)."""
    if not _fixer:
        _fixer.append(search.fixer())
    return [_fixer[0].fixes(result) for result in group]


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
) -> tuple[Candidate, tuple[str, ...], tuple[InvariantResult, ...]] | None:
    """The smallest fixes together, the invariants whose fix is left out and still violated,
    and the spec's results with the union applied. When a fix is left out (it edits rules
    another one edits), the fixes are also put together later ones first: a later, wider fix
    often covers an earlier one's invariant (only checkoutservice may reach paymentservice,
    so loadgenerator does not either). The order under which more invariants hold wins,
    spec order on a tie; a left-out invariant that holds anyway is not reported."""
    best: tuple[Candidate, tuple[str, ...], tuple[InvariantResult, ...]] | None = None
    for order in (smallest, smallest[::-1]):
        together, left_out = fixes_together(order)
        if together is None:
            return None
        results = prove(applied(loaded, together), loaded_spec, limits).results
        holding = {result.name for result in results if result.status is Status.HOLDS}
        if best is None or len(holding) > sum(r.status is Status.HOLDS for r in best[2]):
            best = together, tuple(name for name in left_out if name not in holding), results
        if not left_out:
            break
    return best


__all__ = ["MAX_DEPTH", "fix"]
