"""The diff's first search push runs beside the bit sets (`while_pushing`): the bit sets
must make no Z3 call meanwhile, as a Z3 context is not thread-safe."""

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest
import z3

import netverify.engine.diff.search as search
from netverify.encoding.solver import make_solver, while_pushing
from netverify.engine import SolverLimits
from netverify.engine.diff import diff
from netverify.loading import load_manifests
from netverify.model import NamespaceScope, PodScope, Settings

FIXTURES = Path(__file__).parent / "fixtures"


def test_while_pushing_pushes_once_and_runs_the_work() -> None:
    solver = make_solver(SolverLimits())
    x = z3.Int("overlap.x")
    solver.add(x > 1)
    ran: list[bool] = []
    while_pushing(solver, lambda: ran.append(gc.isenabled()))
    assert ran == [False]  # the collector is paused during the work
    assert gc.isenabled()
    assert solver.num_scopes() == 1
    solver.add(x < 1)
    assert solver.check() == z3.unsat
    solver.pop()
    assert solver.check() == z3.sat


def test_while_pushing_raises_the_works_error_and_undoes_the_push() -> None:
    solver = make_solver(SolverLimits())

    def fail() -> None:
        raise ValueError("work failed")

    with pytest.raises(ValueError, match="work failed"):
        while_pushing(solver, fail)
    assert solver.num_scopes() == 0  # the push is undone
    assert gc.isenabled()


def test_the_bit_sets_make_no_z3_call_while_the_search_pushes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    z3_calls: list[str] = []
    overlaps: list[int] = []

    def watched(solver: z3.Solver, work: Callable[[], object]) -> None:
        def profile(frame: FrameType, event: str, arg: object) -> None:
            if event in ("call", "c_call") and "/z3/" in frame.f_code.co_filename:
                z3_calls.append(frame.f_code.co_name)

        def traced() -> object:
            sys.setprofile(profile)
            try:
                return work()
            finally:
                sys.setprofile(None)

        overlaps.append(1)
        while_pushing(solver, traced)

    monkeypatch.setattr(search, "while_pushing", watched)
    report = diff(
        load_manifests([str(FIXTURES / "base")]),
        load_manifests([str(FIXTURES / "head")]),
        Settings(),
        PodScope.EXISTING,
        NamespaceScope.EXISTING,
        SolverLimits(),
    )
    assert report.findings
    assert overlaps == [1]
    assert z3_calls == []
