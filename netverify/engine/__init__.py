"""Queries over the shared encoding: proving invariants, decoding and replaying witnesses."""

from netverify.encoding.solver import SolverLimits
from netverify.engine.prove import prove

__all__ = ["SolverLimits", "prove"]
