"""`netverify fix`: for each violated invariant, the smallest proved policy change.

Candidates (`candidates`) are read off the invariant's counterexample, applied to an
in-memory copy of the cluster (`apply`) and proved with the whole spec by the prove engine:
one is kept only if its invariant now holds and every invariant that held still holds. A
candidate after which the invariant is violated through another rule is extended from the
new counterexample (up to `MAX_DEPTH` changes). The kept ones are ranked by the flows they
change between existing pods (then with external addresses), counted by the semantic diff
engine (`rank`), and written as patches (`patch`); the smallest of every invariant are
proved together (`union`). The searches of the violated invariants (`search`) are
independent: with `jobs` they run in worker processes (`Workers`, `jobs`), which are sent
the cluster alone; where each fix is written is said here.
"""

from concurrent.futures import Future
from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.candidates import candidates
from netverify.engine.fix.jobs import Shared, fixes_of_group, proved
from netverify.engine.fix.patch import file_patches
from netverify.engine.fix.search import MAX_DEPTH
from netverify.engine.fix.selection import Made, edits_key
from netverify.engine.fix.union import union
from netverify.engine.slicing import worth_slicing
from netverify.engine.workers import Workers
from netverify.model import (
    Cluster,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    SourceMap,
    Status,
)
from netverify.model.fix import Candidate, FilePatch, FixReport, InvariantFix, PolicyEdit
from netverify.model.refs import RuleRef, SourceSpan


def fix(
    loaded: LoadedCluster, loaded_spec: LoadedSpec, limits: SolverLimits, jobs: int = 1
) -> FixReport:
    """The proved fixes of every invariant the cluster violates, in spec order. `jobs` is
    how many processes search at once (`Workers`: this one and `jobs - 1` workers); the
    report does not depend on it. The spec is proved by jobs (`jobs`: a part each), as
    loaded and with the fixes together (`union`), and each search group is a job; this
    process writes where the fixes are written, and their patches, while the workers prove
    the union. On a cluster large enough to be sliced the workers start at once (forked, they
    take the first parts with this process; spawned, a start is ~1 s on the 5,000-pod tier:
    imports, the cluster unpickled, while this process takes the first parts)."""
    spec = loaded_spec.spec
    folder = _new_folder(loaded_spec)
    patching: dict[Made, Future[tuple[FilePatch, ...]]] = {}
    with Workers(Shared(loaded.cluster, loaded_spec, limits), jobs) as workers:
        if worth_slicing(loaded.cluster):
            workers.start()
        slicers = workers.shared.slicers()
        by_name = proved(workers, None, spec.invariants, slicers)
        before = tuple(by_name[name] for name in dict.fromkeys(i.name for i in spec.invariants))
        violated = [result for result in before if result.status is Status.VIOLATED]
        groups = _sharing(loaded.cluster, loaded_spec, violated)
        searches = [workers.submit(fixes_of_group, (before, group)) for group in groups]
        found = {
            entry.invariant: entry
            for search in workers.completed(searches)
            for entry in search.result()
        }
        searched = [found[result.name] for result in violated]

        # NOTE: where each fix is written, and the union's patches, are this process's own
        # jobs (`here`): it writes them while the workers prove the union.
        def placed(_: Shared, entry: InvariantFix) -> InvariantFix:
            return _placed(entry, loaded.sources, folder)

        def patches(_: Shared, candidate: Candidate) -> tuple[FilePatch, ...]:
            return file_patches(candidate, loaded.sources, folder)

        def told(candidate: Candidate) -> None:
            patching[edits_key(candidate)] = workers.submit(patches, candidate, here=True)

        placing = [workers.submit(placed, entry, here=True) for entry in searched]
        smallest = [entry.fixes[0].candidate for entry in searched if entry.fixes]
        together = union(workers, smallest, before, slicers, told)
        # NOTE: `completed` runs what this process alone can run, if it has not yet.
        list(workers.completed(placing))
        list(workers.completed(patching.values()))
    entries = tuple(future.result() for future in placing)
    if together is None:
        return FixReport(spec_file=spec.file, invariants=entries)
    candidate, left_out, results = together
    fixed = {entry.invariant for entry in entries if entry.fixes} - set(left_out)
    kept = {result.name for result in before if result.status is Status.HOLDS}
    return FixReport(
        spec_file=spec.file,
        invariants=entries,
        patches=patching[edits_key(candidate)].result(),
        left_out=left_out,
        together_holds=all(result.status is Status.HOLDS for result in results),
        together_safe=all(
            result.status is Status.HOLDS for result in results if result.name in fixed | kept
        ),
    )


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


__all__ = ["MAX_DEPTH", "fix"]
