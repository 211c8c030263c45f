"""What `fix` does once and reuses: an invariant's verdict per repaired cluster, a policy's
slicing test and term in the encodings of candidates, the ranking diff run the same way
whatever ran before it, and the encodings a search group extends its candidates from."""

import gc
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import netverify.engine.fix.rank as rank_module
import netverify.engine.fix.search as search_module
import netverify.engine.invariant_prover as prover_module
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.verdicts import Verdicts
from netverify.engine.slicing import Slicer
from netverify.model import (
    Cluster,
    Direction,
    Flow,
    Invariant,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    Report,
)
from netverify.model.diff import DiffReport
from tests.fix.test_fix import FROM_EVERY_NAMESPACE, KEEP_OTHER, LIMITS, _fix, _load, _write

# Two forbids violated through the same rule: their candidates make the same clusters, and
# each candidate is checked against the reachable that holds.
TWO_FORBIDS_ONE_RULE = f"""\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: client-never-reaches-server
    forbid:
      from: {{pod: a/client}}
      to: {{pod: b/server}}
  - name: client-never-reaches-server-on-8080
    forbid:
      from: {{pod: a/client}}
      to: {{pod: b/server}}
      ports: ["8080/TCP"]
{KEEP_OTHER}"""


def test_a_verdict_is_asked_once_per_repaired_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: Counter[tuple[tuple[str, ...], str]] = Counter()
    holds = Verdicts.holds

    def counting(self: Verdicts, head: Cluster, invariant: Invariant) -> bool | None:
        policies = tuple(policy.model_dump_json() for policy in head.policies)
        asked[policies, invariant.name] += 1
        return holds(self, head, invariant)

    monkeypatch.setattr(Verdicts, "holds", counting)
    report = _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    assert all(entry.fixes for entry in report.invariants)
    assert any(name == "other-reaches-server" for _, name in asked)
    assert max(asked.values()) == 1


def test_a_policy_is_tested_for_a_slice_once(tmp_path: Path) -> None:
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    cluster = loaded.cluster
    slicer = Slicer(cluster, loaded_spec.spec.settings, loaded_spec.spec.invariants[0])
    first = slicer.slice(cluster)
    ends = slicer.ends
    slicer.ends = ()  # asked again, the ends would say no policy is depended on
    assert slicer.slice(cluster) == first
    slicer.ends = ends
    assert first.policies


def test_the_ranking_diff_runs_with_the_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collecting: list[bool] = []
    diff = rank_module.diff

    def recording(*args: object, **kwargs: object) -> DiffReport:
        collecting.append(gc.isenabled())
        return diff(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rank_module, "diff", recording)
    assert gc.isenabled()
    _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    assert collecting and not any(collecting)
    assert gc.isenabled()


def test_encodings_of_candidates_share_the_terms_of_policies_left_alone(
    tmp_path: Path,
) -> None:
    """`with_policies` encodings reuse the term of each policy object they share; a fresh
    encoding builds its own (a term built again there would take other term ids)."""
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    cluster = loaded.cluster
    encoding = ClusterEncoding(cluster, loaded_spec.spec.settings)
    assert encoding.policies.admits_memo is None
    (policy,) = cluster.policies
    first = encoding.with_policies([policy])
    _ = first.allowed
    again = encoding.with_policies([policy, policy.model_copy(update={"name": "copy"})])
    _ = again.allowed
    memo = encoding.policies.admits_memo
    assert memo is not None and again.policies.admits_memo is memo
    assert [key for key in memo if key[0] == id(policy)] == [(id(policy), Direction.INGRESS)]
    assert len(memo) == 2


def test_no_candidate_is_bounded_when_every_proved_one_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound below a candidate's count only decides which candidates are diffed: with
    `MAX_SHOWN` or fewer proved, each is diffed and shown anyway."""
    bounded: list[Cluster] = []

    def bounding(base: Cluster, head: Cluster, *rest: object) -> int:
        bounded.append(head)
        return 0

    monkeypatch.setattr(search_module, "flow_count_at_least", bounding)
    monkeypatch.setattr(search_module, "MAX_SHOWN", 10)
    report = _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    assert all(1 < len(entry.fixes) < search_module.MAX_SHOWN for entry in report.invariants)
    assert not bounded
    monkeypatch.setattr(search_module, "MAX_SHOWN", 1)
    _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    assert bounded


TWO_DEV_NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: a1, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: a2, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {env: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a1, labels: {app: client}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a2, labels: {app: client}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: b, labels: {app: server}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
"""

# Two forbids alike but for their names: a dev namespace isolated leaves the other's flow,
# so each search extends its candidates from a new counterexample.
DEV_NEVER_REACHES_PROD_TWICE = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: dev-never-reaches-prod
    forbid:
      from: {namespace: {env: dev}}
      to: {namespace: {env: prod}}
  - name: dev-does-not-reach-prod-today
    pods: existing
    forbid:
      from: {namespace: {env: dev}}
      to: {namespace: {env: prod}}
"""


def _dev_never_reaches_prod_twice(
    tmp_path: Path,
) -> tuple[LoadedCluster, LoadedSpec, tuple[InvariantResult, ...]]:
    """The two alike forbids' cluster and spec, and their results."""
    (tmp_path / "cluster.yaml").write_text(TWO_DEV_NAMESPACES)
    (tmp_path / "policies.yaml").write_text(FROM_EVERY_NAMESPACE)
    (tmp_path / "spec.yaml").write_text(DEV_NEVER_REACHES_PROD_TWICE)
    loaded, loaded_spec = _load(tmp_path / "spec.yaml")
    return loaded, loaded_spec, search_module.prove(loaded, loaded_spec, LIMITS).results


def _proved_parts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The invariants of each part the search proves afresh, from now on."""
    proved: list[tuple[str, ...]] = []
    prove = search_module.prove

    def counting(head: LoadedCluster, part: LoadedSpec, limits: SolverLimits) -> Report:
        proved.append(tuple(invariant.name for invariant in part.spec.invariants))
        return prove(head, part, limits)

    monkeypatch.setattr(search_module, "prove", counting)
    return proved


def test_the_counterexample_to_extend_comes_from_the_groups_kept_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dev namespace isolated leaves the other's flow: the search extends the candidate
    from a counterexample proved on the encoding its group keeps, not afresh."""
    loaded, loaded_spec, before = _dev_never_reaches_prod_twice(tmp_path)
    proved = _proved_parts(monkeypatch)
    fixer = search_module.Fixer(loaded.cluster, loaded_spec, LIMITS, before)
    (entry,) = fixer.fixes_of(before[:1])
    assert entry.fixes and entry.tried > len(entry.fixes)
    assert not proved
    owners = {key[0] for key in fixer.verdicts.kept}
    assert ("dev-never-reaches-prod",) in owners


def test_a_groups_counterexamples_do_not_depend_on_what_its_process_searched_before(
    tmp_path: Path,
) -> None:
    """Each group asks its own kept encodings for the flows it extends from, so a group
    searched after another in one process (`-j 1`) finds what it finds alone (a worker)."""
    loaded, loaded_spec, before = _dev_never_reaches_prod_twice(tmp_path)
    after_another = search_module.Fixer(loaded.cluster, loaded_spec, LIMITS, before)
    after_another.fixes_of(before[:1])
    (second,) = after_another.fixes_of(before[1:])
    alone = search_module.Fixer(loaded.cluster, loaded_spec, LIMITS, before)
    (first,) = alone.fixes_of(before[1:])
    assert second.fixes and second.model_dump_json() == first.model_dump_json()


def test_a_groups_flows_are_read_less_thoroughly_than_proves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`prove` checks every readable preference and seeks a declared port; the flows a
    search extends from (`Verdicts.result`) are read without either."""
    loaded, loaded_spec, before = _dev_never_reaches_prod_twice(tmp_path)
    readable = prover_module.readable_flow
    asked: list[tuple[bool, bool]] = []

    def recording(*args: Any, **options: Any) -> Flow:
        asked.append((options["check_satisfied"], options["prefer_declared_port"]))
        return readable(*args, **options)

    monkeypatch.setattr(prover_module, "readable_flow", recording)
    search_module.prove(loaded, loaded_spec, LIMITS)
    assert asked and set(asked) == {(True, True)}
    asked.clear()
    search_module.Fixer(loaded.cluster, loaded_spec, LIMITS, before).fixes_of(before[:1])
    assert asked and set(asked) == {(False, False)}
