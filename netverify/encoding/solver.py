"""The one place solvers are made (fixed seeds, a wall-clock timeout and a resource limit)
and the one place Z3's global context is replaced, both for deterministic answers."""

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import z3

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_RLIMIT = 0
"""Z3 resource units per query; 0 means no limit. Unlike the timeout, it is deterministic."""

SEED = 0

FIRST_TRY_RLIMIT = 40_000_000
"""Z3 resource units a hard query gets on the QF_LIA solver before its assertions go to Z3's
general solver (`check_with_fallback`). Neither set-up is fastest everywhere: the generated
50,000-pod tier's hardest query (internet -> prod databases, ~3,900 ingress policies) takes
the QF_LIA solver ~214M units (35-48 s) and the general one ~5M (~1.3 s), while on the
5,000-pod tier the QF_LIA solver is ~15% faster and no query comes near this budget (~4 s
of work on our machine). A budget of units, not of seconds, keeps the choice deterministic:
the same input takes the same path, and shows the same flow, on every machine."""


@dataclass(frozen=True)
class SolverLimits:
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    rlimit: int = DEFAULT_RLIMIT


Keep = Callable[[object], None]
"""Given the last encoding and solver once `prove` or `diff` is done with them, by a caller
that would rather keep them than free them: a command line about to end its process
(freeing a 10,000-pod cluster's solver and terms takes ~40 ms). Earlier parts' are freed as
before, so that memory does not grow with the number of parts."""


def make_solver(limits: SolverLimits) -> z3.Solver:
    """A solver that gives the same answer (and the same model) for the same input."""
    z3.set_param("smt.random_seed", SEED)
    z3.set_param("sat.random_seed", SEED)
    return _limited(z3.SolverFor("QF_LIA"), limits)


def _limited(solver: z3.Solver, limits: SolverLimits) -> z3.Solver:
    solver.set("random_seed", SEED)
    solver.set("timeout", max(1, int(limits.timeout_seconds * 1000)))
    if limits.rlimit:
        solver.set("rlimit", limits.rlimit)
    return solver


def check_with_fallback(
    solver: z3.Solver, limits: SolverLimits
) -> tuple[z3.CheckSatResult, z3.Solver]:
    """Check `solver` (from `make_solver`) within `FIRST_TRY_RLIMIT`; if that runs out,
    check its assertions on Z3's general solver with what is left of `limits`. Returns the
    outcome and the solver that gave it: read a model, or the reason for `unknown`, there."""
    if limits.rlimit and limits.rlimit <= FIRST_TRY_RLIMIT:
        return solver.check(), solver
    started = time.monotonic()
    solver.set("rlimit", FIRST_TRY_RLIMIT)
    try:
        outcome = solver.check()
    finally:
        solver.set("rlimit", limits.rlimit)
    if outcome != z3.unknown or not _out_of_resources(solver):
        return outcome, solver
    left = SolverLimits(
        timeout_seconds=max(0.001, limits.timeout_seconds - (time.monotonic() - started)),
        rlimit=limits.rlimit - FIRST_TRY_RLIMIT if limits.rlimit else 0,
    )
    general = _limited(z3.Solver(ctx=solver.ctx), left)
    general.add(solver.assertions())
    return general.check(), general


def check_alone(
    assertions: Sequence[z3.BoolRef], limits: SolverLimits
) -> tuple[z3.CheckSatResult, z3.Solver]:
    """Check `assertions` on a fresh general solver, once and without a push; returns the
    outcome and that solver (read a model, or the reason for `unknown`, there).

    Without a push Z3 preprocesses the whole problem with its default tactic and picks its
    set-up from the problem's features, instead of the incremental core a pushed frame
    gets. On the 50,000-pod tier's slices this is the fastest set-up for every hard query
    tried (check CPU seconds, one run each: internet -> prod databases 2.1 vs 10.7 with
    `check_with_fallback`, dev -> prod 3.1 vs 4.5). Each such check takes in the whole
    domain again, so it pays only where a shared solver would have to do that too (a cold
    one), and on large encodings; decoding a readable flow, many small checks, is much
    slower on it than on a shared incremental solver (83 s vs ~5 s on that tier)."""
    solver = _limited(z3.Solver(ctx=assertions[0].ctx), limits)
    solver.add(*assertions)
    return solver.check(), solver


def _out_of_resources(solver: z3.Solver) -> bool:
    """Whether the last `unknown` was the resource limit (Z3 words it either way)."""
    reason = str(solver.reason_unknown())
    return "resource" in reason or "canceled" in reason


def unknown_reason(solver: z3.Solver, limits: SolverLimits) -> str:
    """The solver's reason for `unknown`, in words a user can act on."""
    reason = str(solver.reason_unknown())
    if "timeout" in reason:
        return f"solver timeout after {limits.timeout_seconds:g}s (raise it with --timeout)"
    if limits.rlimit and _out_of_resources(solver):
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


@contextmanager
def in_context(context: z3.Context) -> Iterator[None]:
    """Make the terms built inside live in `context`, an earlier encoding's that is queried
    again (`fresh_context` has moved on since); the main context is restored after."""
    saved = z3.z3._main_ctx
    z3.z3._main_ctx = context
    try:
        yield
    finally:
        z3.z3._main_ctx = saved


def while_pushing(solver: z3.Solver, work: Callable[[], object]) -> None:
    """`solver.push()` in a second thread while `work()` runs in this one.

    A first push makes Z3 take in (internalise) every assertion, a quarter of a second for a
    large cluster's domain, in C, without Python's lock: on a machine with a second core,
    Python work that needs no solver can run meanwhile. `work` must make no Z3 call, nor let
    go of the last reference to a Z3 object (which calls into Z3): a Z3 context is not
    thread-safe. For that reason the cyclic garbage collector, which could free Z3 objects
    in this thread, is paused until both are done. The solver ends with the assertions of a
    plain `push`, so later answers are the same; later models may differ from a plain push's,
    because pausing the collector moves when Z3 objects are freed and so the ids Z3 gives new
    terms (a run is still reproducible: the same input, the same models). When either
    raises, the solver is as it was before (the push undone)."""
    failure: list[BaseException] = []

    def push() -> None:
        try:
            solver.push()
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    pusher = threading.Thread(target=push, name="netverify-push")
    with collector_paused():
        pusher.start()
        try:
            work()
        except BaseException:
            pusher.join()
            if not failure:
                solver.pop()
            raise
        pusher.join()
    if failure:
        raise failure[0]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block (restored as it was after).

    Z3 hands out term ids from a pool that freed terms return to, and breaks ties between
    equally good models by those ids: terms the collector frees mid-search, at moments set
    by every allocation made before, can change the models a search returns, and so a
    listing that stops at a limit. Paused, the terms of a context built in the block are
    freed as their last reference goes, the same way on every run."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
