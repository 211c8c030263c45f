"""Invariant kinds: each turns an invariant into a query over the shared encoding."""

from netverify.invariants.queries import Query, matching_flow, query_for

__all__ = ["Query", "matching_flow", "query_for"]
