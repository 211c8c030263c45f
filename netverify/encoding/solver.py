"""The one place solvers are made (fixed seeds, a wall-clock timeout and a resource limit)
and the one place Z3's global context is replaced, both for deterministic answers."""

from dataclasses import dataclass

import z3

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_RLIMIT = 0
"""Z3 resource units per query; 0 means no limit. Unlike the timeout, it is deterministic."""

SEED = 0


@dataclass(frozen=True)
class SolverLimits:
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    rlimit: int = DEFAULT_RLIMIT


def make_solver(limits: SolverLimits) -> z3.Solver:
    """A solver that gives the same answer (and the same model) for the same input."""
    z3.set_param("smt.random_seed", SEED)
    z3.set_param("sat.random_seed", SEED)
    solver = z3.SolverFor("QF_LIA")
    solver.set("random_seed", SEED)
    solver.set("timeout", max(1, int(limits.timeout_seconds * 1000)))
    if limits.rlimit:
        solver.set("rlimit", limits.rlimit)
    return solver


def unknown_reason(solver: z3.Solver, limits: SolverLimits) -> str:
    """The solver's reason for `unknown`, in words a user can act on."""
    reason = str(solver.reason_unknown())
    if "timeout" in reason:
        return f"solver timeout after {limits.timeout_seconds:g}s (raise it with --timeout)"
    if limits.rlimit and ("canceled" in reason or "resource" in reason):
        return f"solver resource limit of {limits.rlimit} reached (raise it with --rlimit)"
    return f"solver gave up: {reason}"


def fresh_context() -> None:
    """Make the following terms live in a new Z3 context.

    Z3's answers depend on the terms its context already holds (hash-consing gives them ids
    the solver breaks ties by), so an encoding built after another in one process could get
    a different counterexample. z3py offers contexts only through an argument on every term
    constructor; replacing the default context gives each encoding a clean one at one
    place. Terms of earlier encodings keep their own context alive and must not be mixed
    with later ones.
    """
    z3.z3._main_ctx = None
