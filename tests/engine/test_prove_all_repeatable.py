"""`prove --all` lists the same findings for the same input whatever ran before it in the
process. Z3 gives a term the id of one freed earlier, and breaks ties between models by ids,
so a search whose terms Python's cyclic collector frees at other moments (set by every
allocation made before) could return other models, so other groups or another subset of a
listing cut at its limit; `--jobs` would then change the output, as worker processes run
different searches before."""

import gc
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from netverify.engine import SolverLimits, prove, slicing
from netverify.engine.violations import violation_findings
from netverify.generate import SPEC_FILE, GeneratorOptions, write_cluster
from netverify.loading import load_manifests
from netverify.loading.settings import SettingsSources
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import (
    Cluster,
    Invariant,
    InvariantKind,
    LoadedCluster,
    LoadedSpec,
    Spec,
    Status,
    ViolationFindings,
)
from tests.engine.helpers import recorded_pools


@contextmanager
def _collecting_every(allocations: int) -> Iterator[None]:
    """Python's cyclic collector run after every so many allocations (restored after)."""
    saved = gc.get_threshold()
    gc.set_threshold(allocations)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _generated(folder: Path) -> tuple[Cluster, Spec]:
    write_cluster(GeneratorOptions(namespaces=10, pods=200, policies=60, seed=0, leak=True), folder)
    raw = read_spec(str(folder / SPEC_FILE))
    loaded = load_manifests(raw.manifest_paths, clusters=raw.clusters)
    return loaded.cluster, resolve_spec(raw, loaded.cluster, SettingsSources()).spec


def test_a_search_lists_the_same_findings_after_other_searches(tmp_path: Path) -> None:
    """The same search in one process after other searches, and with the collector running
    at other moments: the same findings each time (on this cluster, unpaused, the
    `pods: any` listing's witnesses moved with the collector running every few
    allocations)."""
    cluster, spec = _generated(tmp_path)
    searched = [
        invariant for invariant in spec.invariants if invariant.kind is InvariantKind.FORBID
    ]
    dev_to_prod = next(i for i in searched if i.name == "dev-never-reaches-prod")

    def listing() -> ViolationFindings:
        return violation_findings(cluster, spec.settings, dev_to_prod, SolverLimits(), 5)

    first = listing()
    for other in searched:
        violation_findings(cluster, spec.settings, other, SolverLimits(), 5)
    again = [listing()]
    for allocations in (1, 5, 10, 100_000):
        with _collecting_every(allocations):
            again.append(listing())
    assert first.findings
    assert again == [first] * len(again)


def test_parts_and_searches_share_one_pool_of_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `jobs` and several parts, the parts' proofs and the violation searches run in
    one pool of worker processes (each start imports netverify and unpickles the cluster)
    and in this process, one worker fewer than `jobs`, and every violated forbid still
    lists its findings."""
    pools = recorded_pools(monkeypatch)
    monkeypatch.setattr(slicing, "SLICING_THRESHOLD", 0)
    cluster, spec = _generated(tmp_path)
    report = prove(
        LoadedCluster(cluster=cluster),
        LoadedSpec(spec=spec),
        SolverLimits(),
        jobs=2,
        max_findings=5,
    )
    assert pools == [1]
    violated = [
        result
        for result in report.results
        if result.status is Status.VIOLATED and result.kind is InvariantKind.FORBID
    ]
    assert len(violated) >= 2
    assert all(
        result.all_findings is not None and result.all_findings.findings for result in violated
    )


def test_the_searches_likely_slowest_run_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The searches of a violated forbid into a namespace without a policy (dev into
    kube-system) and of one from 0.0.0.0/0 (`_search_rank` 0 and 1) run before the
    searches queued ahead of them, the others in the order their parts were proved."""
    # The module, not the function `netverify.engine.prove` names.
    proving = importlib.import_module("netverify.engine.prove")
    monkeypatch.setattr(slicing, "SLICING_THRESHOLD", 0)
    searched: list[str] = []
    search = proving._findings_of

    def recorded(prover: object, item: tuple[Invariant, object, int]) -> object:
        searched.append(item[0].name)
        return search(prover, item)

    monkeypatch.setattr(proving, "_findings_of", recorded)
    cluster, spec = _generated(tmp_path)
    prove(LoadedCluster(cluster=cluster), LoadedSpec(spec=spec), SolverLimits(), max_findings=5)
    slow = ["dev-reaches-kube-system-only-for-dns", "internet-never-reaches-prod-frontends"]
    assert sorted(searched[:2]) == slow
    others = [i.name for i in spec.invariants if i.name in searched and i.name not in slow]
    assert searched[2:] == others and others


def test_search_ranks(tmp_path: Path) -> None:
    """A forbid into a namespace no NetworkPolicy isolates for ingress ranks 0, one from
    external addresses 1, the others 2 (requires and reachables too)."""
    from netverify.engine.prove import _search_rank

    cluster, spec = _generated(tmp_path)
    ranks = {invariant.name: _search_rank(cluster, invariant) for invariant in spec.invariants}
    assert ranks["dev-reaches-kube-system-only-for-dns"] == 0
    assert ranks["internet-never-reaches-prod-frontends"] == 1
    assert ranks["internet-never-reaches-prod-databases"] == 1
    assert ranks["dev-never-reaches-prod"] == 2
    assert ranks["dev-pod-resolves-dns"] == 2  # a reachable into kube-system
    assert all(
        ranks[invariant.name] == 2
        for invariant in spec.invariants
        if invariant.kind is not InvariantKind.FORBID
    )


def test_parts_of_the_slowest_searches_are_proved_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several parts, those holding an invariant of a lower `_search_rank` are queued
    first (their searches can start only once they are proved), each rank in its order."""
    from netverify.engine.prove import _Part, _parts, _search_rank, _slowest_searches_first

    monkeypatch.setattr(slicing, "SLICING_THRESHOLD", 0)
    cluster, spec = _generated(tmp_path)
    invariants = spec.invariants
    parts = _parts(cluster, spec.settings, invariants)
    ranks = [_search_rank(cluster, invariant) for invariant in invariants]
    order = _slowest_searches_first(parts, ranks)

    def rank(part: _Part) -> int:
        return min(ranks[position] for position in part.positions)

    assert sorted(map(id, order)) == sorted(map(id, parts))
    assert [rank(part) for part in order] == sorted(rank(part) for part in parts)
    assert rank(parts[0]) == 2 and rank(order[0]) == 0
    for each in (0, 1, 2):
        assert [p for p in order if rank(p) == each] == [p for p in parts if rank(p) == each]
