"""`netverify fix` with no proved fix says what it tried and why each candidate failed:
the invariant still violated (with its flow), another invariant broken (with the flow it
now allows or blocks), or the solver giving up."""

import json
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.model import Flow, InvariantKind
from netverify.model.fix import Candidate, ChangeKind, FailedCandidate, FailReason
from netverify.report.fix import _failure_why
from tests.fix.test_fix import DEFAULT_DENY, FROM_EVERY_NAMESPACE, _fix, _write

# Every pod of a must reach the server, and nothing may: no change can satisfy both.
FORBID_AND_TWO_REQUIRES = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: nothing-from-a-reaches-server
    forbid:
      from: {namespace: a}
      to: {pod: b/server}
  - name: client-reaches-server
    require:
      from: {pod: a/client}
      to: {pod: b/server}
      ports: ["8080/TCP"]
  - name: other-reaches-server
    require:
      from: {pod: a/other}
      to: {pod: b/server}
      ports: ["8080/TCP"]
"""


def test_no_fix_lists_the_failed_candidates_with_why(tmp_path: Path) -> None:
    report = _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_AND_TWO_REQUIRES))
    (entry,) = report.invariants
    assert not entry.fixes and entry.failed
    assert len(entry.failed) == min(entry.tried, 5)
    broken = {f.invariant for f in entry.failed if f.reason is FailReason.BREAKS_INVARIANT}
    assert broken <= {"client-reaches-server", "other-reaches-server"} and broken
    for failure in entry.failed:
        assert failure.reason is not FailReason.UNKNOWN
        assert failure.flow is not None
        assert len(failure.locations) == len(failure.candidate.edits)
        if failure.reason is FailReason.BREAKS_INVARIANT:
            # the flow the broken require now blocks is one it asks for
            assert failure.flow.port == 8080
    narrowed = [f for f in entry.failed if f.candidate.edits[0].before is not None]
    assert narrowed and all(str(f.locations[0]).endswith("policies.yaml:8") for f in narrowed)


def test_no_fix_text_and_json_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_AND_TWO_REQUIRES)
    monkeypatch.chdir(tmp_path)
    text = CliRunner().invoke(app, ["fix", "spec.yaml"])
    assert text.exit_code == 1
    lines = text.stdout.splitlines()
    failed = [line for line in lines if line.startswith("  failed: ")]
    assert failed
    assert any(
        "b/from-everywhere ingress[0] (policies.yaml:8)" in line
        and why.startswith("    why: breaks `require ")
        and "(now blocked: a/" in why
        for line, why in pairwise(lines)
    )
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--format", "json"])
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)["specs"][0]["invariants"]
    assert entry["fixes"] == [] and len(entry["failed"]) == len(failed)
    for item in entry["failed"]:
        assert item["reason"] in {"still-violated", "breaks-invariant", "unknown"}
        assert item["change"] in {kind.value for kind in ChangeKind}
        assert item["why"] and item["does"] and item["policies"]
    if entry["tried"] > len(failed):
        assert f"  and {entry['tried'] - len(failed)} more" in text.stdout


def test_a_fixed_invariant_has_no_failed_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = FORBID_AND_TWO_REQUIRES.split("  - name: client-reaches-server")[0].replace(
        "{namespace: a}", "{pod: a/client}"
    )
    _write(tmp_path, FROM_EVERY_NAMESPACE, spec)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["specs"][0]["invariants"]
    assert entry["fixes"] and "failed" not in entry


def _failure(reason: FailReason, invariant: str, flow: Flow | None = None) -> FailedCandidate:
    candidate = Candidate(invariant="target", change=ChangeKind.REMOVE_RULE, edits=(), why="x")
    kind = InvariantKind.FORBID if invariant == "target" else InvariantKind.REQUIRE
    return FailedCandidate(
        candidate=candidate, reason=reason, invariant=invariant, kind=kind, flow=flow
    )


def test_an_unknown_says_the_solver_gave_up() -> None:
    assert _failure_why(_failure(FailReason.UNKNOWN, "target")) == (
        "could not be proved (solver unknown)"
    )
    assert _failure_why(_failure(FailReason.UNKNOWN, "keep")) == (
        "could not prove `require keep` still holds (solver unknown)"
    )
    assert _failure_why(_failure(FailReason.STILL_VIOLATED, "target")) == (
        "the invariant still fails"
    )


def test_an_unknown_with_a_reason_says_it() -> None:
    """Prove's reason, when the failure has one, replaces "solver unknown"."""
    failure = _failure(FailReason.UNKNOWN, "keep").model_copy(update={"detail": "why"})
    assert _failure_why(failure) == "could not prove `require keep` still holds: why"


# Every pod of a must reach the server, which nothing admits, and the client may not.
REQUIRE_AGAINST_FORBID = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: a-reaches-server
    require:
      from: {namespace: a}
      to: {pod: b/server}
      ports: ["8080/TCP"]
  - name: client-never-reaches-server
    forbid:
      from: {pod: a/client}
      to: {pod: b/server}
"""


def test_a_failed_added_rule_is_located_at_its_policy(tmp_path: Path) -> None:
    report = _fix(_write(tmp_path, DEFAULT_DENY, REQUIRE_AGAINST_FORBID))
    (entry,) = report.invariants
    assert entry.invariant == "a-reaches-server" and not entry.fixes
    added = [
        (failure, location)
        for failure in entry.failed
        for edit, location in zip(failure.candidate.edits, failure.locations, strict=True)
        if edit.before is not None
    ]
    assert added
    for failure, location in added:
        assert failure.reason is FailReason.BREAKS_INVARIANT
        assert failure.invariant == "client-never-reaches-server"
        assert str(location).endswith("policies.yaml:2")
