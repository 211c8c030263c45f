"""`fix --jobs`: the violated invariants' searches are jobs for worker processes (which are
sent the cluster alone) and this one; the report (where each fix and failed edit is written
among it) is the same as one process's."""

from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import typer.main

import netverify.engine.fix.jobs as jobs_module
from netverify.cli.app import app
from netverify.engine import slicing
from netverify.engine.fix import fix
from netverify.engine.fix.jobs import Shared, fixes_of_group, proved
from netverify.engine.prove import prove
from netverify.engine.slicing import Slicer
from netverify.engine.workers import Workers
from netverify.generate import SPEC_FILE, GeneratorOptions, write_cluster
from netverify.model import (
    Cluster,
    EndpointPattern,
    Invariant,
    InvariantKind,
    PodScope,
    Settings,
    Status,
)
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

    def recording(
        self: Workers[object], work: Any, item: Any, *rest: Any, **options: Any
    ) -> object:
        if work is fixes_of_group:
            searched.append(len(item[1]))
        return submit(self, work, item, *rest, **options)

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


def test_the_spec_proved_a_part_a_job_is_proved_as_prove_proves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fix` proves the spec one job per slice (`proved`), the largest first: the results
    are `prove`'s, to the counterexample, which the searches start from."""
    folder = tmp_path / "cluster"
    write_cluster(GeneratorOptions(namespaces=8, pods=120, policies=40, seed=5, leak=True), folder)
    monkeypatch.setattr(slicing, "SLICING_THRESHOLD", 0)
    monkeypatch.setattr(jobs_module, "worth_slicing", slicing.worth_slicing)
    loaded, loaded_spec = _load(folder / SPEC_FILE)
    invariants = loaded_spec.spec.invariants
    slicers = [Slicer(loaded.cluster, loaded_spec.spec.settings, i) for i in invariants]
    parts = jobs_module._parts(loaded.cluster, invariants, slicers)
    assert len(parts) > 1
    assert sorted(i.name for part in parts for i in part) == sorted(i.name for i in invariants)
    sizes = []
    for part in parts:
        part_slice = slicers[invariants.index(part[0])].slice(loaded.cluster)
        sizes.append((len(part_slice.pods) + len(part_slice.policies)) * len(part))
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    with Workers(Shared(loaded.cluster, loaded_spec, LIMITS), jobs=1) as workers:
        by_name = proved(workers, None, invariants, slicers)
    whole = prove(loaded, loaded_spec, LIMITS).results
    assert any(result.status is Status.VIOLATED for result in whole)
    assert [by_name[result.name] for result in whole] == list(whole)


def test_invariants_of_one_name_are_one_part() -> None:
    """A Service's backends are one invariant each, under its name: `prove` combines them,
    so they are proved in one job, and so is the rest of the spec."""
    loaded_cluster = Cluster(namespaces=(), pods=())
    same = Invariant(
        name="via-service",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(),
        destination=EndpointPattern(),
        pods=PodScope.EXISTING,
    )
    invariants = [same, same.model_copy(update={"pods": PodScope.ANY})]
    slicers = [Slicer(loaded_cluster, Settings(), i) for i in invariants]
    with patch.object(jobs_module, "worth_slicing", lambda cluster: True):
        assert jobs_module._parts(loaded_cluster, invariants, slicers) == [tuple(invariants)]
