"""`fix`'s jobs for `Workers`: what they share (the cluster and spec, sent once to each
worker process) and the jobs themselves, which run in whichever process is free: a group of
violated invariants searched, and a part of the spec proved (as loaded, or with the fixes
together)."""

from collections.abc import Sequence
from typing import Any

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.apply import applied
from netverify.engine.fix.search import Fixer
from netverify.engine.prove import prove
from netverify.engine.slicing import Slice, Slicer, worth_slicing
from netverify.engine.workers import Workers
from netverify.model import Cluster, Invariant, InvariantResult, LoadedCluster, LoadedSpec
from netverify.model.fix import Candidate, InvariantFix


class Shared:
    """What every job of one `fix` starts from, and, in each process, the one `Fixer` its
    searches share (its caches: verdicts, kept encodings, the diff's counts)."""

    def __init__(self, cluster: Cluster, loaded_spec: LoadedSpec, limits: SolverLimits) -> None:
        self.cluster = cluster
        self.loaded_spec = loaded_spec
        self.limits = limits
        self._slicers: list[Slicer] | None = None
        self._fixer: Fixer | None = None

    def slicers(self) -> list[Slicer]:
        """This process's slicer of each invariant of the spec (each keeps what it learnt of
        the policies it was asked about)."""
        if self._slicers is None:
            settings = self.loaded_spec.spec.settings
            invariants = self.loaded_spec.spec.invariants
            self._slicers = [Slicer(self.cluster, settings, i) for i in invariants]
        return self._slicers

    def fixer(self, before: tuple[InvariantResult, ...]) -> Fixer:
        """This process's fixer; `before` (the spec's results) is the same for every
        search of one `fix`."""
        if self._fixer is None:
            self._fixer = Fixer(self.cluster, self.loaded_spec, self.limits, before, self.slicers())
        return self._fixer

    def __getstate__(self) -> dict[str, Any]:
        """Sent without the slicers and the fixer: a worker makes its own."""
        return {"cluster": self.cluster, "loaded_spec": self.loaded_spec, "limits": self.limits}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


def fixes_of_group(
    shared: Shared, item: tuple[tuple[InvariantResult, ...], list[InvariantResult]]
) -> list[InvariantFix]:
    """The fixes of a group of violated invariants searched together, given the spec's
    results."""
    before, group = item
    return shared.fixer(before).fixes_of(group)


def proved(
    workers: Workers[Shared],
    candidate: Candidate | None,
    invariants: Sequence[Invariant],
    slicers: Sequence[Slicer],
) -> dict[str, InvariantResult]:
    """The invariants' results (`slicers`: each one's) with the candidate applied, or on the
    cluster as loaded, by name: one job per part `prove` would prove them in (`_parts`), so
    that the processes share them. A part's results do not depend on the others: `prove`
    proves each part in a Z3 context of its own."""
    cluster = workers.shared.cluster
    if candidate is not None:
        cluster = applied(LoadedCluster(cluster=cluster), candidate).cluster
    jobs = [
        workers.submit(_proved_part, (candidate, part))
        for part in _parts(cluster, invariants, slicers)
    ]
    return {result.name: result for job in workers.completed(jobs) for result in job.result()}


def _parts(
    cluster: Cluster, invariants: Sequence[Invariant], slicers: Sequence[Slicer]
) -> list[tuple[Invariant, ...]]:
    """The invariants by their slice of the cluster, as `prove` groups them (on a cluster
    too small to slice, all of them), the largest first (pods and policies, times the
    invariants proved on them): started first, the longest proofs do not end alone after
    the short ones. Invariants of one name (a Service's backends, each maybe in a slice of
    its own) are combined by `prove` into one result: a spec with such names is one part."""
    names = [invariant.name for invariant in invariants]
    if not worth_slicing(cluster) or len(set(names)) < len(names):
        return [tuple(invariants)]
    parts: dict[Slice, list[Invariant]] = {}
    for invariant, slicer in zip(invariants, slicers, strict=True):
        parts.setdefault(slicer.slice(cluster), []).append(invariant)
    largest = sorted(
        parts.items(),
        key=lambda item: -(len(item[0].pods) + len(item[0].policies)) * len(item[1]),
    )
    return [tuple(part) for _, part in largest]


def _proved_part(
    shared: Shared, item: tuple[Candidate | None, tuple[Invariant, ...]]
) -> list[InvariantResult]:
    """The invariants' results with the candidate applied (or on the cluster as loaded)."""
    candidate, invariants = item
    head = LoadedCluster(cluster=shared.cluster)
    if candidate is not None:
        head = applied(head, candidate)
    spec = shared.loaded_spec.spec
    part = shared.loaded_spec.model_copy(
        update={"spec": spec.model_copy(update={"invariants": invariants})}
    )
    return list(prove(head, part, shared.limits).results)
