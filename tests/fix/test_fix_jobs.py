"""`fix --jobs`: the violated invariants' searches run in worker processes, which are sent
the cluster alone; the report (where each fix and failed edit is written among it) is the
same as one process's."""

from pathlib import Path

import pytest
import typer.main

import netverify.engine.fix as fix_module
from netverify.cli.app import app
from netverify.engine.fix import fix
from tests.fix.test_fix import FROM_EVERY_NAMESPACE, LIMITS, _load, _write
from tests.fix.test_fix_failed import FORBID_AND_TWO_REQUIRES
from tests.fix.test_fix_reuse import TWO_FORBIDS_ONE_RULE

# The forbid twice: two violated invariants, neither with a proved fix.
TWO_FORBIDS_NO_FIX = FORBID_AND_TWO_REQUIRES + FORBID_AND_TWO_REQUIRES.split("invariants:\n")[
    1
].split("  - name: client-reaches-server")[0].replace(
    "nothing-from-a-reaches-server", "nothing-from-a-reaches-server-again"
)


@pytest.mark.parametrize("spec", [TWO_FORBIDS_ONE_RULE, TWO_FORBIDS_NO_FIX])
def test_the_report_does_not_depend_on_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    loaded, loaded_spec = _load(_write(tmp_path, FROM_EVERY_NAMESPACE, spec))
    in_workers = fix_module.in_workers
    searched: list[int] = []

    def recording(*args: object, **kwargs: object) -> object:
        searched.append(len(args[2]))  # type: ignore[arg-type]
        return in_workers(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fix_module, "in_workers", recording)
    one = fix(loaded, loaded_spec, LIMITS, jobs=1)
    assert not searched
    two = fix(loaded, loaded_spec, LIMITS, jobs=2)
    assert searched == [2]
    assert two == one
    entries = two.invariants
    assert len(entries) == 2
    assert all(entry.fixes for entry in entries) or all(entry.failed for entry in entries)
    for entry in entries:
        for shown in entry.fixes:
            assert shown.patches
            assert (shown.location is None) == (shown.candidate.edits[0].before is None)
        for failure in entry.failed:
            assert len(failure.locations) == len(failure.candidate.edits)
            assert any(failure.locations) or failure.candidate.edits[0].before is None


def test_fix_takes_jobs_as_prove_does() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]

    def jobs(command: str) -> tuple[object, ...]:
        (option,) = (p for p in commands[command].params if p.name == "jobs")
        return option.opts, option.help, option.default

    assert jobs("fix") == jobs("prove")
