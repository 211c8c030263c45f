"""Queries over the shared encoding: proving invariants, decoding and replaying witnesses."""

from netverify.engine.prove import prove
from netverify.engine.solver import SolverLimits

__all__ = ["SolverLimits", "prove"]
