"""`fix`'s jobs for `Workers`: what they share (the cluster and spec, sent once to each
worker process) and the jobs themselves, which run in whichever process is free: a group of
violated invariants searched, and a part of the spec proved with the fixes together."""

from typing import Any

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.apply import applied
from netverify.engine.fix.search import Fixer
from netverify.engine.prove import prove
from netverify.model import Cluster, Invariant, InvariantResult, LoadedCluster, LoadedSpec
from netverify.model.fix import Candidate, InvariantFix


class Shared:
    """What every job of one `fix` starts from, and, in each process, the one `Fixer` its
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


def fixes_of_group(
    shared: Shared, item: tuple[tuple[InvariantResult, ...], list[InvariantResult]]
) -> list[InvariantFix]:
    """The fixes of a group of violated invariants searched together, given the spec's
    results."""
    before, group = item
    fixer = shared.fixer(before)
    return [fixer.fixes(result) for result in group]


def proved_with(
    shared: Shared, item: tuple[Candidate, tuple[Invariant, ...]]
) -> list[InvariantResult]:
    """The invariants' results with the candidate applied."""
    together, invariants = item
    head = applied(LoadedCluster(cluster=shared.cluster), together)
    spec = shared.loaded_spec.spec
    part = shared.loaded_spec.model_copy(
        update={"spec": spec.model_copy(update={"invariants": invariants})}
    )
    return list(prove(head, part, shared.limits).results)
