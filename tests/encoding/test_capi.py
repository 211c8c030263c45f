"""The C-API term constructors mean what z3py's `And`, `Or`, `Not`, `==`, `>=` and `<=` mean."""

import pytest
import z3

from netverify.encoding.capi import at_least, at_most, conj, disj, equals, negate
from tests.encoding.helpers import equivalent

NUMBERS = [0, 1, 5, -3, 2**62 - 1, -(2**62) + 1, 2**62, -(2**62), 2**63, -(2**63) - 1, 2**70]
"""Small numbers, and numbers on either side of the fast path's bounds and of 64 bits."""


def booleans(count: int) -> list[z3.BoolRef]:
    return [z3.Bool(f"p{index}") for index in range(count)]


def test_equivalent_tells_different_formulas_apart() -> None:
    p, q = booleans(2)
    assert equivalent(z3.And(p, q), z3.Not(z3.Or(z3.Not(p), z3.Not(q))))
    assert not equivalent(z3.And(p, q), z3.Or(p, q))


def test_the_empty_conjunction_is_true() -> None:
    assert equivalent(conj([]), z3.BoolVal(True))
    assert equivalent(conj([]), z3.And([]))


def test_the_empty_disjunction_is_false() -> None:
    assert equivalent(disj([]), z3.BoolVal(False))
    assert equivalent(disj([]), z3.Or([]))


def test_one_term_is_itself() -> None:
    (p,) = booleans(1)
    assert conj([p]).eq(p)
    assert disj([p]).eq(p)


@pytest.mark.parametrize("count", [2, 3, 5])
def test_conj_and_disj_agree_with_z3py(count: int) -> None:
    terms = booleans(count)
    assert equivalent(conj(terms), z3.And(terms))
    assert equivalent(disj(terms), z3.Or(terms))
    assert not equivalent(conj(terms), z3.Or(terms))


def test_nested_terms() -> None:
    p, q, r = booleans(3)
    built = disj([conj([p, negate(q)]), conj([q, r])])
    assert equivalent(built, z3.Or(z3.And(p, z3.Not(q)), z3.And(q, r)))


def test_negate_agrees_with_not() -> None:
    p, q = booleans(2)
    assert equivalent(negate(p), z3.Not(p))
    assert equivalent(negate(conj([p, q])), z3.Not(z3.And(p, q)))
    assert not equivalent(negate(p), p)


@pytest.mark.parametrize("value", NUMBERS)
def test_comparisons_agree_with_z3py(value: int) -> None:
    x = z3.Int("x")
    assert equivalent(equals(x, value), x == value)
    assert equivalent(at_least(x, value), x >= value)
    assert equivalent(at_most(x, value), x <= value)
    assert not equivalent(equals(x, value), x == value + 1)
    assert not equivalent(at_least(x, value), x > value)


@pytest.mark.parametrize("value", NUMBERS)
def test_equals_pins_the_value(value: int) -> None:
    x = z3.Int("x")
    solver = z3.Solver()
    solver.add(equals(x, value))
    assert solver.check() == z3.sat
    assert solver.model()[x].as_long() == value
