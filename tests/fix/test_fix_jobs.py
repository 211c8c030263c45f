"""`fix --jobs`: the violated invariants' searches are jobs for worker processes (which are
sent the cluster alone) and this one; the report (where each fix and failed edit is written
among it) is the same as one process's."""

from pathlib import Path
from typing import Any

import pytest
import typer.main

from netverify.cli.app import app
from netverify.engine.fix import fix
from netverify.engine.fix.jobs import fixes_of_group
from netverify.engine.workers import Workers
from tests.fix.test_fix import FROM_EVERY_NAMESPACE, LIMITS, _load, _write
from tests.fix.test_fix_failed import FORBID_AND_TWO_REQUIRES
from tests.fix.test_fix_reuse import TWO_FORBIDS_ONE_RULE

# A forbid with no proved fix, and a require on a port nothing admits: their candidates
# (narrowing the rule that admits a; a rule admitting 9090) have nothing in common.
NO_FIX_AND_A_FIX = (
    FORBID_AND_TWO_REQUIRES
    + """\
  - name: other-reaches-server-on-9090
    require:
      from: {pod: a/other}
      to: {pod: b/server}
      ports: ["9090/TCP"]
"""
)


def _recorded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of invariants of each search job `fix` queues (a group of them)."""
    submit = Workers.submit
    searched: list[int] = []

    def recording(self: Workers[object], work: Any, item: Any, *rest: Any) -> object:
        if work is fixes_of_group:
            searched.append(len(item[1]))
        return submit(self, work, item, *rest)

    monkeypatch.setattr(Workers, "submit", recording)
    return searched


def test_the_report_does_not_depend_on_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, NO_FIX_AND_A_FIX))
    searched = _recorded(monkeypatch)
    one = fix(loaded, loaded_spec, LIMITS, jobs=1)
    two = fix(loaded, loaded_spec, LIMITS, jobs=2)
    assert searched == [1, 1, 1, 1]
    assert two == one
    failing, fixed = two.invariants
    assert failing.failed and not failing.fixes
    for failure in failing.failed:
        assert len(failure.locations) == len(failure.candidate.edits)
        assert any(failure.locations) or failure.candidate.edits[0].before is None
    assert fixed.fixes
    for shown in fixed.fixes:
        assert shown.patches
        assert (shown.location is None) == (shown.candidate.edits[0].before is None)
    assert any(shown.location is not None for shown in fixed.fixes)


def test_invariants_violated_through_one_rule_are_searched_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their candidates are the same: one process asks each verdict and diff once."""
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, TWO_FORBIDS_ONE_RULE))
    searched = _recorded(monkeypatch)
    two = fix(loaded, loaded_spec, LIMITS, jobs=2)
    assert searched == [2]
    assert len(two.invariants) == 2 and all(entry.fixes for entry in two.invariants)
    assert two == fix(loaded, loaded_spec, LIMITS, jobs=1)


def test_fix_takes_jobs_as_prove_does() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]

    def jobs(command: str) -> tuple[object, ...]:
        (option,) = (p for p in commands[command].params if p.name == "jobs")
        return option.opts, option.help, option.default

    assert jobs("fix") == jobs("prove")
