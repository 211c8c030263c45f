"""The fixes together: only the invariants they can change (`changeable`) and that their
edits' shape does not keep holding (`still_holds`, or for an invariant with a fix in the
union, `kept_by_its_fix`) are proved again; the others keep their verdicts, and the
union's verdicts are a whole proof's."""

from pathlib import Path

import pytest

import netverify.engine.fix.jobs as jobs_module
from netverify.engine.fix import fix
from netverify.engine.fix.apply import applied
from netverify.engine.fix.jobs import Shared
from netverify.engine.fix.union import union
from netverify.engine.prove import prove
from netverify.engine.slicing import Slicer
from netverify.engine.workers import Workers
from netverify.model import LoadedCluster, LoadedSpec, Report
from tests.fix.test_fix import (
    FORBID_CLIENT,
    FORBID_CLIENT_KEEP_OTHER,
    FROM_EVERY_NAMESPACE,
    LIMITS,
    _load,
    _write,
)

CLIENT_REACHES_OTHER = """\
  - name: client-reaches-other
    require:
      from: {pod: a/client}
      to: {pod: a/other}
      ports: ["8080/TCP"]
"""
"""Holds (nothing isolates namespace a), and no policy of namespace b can decide it."""

A_NEVER_REACHES_SERVER_ON_9090 = """\
  - name: a-never-reaches-server-on-9090
    forbid:
      from: {namespace: a}
      to: {pod: b/server}
      ports: ["9090/TCP"]
"""
"""Holds (the server admits 8080 alone), and the fix only narrows what admits it."""


def _proved_names(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The invariants of each `prove` that `fix` itself calls (the spec, then the union)."""
    calls: list[list[str]] = []

    def recording(loaded: LoadedCluster, loaded_spec: LoadedSpec, *rest: object) -> Report:
        calls.append([invariant.name for invariant in loaded_spec.spec.invariants])
        return prove(loaded, loaded_spec, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs_module, "prove", recording)
    return calls


@pytest.mark.parametrize(
    ("spec", "union_proves"),
    [
        (FORBID_CLIENT + CLIENT_REACHES_OTHER, []),
        (FORBID_CLIENT_KEEP_OTHER, ["other-reaches-server"]),
        (FORBID_CLIENT + A_NEVER_REACHES_SERVER_ON_9090, []),
    ],
)
def test_the_union_proves_again_only_what_it_can_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, union_proves: list[str]
) -> None:
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, spec))
    calls = _proved_names(monkeypatch)
    report = fix(loaded, loaded_spec, LIMITS)
    every = [invariant.name for invariant in loaded_spec.spec.invariants]
    # NOTE: the forbid's own fix is the union: it holds there as its search proved.
    assert calls == [every, *([union_proves] if union_proves else [])]
    assert report.together_holds and report.together_safe
    (entry,) = report.invariants
    assert entry.fixes


OTHER_REACHES_SERVER_ON_9090 = """\
  - name: other-reaches-server-on-9090
    require:
      from: {pod: a/other}
      to: {pod: b/server}
      ports: ["9090/TCP"]
"""
"""Violated (the server admits 8080 alone); its fix adds a rule to the policy the forbid's
fix narrows: the union widens what the forbid's fix makes, and narrows what the require's
fix makes."""


def test_an_invariant_whose_fix_the_union_changes_otherwise_is_proved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = FORBID_CLIENT + OTHER_REACHES_SERVER_ON_9090
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, spec))
    calls = _proved_names(monkeypatch)
    report = fix(loaded, loaded_spec, LIMITS)
    assert all(entry.fixes for entry in report.invariants)
    every = [invariant.name for invariant in loaded_spec.spec.invariants]
    assert calls == [every, every]
    assert report.together_holds


@pytest.mark.parametrize(
    "spec",
    [
        FORBID_CLIENT + OTHER_REACHES_SERVER_ON_9090,
        FORBID_CLIENT + CLIENT_REACHES_OTHER,
        FORBID_CLIENT_KEEP_OTHER,
        FORBID_CLIENT + A_NEVER_REACHES_SERVER_ON_9090,
    ],
)
def test_the_unions_verdicts_are_a_whole_proofs(tmp_path: Path, spec: str) -> None:
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, spec))
    report = fix(loaded, loaded_spec, LIMITS)
    smallest = [entry.fixes[0].candidate for entry in report.invariants if entry.fixes]
    before = prove(loaded, loaded_spec, LIMITS).results
    spec_invariants = loaded_spec.spec.invariants
    with Workers(Shared(loaded.cluster, loaded_spec, LIMITS), jobs=1) as workers:
        slicers = [Slicer(loaded.cluster, loaded_spec.spec.settings, i) for i in spec_invariants]
        proved = union(workers, smallest, before, slicers, lambda candidate: None)
    assert proved is not None
    together, _, results = proved
    whole = prove(applied(loaded, together), loaded_spec, LIMITS).results
    assert [(r.name, r.status) for r in results] == [(r.name, r.status) for r in whole]
