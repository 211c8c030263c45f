"""`check_with_fallback`: a query that exhausts the QF_LIA solver's first-try budget is
answered by Z3's general solver, deterministically, and within the user's limits."""

import pytest
import z3

from netverify.encoding import solver as solver_module
from netverify.encoding.solver import SolverLimits, check_with_fallback, make_solver
from netverify.engine import prove
from netverify.loading import load_manifests
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import Status

SMALL_BUDGET = 500
"""Resource units: fewer than pigeonhole(6) needs, sat or unsat (it takes ~1-100k)."""


def _pigeonhole(solver: z3.Solver, pigeons: int, holes: int) -> None:
    """Each pigeon in a hole, no two in one: unsat when pigeons > holes."""
    xs = [z3.Int(f"pigeon{index}") for index in range(pigeons)]
    solver.add(*[z3.And(x >= 0, x < holes) for x in xs])
    solver.add(*[xs[i] != xs[j] for i in range(pigeons) for j in range(i)])


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_module, "FIRST_TRY_RLIMIT", SMALL_BUDGET)


@pytest.mark.usefixtures("small_budget")
@pytest.mark.parametrize(("holes", "expected"), [(5, z3.unsat), (6, z3.sat)])
def test_a_query_over_budget_is_answered_by_the_general_solver(
    holes: int, expected: z3.CheckSatResult
) -> None:
    solver = make_solver(SolverLimits())
    _pigeonhole(solver, 6, holes)
    outcome, answered = check_with_fallback(solver, SolverLimits())
    assert outcome == expected
    assert answered is not solver, "the first try ran out of its budget"
    if expected == z3.sat:
        model = answered.model()
        places = {model.eval(z3.Int(f"pigeon{index}")).as_long() for index in range(6)}
        assert len(places) == 6, "a model of the assertions, read from the solver that answered"
    assert solver.check() == expected, "the first solver keeps its own limits (none left set)"


def test_a_query_within_budget_stays_on_the_first_solver() -> None:
    solver = make_solver(SolverLimits())
    _pigeonhole(solver, 4, 3)
    outcome, answered = check_with_fallback(solver, SolverLimits())
    assert (outcome, answered) == (z3.unsat, solver)


@pytest.mark.usefixtures("small_budget")
def test_a_users_resource_limit_is_not_exceeded() -> None:
    solver = make_solver(SolverLimits(rlimit=SMALL_BUDGET // 2))
    _pigeonhole(solver, 6, 5)
    outcome, answered = check_with_fallback(solver, SolverLimits(rlimit=SMALL_BUDGET // 2))
    assert outcome == z3.unknown and answered is solver, "no second try beyond the user's limit"


@pytest.mark.usefixtures("small_budget")
def test_prove_gives_the_same_verdicts_through_the_general_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = read_spec("specs/isolation.yaml")
    loaded = load_manifests(list(raw.manifest_paths))
    spec = resolve_spec(raw, loaded.cluster)

    def statuses() -> list[Status]:
        report = prove(loaded, spec, SolverLimits())
        return [result.status for result in report.results]

    with_fallback = statuses()
    monkeypatch.setattr(solver_module, "FIRST_TRY_RLIMIT", 10**12)
    assert with_fallback == statuses()
    assert Status.VIOLATED in with_fallback and Status.HOLDS in with_fallback
