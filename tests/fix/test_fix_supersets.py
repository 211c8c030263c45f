"""A fix that makes every edit of another proved fix and more is not shown: it only adds
changes the invariant does not need (Online Boutique with paymentservice opened to every pod:
"narrow loadgenerator's egress, and narrow paymentservice's ingress" came second to "narrow
paymentservice's ingress")."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import netverify.engine.fix.search as search_module
from netverify.cli.app import app
from netverify.engine.fix.apply import composed
from netverify.engine.prove import prove
from netverify.model import LoadedCluster
from netverify.model.fix import Candidate, ChangeKind, FailedCandidate
from tests.engine.test_open_rules import SPEC, _cluster
from tests.fix.test_fix import (
    FORBID_CLIENT_KEEP_OTHER,
    FROM_EVERY_NAMESPACE,
    LIMITS,
    _first_candidates,
    _load,
    _write,
)


def test_no_shown_fix_makes_every_edit_of_another_and_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(_cluster({}), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    (invariant,) = json.loads(result.stdout)["specs"][0]["invariants"]
    edited = [
        frozenset((p["name"], p["direction"], p["rule"]) for p in fix["policies"])
        for fix in invariant["fixes"]
    ]
    assert edited[0] == {("payment", "Ingress", 0)}
    assert not any(first < second for first in edited for second in edited)


def test_a_candidate_beyond_a_proved_one_is_not_proved_at_the_last_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It could be neither shown nor extended: `_try` does not even apply it (and records
    no failure, which a proved fix keeps from being shown anyway)."""
    spec_path = _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_CLIENT_KEEP_OTHER)
    _, _, proposed = _first_candidates(spec_path)
    loaded, loaded_spec = _load(spec_path)
    narrowing = next(c for c in proposed if c.change is not ChangeKind.ADD_POLICY)
    isolating = next(c for c in proposed if c.change is ChangeKind.ADD_POLICY)
    beyond = composed(isolating, narrowing)
    before = prove(loaded, loaded_spec, LIMITS).results
    fixer = search_module.Fixer(loaded.cluster, loaded_spec, LIMITS, before)
    invariant = loaded_spec.spec.invariants[0]
    applied: list[Candidate] = []
    apply = search_module.applied

    def recording(loaded: LoadedCluster, candidate: Candidate) -> LoadedCluster:
        applied.append(candidate)
        return apply(loaded, candidate)

    monkeypatch.setattr(search_module, "applied", recording)
    failed: list[FailedCandidate] = []
    assert fixer._try(beyond, invariant, search_module.MAX_DEPTH, [narrowing], failed) == []
    assert not applied and not failed
    fixer._try(beyond, invariant, search_module.MAX_DEPTH, [], failed)
    assert applied == [beyond]
