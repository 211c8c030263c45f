"""The search for one violated invariant's fixes: candidates read off its counterexample,
each applied and proved with the whole spec, extended from the new counterexample while the
invariant is still violated, the proved ones ranked by the flows they change."""

from collections.abc import Sequence

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.apply import applied, composed
from netverify.engine.fix.candidates import candidates, no_candidate_reason
from netverify.engine.fix.deciding import changeable, isolating, still_holds
from netverify.engine.fix.rank import (
    changed_flows,
    external_flow_count,
    flow_count,
    flow_count_at_least,
)
from netverify.engine.fix.selection import (
    Made,
    distinct,
    edits_key,
    makes_more_than,
    without_supersets,
)
from netverify.engine.fix.verdicts import Verdicts
from netverify.engine.prove import prove
from netverify.engine.slicing import Slicer
from netverify.model import (
    Cluster,
    Flow,
    Invariant,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    Status,
)
from netverify.model.fix import (
    Candidate,
    FailedCandidate,
    FailReason,
    InvariantFix,
    ProvedFix,
)

MAX_DEPTH = 3
"""The most changes one fix combines (a flow admitted by several rules needs one each)."""
MAX_TRIED = 24
"""The most candidates proved per invariant."""
MAX_SHOWN = 3
"""The most fixes shown per invariant, smallest first."""
MAX_FAILED = 5
"""The most failed candidates shown, with why, for an invariant with no proved fix."""


class Fixer:
    """The fixes of the violated invariants of one spec, one invariant at a time, with
    what their searches share: verdicts, kept encodings, the diff's counts."""

    def __init__(
        self,
        cluster: Cluster,
        loaded_spec: LoadedSpec,
        limits: SolverLimits,
        before: tuple[InvariantResult, ...],
        slicers: list[Slicer] | None = None,
    ) -> None:
        self.loaded = LoadedCluster(cluster=cluster)
        """The cluster, without where its objects are written: the search does not say
        where (`netverify.engine.fix` does), so a worker process is sent only the cluster."""
        self.loaded_spec = loaded_spec
        self.limits = limits
        self.held = {result.name for result in before if result.status is Status.HOLDS}
        self.searched = [result.name for result in before if result.status is Status.VIOLATED]
        """The invariants this fixer searches, in order: every violated one, or the group
        being searched (`fixes_of`), which owns the encodings its flows come from."""
        settings, invariants = loaded_spec.spec.settings, loaded_spec.spec.invariants
        self.slicers = slicers or [Slicer(cluster, settings, i) for i in invariants]
        """Per invariant of the spec: its slice, and whether a policy can decide its verdict
        (given: the ones this process made already)."""
        self.verdicts = Verdicts(cluster, settings, invariants, self.slicers, limits)
        self.isolating = isolating(cluster)
        """The namespaces and directions in which a loaded policy isolates pods (`_kept`)."""
        self.statuses: dict[tuple[Made, str], tuple[Status, str | None]] = {}
        """`_status` of each invariant asked about, by the cluster a candidate makes."""
        self.counts: dict[Made, tuple[int, int, int, bool]] = {}
        """The diff's counts (flows, external flows, findings, complete) of each cluster a
        ranked candidate makes: the candidates of two invariants violated through one rule
        are often the same."""
        self.bounds: dict[Made, int] = {}
        """`flow_count_at_least` of each cluster a proved candidate makes."""

    def fixes_of(self, group: Sequence[InvariantResult]) -> list[InvariantFix]:
        """The fixes of a group of violated invariants searched one after the other in this
        process, on encodings of their own for the flows they extend from (`_target`)."""
        self.searched = [result.name for result in group]
        return [self.fixes(result) for result in group]

    def fixes(self, result: InvariantResult) -> InvariantFix:
        invariant = next(i for i in self.loaded_spec.spec.invariants if i.name == result.name)
        entry = InvariantFix(invariant=result.name, location=result.location)
        if result.counterexample is None:
            return entry.model_copy(update={"reason": "no counterexample flow to repair"})
        queue = [
            (candidate, 1)
            for candidate in candidates(
                self.loaded.cluster,
                invariant,
                result.counterexample.decision,
                self.loaded_spec.spec.invariants,
            )
        ]
        if not queue:
            reason = no_candidate_reason(result.counterexample.decision)
            return entry.model_copy(update={"reason": reason})
        proved: list[Candidate] = []
        failed: list[FailedCandidate] = []
        tried = 0
        while queue and tried < MAX_TRIED:
            candidate, depth = queue.pop(0)
            tried += 1
            queue += [
                (further, depth + 1)
                for further in self._try(candidate, invariant, depth, proved, failed)
            ]
        if not proved:
            shown_failed = tuple(self._shown(failure) for failure in failed[:MAX_FAILED])
            return entry.model_copy(update={"tried": tried, "failed": shown_failed})
        shown = self._smallest(distinct(proved))
        return entry.model_copy(update={"fixes": shown, "tried": tried})

    def _shown(self, failure: FailedCandidate) -> FailedCandidate:
        """The failure with the flow that shows it. The flow is proved afresh here, only
        for the failures shown (the search reads only verdicts); the fresh proof is what
        is said: an `unknown` there makes the failure one."""
        update: dict[str, object] = {}
        if failure.flow is None and failure.reason is not FailReason.UNKNOWN:
            head = applied(self.loaded, failure.candidate)
            spec = self.loaded_spec.spec.invariants
            result = self._proved(head, [i for i in spec if i.name == failure.invariant])
            shown = result[failure.invariant]
            if shown.status is Status.VIOLATED and shown.counterexample is not None:
                update["flow"] = shown.counterexample.decision.flow
            elif shown.status is not Status.VIOLATED:
                update |= {"reason": FailReason.UNKNOWN, "detail": shown.reason}
        return failure.model_copy(update=update)

    def _smallest(self, proved: list[Candidate]) -> tuple[ProvedFix, ...]:
        """The `MAX_SHOWN` smallest fixes, ranked by the diff's counts. The diff of every
        candidate is most of `fix`'s time; the bit sets bound each candidate's count of
        changed flows from below in a fraction of it. Candidates are diffed in order of
        their bound until `MAX_SHOWN` completely counted fixes change fewer flows than the
        next bound: that candidate and the ones after it rank below those (fewer flows
        first, an incomplete count last), so they could not be shown. With `MAX_SHOWN`
        candidates or fewer every one is shown: none is bounded, each is diffed."""
        proved = without_supersets(proved)
        bounds = [self._bound(candidate) if len(proved) > MAX_SHOWN else 0 for candidate in proved]
        ranked: dict[int, ProvedFix] = {}
        for index in sorted(range(len(proved)), key=lambda k: bounds[k]):
            counted = sorted(fix.flows_changed for fix in ranked.values() if fix.counted_all)
            if len(counted) >= MAX_SHOWN and counted[MAX_SHOWN - 1] < bounds[index]:
                break
            ranked[index] = self._ranked(proved[index])
        smallest = sorted(
            (ranked[index] for index in sorted(ranked)),
            key=lambda fix: (
                not fix.counted_all,
                fix.flows_changed,
                fix.external_flows,
                fix.findings,
                len(fix.candidate.edits),
            ),
        )
        return tuple(smallest[:MAX_SHOWN])

    def _bound(self, candidate: Candidate) -> int:
        """`flow_count_at_least` of the cluster the candidate makes (once per cluster)."""
        bound = self.bounds.get(key := edits_key(candidate))
        if bound is None:
            head = applied(self.loaded, candidate).cluster
            settings = self.loaded_spec.spec.settings
            bound = self.bounds[key] = flow_count_at_least(self.loaded.cluster, head, settings)
        return bound

    def _try(
        self,
        candidate: Candidate,
        invariant: Invariant,
        depth: int,
        proved: list[Candidate],
        failed: list[FailedCandidate],
    ) -> list[Candidate]:
        """Prove the spec with `candidate` applied: keep it when it repairs the invariant and
        breaks nothing (in `proved`, else in `failed` with the invariant that failed); return
        its extensions when the invariant is violated another way.

        The invariant is proved first, then the others that held (most candidates leave it
        violated, and at `MAX_DEPTH` there are no extensions, so only verdicts matter).
        Verdicts come from encodings kept across candidates where they can (`Verdicts`),
        and so does the counterexample extensions start from (`_target`).

        A candidate that makes every edit of a proved one and more would not be shown, nor
        its failure (some fix is proved): it is proved only as far as needed to know its
        extensions (`tried` counts them), not at all at `MAX_DEPTH`, not beyond its
        invariant's verdict when that holds."""
        beyond = makes_more_than(candidate, proved)
        if beyond and depth >= MAX_DEPTH:
            return []
        head = applied(self.loaded, candidate)
        again = self._again(candidate, invariant)
        made = edits_key(candidate)
        status, detail = self._status(head, made, [i for i in again if i.name == invariant.name])
        if beyond and status is Status.HOLDS:
            return []
        if status is not Status.HOLDS and depth >= MAX_DEPTH:
            failed.append(self._failure(candidate, invariant, invariant.name, status, detail))
            return []
        others = [i for i in again if i.name in self.held]
        for name in dict.fromkeys(i.name for i in others):
            named = [i for i in others if i.name == name]
            if self._kept(candidate, named):
                continue
            other, why = self._status(head, made, named)
            if other is not Status.HOLDS:
                failed.append(self._failure(candidate, invariant, name, other, why))
                return []
        if status is Status.HOLDS:
            proved.append(candidate)
            return []
        target = self._target(head, invariant)
        if target.status is not Status.VIOLATED or target.counterexample is None:
            failed.append(
                self._failure(candidate, invariant, invariant.name, target.status, target.reason)
            )
            return []
        flow = target.counterexample.decision.flow
        failed.append(self._failure(candidate, invariant, invariant.name, target.status, flow=flow))
        further = candidates(
            head.cluster,
            invariant,
            target.counterexample.decision,
            self.loaded_spec.spec.invariants,
        )
        return [composed(candidate, then) for then in further]

    def _kept(self, candidate: Candidate, invariants: list[Invariant]) -> bool:
        """Whether the invariant (held before) holds with the candidate for the shape of
        the edits its verdict can depend on alone (`still_holds`)."""
        spec = self.loaded_spec.spec.invariants
        slicers = [self.slicers[spec.index(invariant)] for invariant in invariants]
        return still_holds(
            candidate, invariants, slicers, self.isolating, self.loaded.cluster.admin_policies
        )

    def _status(
        self, head: LoadedCluster, made: Made, invariants: list[Invariant]
    ) -> tuple[Status, str | None]:
        """The status of the invariant (one, or a Service's backends under one name) with
        the candidate applied: from a kept encoding (whose `violated` may be an `unknown` a
        fresh proof would find; only `holds` is acted on), else proved afresh. Once per
        cluster the candidate `made`: the invariants violated through one rule have the
        same candidates, and each asks about the invariants that held. With it, prove's
        reason when a proof gave one (an unknown's)."""
        key = made, invariants[0].name
        status = self.statuses.get(key)
        if status is None:
            status = self.statuses[key] = self._fresh_status(head, invariants)
        return status

    def _fresh_status(
        self, head: LoadedCluster, invariants: list[Invariant]
    ) -> tuple[Status, str | None]:
        """The status, and prove's reason when a proof gave it."""
        if len(invariants) == 1:
            verdict = self.verdicts.holds(head.cluster, invariants[0])
            if verdict is not None:
                return Status.HOLDS if verdict else Status.VIOLATED, None
        (result,) = self._proved(head, invariants).values()
        return result.status, result.reason

    def _failure(
        self,
        candidate: Candidate,
        target: Invariant,
        name: str,
        status: Status,
        detail: str | None = None,
        flow: Flow | None = None,
    ) -> FailedCandidate:
        """The candidate for `target`, failed because invariant `name` ended `status`
        (`detail`: prove's reason, kept for an unknown)."""
        if status is not Status.VIOLATED:
            reason = FailReason.UNKNOWN
        elif name == target.name:
            reason = FailReason.STILL_VIOLATED
        else:
            reason = FailReason.BREAKS_INVARIANT
        kind = next(i.kind for i in self.loaded_spec.spec.invariants if i.name == name)
        return FailedCandidate(
            candidate=candidate,
            reason=reason,
            invariant=name,
            kind=kind,
            flow=flow,
            detail=detail if reason is FailReason.UNKNOWN else None,
        )

    def _target(self, head: LoadedCluster, invariant: Invariant) -> InvariantResult:
        """The invariant's result with the candidate applied: the counterexample the
        extensions start from. It is proved on an encoding this search group keeps
        (`Verdicts.result`): a group's candidates come in one order wherever it is searched,
        so its flows do too, without a fresh encoding per candidate (most of a fresh proof's
        time). Proved afresh where that encoding gives no counterexample (an `unknown`, admin
        policies, a Service: its backends' invariants, of one name, proved as one)."""
        result = self.verdicts.result(head.cluster, invariant, tuple(self.searched))
        if result is None or result.status is not Status.VIOLATED or result.counterexample is None:
            named = [i for i in self.loaded_spec.spec.invariants if i.name == invariant.name]
            result = self._proved(head, named)[invariant.name]
        return result

    def _again(self, candidate: Candidate, target: Invariant) -> tuple[Invariant, ...]:
        """The target and every invariant whose verdict the candidate can change
        (`changeable`), in spec order; the others are not proved again."""
        spec = self.loaded_spec.spec.invariants
        names = {target.name} | {i.name for i in changeable(candidate, spec, self.slicers)}
        return tuple(i for i in spec if i.name in names)

    def _proved(
        self, head: LoadedCluster, invariants: Sequence[Invariant]
    ) -> dict[str, InvariantResult]:
        """The invariants' results with the candidate applied, by name."""
        if not invariants:
            return {}
        spec = self.loaded_spec.spec
        part = self.loaded_spec.model_copy(
            update={"spec": spec.model_copy(update={"invariants": tuple(invariants)})}
        )
        return {result.name: result for result in prove(head, part, self.limits).results}

    def _ranked(self, candidate: Candidate) -> ProvedFix:
        counts = self.counts.get(key := edits_key(candidate))
        if counts is None:
            head = applied(self.loaded, candidate)
            report = changed_flows(self.loaded, head, self.loaded_spec.spec.settings, self.limits)
            counts = self.counts[key] = (
                flow_count(report, self.loaded.cluster),
                external_flow_count(report),
                len(report.findings),
                report.complete,
            )
        return ProvedFix(
            candidate=candidate,
            flows_changed=counts[0],
            external_flows=counts[1],
            findings=counts[2],
            counted_all=counts[3],
        )
