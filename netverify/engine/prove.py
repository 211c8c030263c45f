"""Prove a spec's invariants against a loaded cluster.

Invariants with the same slice of the cluster (`netverify.engine.slicing`; the whole cluster
when it is small) share one encoding and one solver, each invariant in its own push/pop
frame; parts with different slices may be proved in parallel processes. A model is decoded
into a plain flow at once and replayed through the reference evaluator on the whole
cluster; if the two disagree the result is an internal error, never a verdict.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from itertools import groupby

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.solver import (
    Keep,
    SolverLimits,
    make_solver,
)
from netverify.engine.invariant_prover import InvariantProver, proved_one
from netverify.engine.replay import ReplayMismatch
from netverify.engine.scope import assumptions, enforced, plural, strict_caveats, unenforced
from netverify.engine.slicing import Slice, slice_for, worth_slicing
from netverify.engine.unmodelled import unmodelled_doubt
from netverify.engine.workers import Workers
from netverify.model import (
    Cluster,
    Direction,
    Invariant,
    InvariantKind,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    Report,
    Settings,
    Status,
    pod_at_first_address,
)
from netverify.model.results import SEVERITY
from netverify.semantics.patterns import endpoint_matches, namespace_matches

ONE_SHOT_CLASSES = 10_000
"""A sliced part whose encoding has at least this many pod classes checks its first query
on a solver of its own first (`InvariantProver`'s `alone`). There taking in the domain is
most of a query's work, and the general solver does it faster checked once: on the
50,000-pod tier (14,600-28,900 classes per hard slice) the slowest invariant went from
13.4 to 11.1 s of CPU. On the 5,000-pod tier (fewer classes than pods) it cost ~9%."""

Progress = Callable[[int, int, str], None]
"""Told (invariants done, invariants in all, what comes next) as proving goes on."""


def prove(
    loaded: LoadedCluster,
    loaded_spec: LoadedSpec,
    limits: SolverLimits,
    strict: bool = False,
    progress: Progress | None = None,
    all_profiles: bool = False,
    jobs: int = 1,
    max_findings: int | None = None,
    keep: Keep | None = None,
) -> Report:
    """One result per invariant, in spec order; one failing invariant does not stop the rest.

    With `strict`, a `holds` that rests on an assumption (see `strict_caveats`) is `unknown`.
    With `all_profiles`, each invariant is proved under every CNI profile (see
    `_under_every_profile`). `jobs` is how many processes prove at once (see
    `_PartProver.prove_all`); the report does not depend on it. With `max_findings`
    (`prove --all`), a violated forbid or require lists up to that many findings that
    cover its violating flows. `keep`: see `Keep` (not under `all_profiles`, whose
    profiles would each keep theirs).
    """
    if all_profiles:
        return _under_every_profile(
            loaded_spec,
            loaded.cluster,
            lambda under: prove(
                loaded, under, limits, strict, progress, jobs=jobs, max_findings=max_findings
            ),
        )
    spec = loaded_spec.spec
    loaded = enforced(loaded, spec.settings)
    prover = _PartProver(loaded.cluster, spec.settings, limits)
    settle = _Settling(loaded, loaded_spec, strict)
    with Workers(prover, jobs) as workers:
        results = prover.prove_all(spec.invariants, workers, settle, progress, keep, max_findings)
    return Report(
        spec_file=spec.file,
        results=combine_service_results(spec.invariants, results),
        assumptions=assumptions(loaded.cluster, spec.settings),
        sources=loaded.sources,
    )


@dataclass(frozen=True)
class _Settling:
    """What `prove` adds to the solver's result of an invariant before its findings are
    listed: the doubts of unmodelled objects, `strict`'s assumptions, and the invariant's
    place in its spec file."""

    loaded: LoadedCluster
    loaded_spec: LoadedSpec
    strict: bool

    def __call__(self, invariant: Invariant, result: InvariantResult) -> InvariantResult:
        cluster, settings = self.loaded.cluster, self.loaded_spec.spec.settings
        result = unmodelled_doubt(cluster, invariant, result)
        caveats = strict_caveats(cluster, settings, invariant) if self.strict else ()
        if result.status is Status.HOLDS and caveats:
            result = result.model_copy(
                update={
                    "status": Status.UNKNOWN,
                    "reason": "--strict: holds only by assumption: " + "; ".join(caveats),
                }
            )
        return result.model_copy(
            update={"location": self.loaded_spec.locations.get(invariant.name)}
        )


@dataclass(frozen=True)
class _Part:
    """Invariants proved on one encoding: their positions in the spec, and their slice of
    the cluster or None for the whole cluster."""

    positions: tuple[int, ...]
    slice: Slice | None


def _parts(cluster: Cluster, settings: Settings, invariants: Sequence[Invariant]) -> list[_Part]:
    """The invariants grouped by slice, in order of their first invariant; one part of
    them all on the whole cluster when it is too small to be worth slicing."""
    if not worth_slicing(cluster):
        return [_Part(tuple(range(len(invariants))), None)]
    grouped: dict[Slice, list[int]] = {}
    for position, invariant in enumerate(invariants):
        grouped.setdefault(slice_for(cluster, settings, invariant), []).append(position)
    return [_Part(tuple(positions), part) for part, positions in grouped.items()]


def _slowest_searches_first(parts: list[_Part], ranks: Sequence[int]) -> list[_Part]:
    """The parts by the lowest `_search_rank` of their invariants (`ranks`, by position),
    each rank in its order: a part's search can start only once the part is proved. The
    results do not depend on the order."""
    return sorted(parts, key=lambda part: min(ranks[position] for position in part.positions))


@dataclass(frozen=True)
class _PartProver:
    """What every part of one spec is proved with; sent once to each worker process."""

    cluster: Cluster
    settings: Settings
    limits: SolverLimits

    def prove_all(
        self,
        invariants: Sequence[Invariant],
        workers: "Workers[_PartProver]",
        settle: Callable[[Invariant, InvariantResult], InvariantResult],
        progress: Progress | None = None,
        keep: Keep | None = None,
        max_findings: int | None = None,
    ) -> list[InvariantResult]:
        """One result per invariant, in order, each `settle`d as its part is proved. With
        `max_findings`, each violated forbid or require with its findings
        (`_with_findings`), searched as soon as its part is proved.

        Invariants with the same slice share an encoding (`_parts`); where there are
        several parts, they are proved by the `workers` (this process among them), and a
        part's searches are queued behind the parts not yet proved as its results come in
        (in the pool's thread for a worker's): a costly search starts while the other parts
        are proved, not after them all. A search likely to be among the slowest
        (`_search_rank` at most `SLOW`) goes ahead of every queued job, and its part is
        proved first: last in line, it would run alone after the others. Each part's
        encoding, and each search's, lives in a fresh Z3 context, and a search's listing
        does not depend on what ran before it in the process (`violation_findings`), so
        the results do not depend on which process did what. `keep` is given the last
        part's encoding and solver when the parts are proved one after the other here
        (see `Keep`)."""
        parts = _parts(self.cluster, self.settings, invariants)
        ranks = [
            SLOW + 1 if max_findings is None else _search_rank(self.cluster, invariant)
            for invariant in invariants
        ]
        total = len(invariants)
        settled: list[InvariantResult | None] = [None] * total
        searches: dict[Future[InvariantResult], int] = {}

        def proved(part: _Part, results: list[InvariantResult]) -> None:
            for position, result in zip(part.positions, results, strict=True):
                invariant = invariants[position]
                settled[position] = result = settle(invariant, result)
                if max_findings is not None and _lists_findings(invariant, result):
                    search = workers.submit(
                        _findings_of,
                        (invariant, result, max_findings),
                        first=ranks[position] <= SLOW,
                    )
                    searches[search] = position

        if progress:
            progress(0, total, "encoding")
        if not workers.worth(len(parts)):
            done = 0

            def told(name: str) -> None:
                nonlocal done
                if progress:
                    progress(done, total, name)
                done += 1

            for index, part in enumerate(parts):
                last = keep if index == len(parts) - 1 else None
                proved(part, self.prove(invariants, part, told, last))
        else:
            order = _slowest_searches_first(parts, ranks)
            proofs = {
                workers.submit(_prove_part, (invariants, part), partial(proved, part)): part
                for part in order
            }
            finished = 0
            for proof in workers.completed(proofs):
                part = proofs[proof]
                proof.result()
                finished += len(part.positions)
                if progress:
                    progress(finished, total, invariants[part.positions[0]].name)
        for search in workers.completed(searches):
            settled[searches[search]] = search.result()
        return [result for result in settled if result is not None]

    def prove(
        self,
        invariants: Sequence[Invariant],
        part: _Part,
        told: Callable[[str], None] | None = None,
        keep: Keep | None = None,
    ) -> list[InvariantResult]:
        """The part's results, in the order of its positions; `told` hears each invariant's
        name before it is proved, `keep` the encoding and solver after the last."""
        members = [invariants[position] for position in part.positions]
        sliced = self.cluster if part.slice is None else part.slice.of(self.cluster)
        encoding = ClusterEncoding(sliced, self.settings, members, whole=self.cluster)
        solver = make_solver(self.limits)
        solver.add(encoding.domain)
        results = []
        for position, invariant in enumerate(members):
            if told:
                told(invariant.name)
            prover = InvariantProver(
                encoding,
                solver,
                invariant,
                self.limits,
                alone=position == 0
                and part.slice is not None
                and len(encoding.classes) >= ONE_SHOT_CLASSES,
            )
            results.append(proved_one(prover))
        if keep:
            keep(encoding)
            keep(solver)
        return results

    def with_findings(
        self, invariant: Invariant, result: InvariantResult, max_findings: int
    ) -> InvariantResult:
        """`_with_findings` on this prover's cluster, in a worker process or not."""
        return _with_findings(
            self.cluster, self.settings, invariant, result, self.limits, max_findings
        )


def _prove_part(
    prover: _PartProver, item: tuple[Sequence[Invariant], _Part]
) -> list[InvariantResult]:
    """`_PartProver.prove` of one part, in a worker process (`Workers`)."""
    return prover.prove(*item)


def _findings_of(
    prover: _PartProver, item: tuple[Invariant, InvariantResult, int]
) -> InvariantResult:
    """`_PartProver.with_findings` of one result, in a worker process (`Workers`)."""
    return prover.with_findings(*item)


def _with_findings(
    cluster: Cluster,
    settings: Settings,
    invariant: Invariant,
    result: InvariantResult,
    limits: SolverLimits,
    max_findings: int,
) -> InvariantResult:
    """The result with every violating flow as findings, when it is a violated forbid or
    require, searched on the invariant's slice where `prove` proves on slices; an internal
    error when a finding's witness is not confirmed."""
    if not _lists_findings(invariant, result):
        return result
    # NOTE: imported here: only `prove --all` needs the diff engine behind it.
    from netverify.engine.violations import violation_findings

    try:
        part = slice_for(cluster, settings, invariant) if worth_slicing(cluster) else None
        found = violation_findings(cluster, settings, invariant, limits, max_findings, part)
    except ReplayMismatch as mismatch:
        return result.model_copy(
            update={"status": Status.ERROR, "reason": f"internal error: {mismatch}"}
        )
    return result.model_copy(update={"all_findings": found})


def _search_rank(cluster: Cluster, invariant: Invariant) -> int:
    """How early the invariant's search (`prove --all`) should start, a guess of how long it
    takes (the listing is the same in any order): 0, a forbid into a namespace where no
    NetworkPolicy isolates for ingress (`_into_unguarded_namespace`); 1, a forbid whose
    flows may have an external end (`_may_have_an_external_end`); 2, any other."""
    if invariant.kind is not InvariantKind.FORBID:
        return 2
    if _into_unguarded_namespace(cluster, invariant):
        return 0
    return 1 if _may_have_an_external_end(invariant) else 2


SLOW = 1
"""The highest `_search_rank` of a search that goes ahead of the queued jobs."""


def _may_have_an_external_end(invariant: Invariant) -> bool:
    """Whether the invariant's flows may have an external address at an end: the bit sets
    answer those only between existing pods, for a forbid without ports and no admin
    policy (`CellRegion`); the rest the solver finds a witness at a time, its slowest way."""
    return not invariant.pods_only


def _into_unguarded_namespace(cluster: Cluster, invariant: Invariant) -> bool:
    """Whether the invariant's destinations include existing pods of a namespace where no
    NetworkPolicy isolates for ingress: every source that may send reaches them, so its
    violating flows form a product per group of sources alike (their egress policies, their
    labels, the pods that could exist among them). On the Large tier, the search of `dev`
    into `kube-system` (no policy) takes as long as the three other searches together."""
    pattern = invariant.destination
    guarded = {
        policy.namespace for policy in cluster.policies if Direction.INGRESS in policy.policy_types
    }
    return any(
        endpoint_matches(pattern, pod_at_first_address(namespace, pod))
        for namespace in cluster.namespaces
        # The namespace's own fields first: its pods are not looked at one by one for nothing.
        if namespace.name not in guarded and namespace_matches(pattern, namespace)
        for pod in cluster.pods_in(namespace.name)
    )


def _lists_findings(invariant: Invariant, result: InvariantResult) -> bool:
    """`prove --all` lists the violating flows of the result: a violated forbid or require."""
    return result.status is Status.VIOLATED and invariant.kind is not InvariantKind.REACHABLE


def combine_service_results(
    invariants: Sequence[Invariant], results: Sequence[InvariantResult]
) -> tuple[InvariantResult, ...]:
    """One result per spec invariant: the per-backend results of an invariant about a
    Service (consecutive, sharing its name) combine into one. Forbid and require hold only
    if they hold for every backend, so the worst backend's result stands; reachable holds if
    it holds for some backend, so the best one's does. The result names its backend."""
    combined: list[InvariantResult] = []
    for _, group in groupby(zip(invariants, results, strict=True), key=lambda pair: pair[1].name):
        members = list(group)
        through = members[0][0].through
        if through is None:
            combined += [result for _, result in members]
            continue
        pick = min if members[0][0].kind is InvariantKind.REACHABLE else max
        invariant, result = pick(members, key=lambda pair: SEVERITY[pair[1].status])
        assert invariant.through is not None
        backends = plural(len(members), "backend")
        note = (
            f"through Service {invariant.through.service} ({backends}): backend "
            f"{invariant.through.backend} on {invariant.through.ports}"
        )
        if result.status is Status.HOLDS and invariant.kind is not InvariantKind.REACHABLE:
            every = "its" if len(members) == 1 else "all"
            note = f"through Service {through.service}: holds for {every} {backends}"
        reason = note if result.reason is None else f"{note}; {result.reason}"
        combined.append(result.model_copy(update={"reason": reason}))
    return tuple(combined)


def _under_every_profile(
    loaded_spec: LoadedSpec, cluster: Cluster, prove_under: Callable[[LoadedSpec], Report]
) -> Report:
    """Each invariant proved under every CNI profile (`loaded_spec.profile_settings`); each
    result is that of the first profile where the invariant fares worst, with every
    profile's status in `profiles`. Profiles whose settings say the same of `cluster` are
    proved once (a priority limit that leaves out no policy says nothing)."""
    by_settings: dict[Settings, Report] = {}
    reports: dict[str, Report] = {}
    for name, settings in loaded_spec.profile_settings.items():
        if not unenforced(cluster, settings):
            settings = settings.model_copy(update={"admin_priority_max": None})
        if settings not in by_settings:
            spec = loaded_spec.spec.model_copy(update={"settings": settings})
            under = loaded_spec.model_copy(update={"spec": spec})
            by_settings[settings] = prove_under(under)
        reports[name] = by_settings[settings]
    first = next(iter(reports.values()))
    results = []
    for index in range(len(first.results)):
        statuses = {name: report.results[index].status for name, report in reports.items()}
        worst = max(reports, key=lambda name: SEVERITY[statuses[name]])
        chosen = reports[worst].results[index]
        results.append(chosen.model_copy(update={"profiles": statuses}))
    profiles = ", ".join(reports)
    return first.model_copy(
        update={
            "results": tuple(results),
            "assumptions": (
                *first.assumptions,
                f"each invariant proved under every CNI profile ({profiles}); the flow shown "
                "is from the first profile where it fares worst",
            ),
        }
    )
