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


def test_a_search_of_flows_from_external_addresses_runs_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search of a violated forbid from 0.0.0.0/0 (the solver's alone, the slowest)
    runs before the searches queued ahead of it, the others in the order their parts were
    proved."""
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
    external = [i.name for i in spec.invariants if i.source.ip is not None and i.name in searched]
    assert external == ["internet-never-reaches-prod-frontends"]
    assert searched[0] == external[0]
    assert len(searched) >= 3


def test_parts_searched_from_external_addresses_are_proved_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several parts, those holding an invariant from external addresses are queued
    first (their searches can start only once they are proved), the others in their order."""
    from netverify.engine.prove import _Part, _parts, _slowest_searches_first

    monkeypatch.setattr(slicing, "SLICING_THRESHOLD", 0)
    cluster, spec = _generated(tmp_path)
    invariants = spec.invariants
    parts = _parts(cluster, spec.settings, invariants)
    order = _slowest_searches_first(parts, invariants)

    def external(part: _Part) -> bool:
        return any(invariants[p].source.ip is not None for p in part.positions)

    assert sorted(map(id, order)) == sorted(map(id, parts))
    firsts = [part for part in order if external(part)]
    assert firsts and order[: len(firsts)] == firsts
    assert not external(parts[0])
    assert [p for p in order if not external(p)] == [p for p in parts if not external(p)]
