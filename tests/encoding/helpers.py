"""Proofs about Z3 terms, for the encoding's unit tests."""

import z3


def equivalent(first: z3.BoolRef, second: z3.BoolRef) -> bool:
    """Whether the two formulas agree under every assignment (no model tells them apart)."""
    solver = z3.Solver()
    solver.add(first != second)
    return solver.check() == z3.unsat
