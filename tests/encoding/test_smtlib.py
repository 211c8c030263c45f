"""SMT-LIB text written with `symbol` and `literal` parses to the formula z3py would build."""

import pytest
import z3

from netverify.encoding.capi import conj
from netverify.encoding.smtlib import (
    assertions_text,
    conjunction,
    literal,
    parse_formulas,
    parse_text,
    symbol,
)
from tests.encoding.helpers import equivalent


def test_symbol_quotes_names_with_dots_and_brackets() -> None:
    assert (
        symbol(z3.Int("src.label[app.kubernetes.io/name]")) == "|src.label[app.kubernetes.io/name]|"
    )
    assert symbol(z3.Bool("flow.same_node")) == "|flow.same_node|"


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (0, "0"), (1, "1"), (5432, "5432"), (-1, "(- 1)")],
)
def test_literal(value: int | bool, text: str) -> None:
    assert literal(value) == text


def test_parsed_lines_are_the_formulas_z3py_builds() -> None:
    ip, label, is_pod = z3.Int("src.ip"), z3.Int("dst.label[app]"), z3.Bool("src.is_pod")
    ip_, label_, is_pod_ = symbol(ip), symbol(label), symbol(is_pod)
    lines = [
        f"(=> {is_pod_} (= {label_} {literal(2)}))",
        f"(and (>= {ip_} {literal(-5)}) (<= {ip_} {literal(2**40)}))",
        f"(or (not {is_pod_}) (= {label_} {literal(0)}) {literal(False)})",
        literal(True),
    ]
    expected = [
        z3.Implies(is_pod, label == 2),
        z3.And(ip >= -5, ip <= 2**40),
        z3.Or(z3.Not(is_pod), label == 0, False),
        z3.BoolVal(True),
    ]
    parsed = parse_text(assertions_text(lines), [ip, label, is_pod])
    assert len(parsed) == len(expected)
    for got, want in zip(parsed, expected, strict=True):
        assert isinstance(got, z3.BoolRef)
        assert equivalent(got, want), (got, want)
    assert not equivalent(parsed[0], z3.Implies(is_pod, label == 3))


def test_parsed_constants_are_the_given_ones() -> None:
    """A model of the parsed formula assigns the very constants z3py's terms use."""
    port = z3.Int("flow.port")
    (parsed,) = parse_text(assertions_text([f"(= {symbol(port)} 8080)"]), [port])
    solver = z3.Solver()
    solver.add(parsed)
    assert solver.check() == z3.sat
    assert solver.model().eval(port).as_long() == 8080


def test_no_lines_no_assertions() -> None:
    assert parse_text(assertions_text([]), [z3.Int("x")]) == []


def test_an_undeclared_constant_is_refused() -> None:
    with pytest.raises(z3.Z3Exception):
        parse_text(assertions_text([f"(= {symbol(z3.Int('y'))} 1)"]), [z3.Int("x")])


def test_a_conjunction_of_formulas_is_the_term_conj_builds() -> None:
    """Kept in Z3's vector, parsed formulas conjoin to the very term (not only an
    equivalent one) `conj` builds of them as z3py terms, among other terms, in order."""
    x, flag = z3.Int("x"), z3.Bool("flag")
    text = assertions_text(f"(=> {symbol(flag)} (= {symbol(x)} {n}))" for n in range(3))
    formulas = parse_formulas(text, [x, flag])
    assert len(formulas) == 3
    parts = [x >= 0, formulas, flag, parse_formulas(assertions_text(["true"]), [])]
    expected = conj([x >= 0, *formulas.terms(), flag, z3.BoolVal(True)])
    assert conjunction(parts).eq(expected)
    assert conjunction([formulas, x <= 9]).eq(conj([*formulas.terms(), x <= 9]))
    (single,) = parse_text(assertions_text([symbol(flag)]), [flag])
    assert conjunction([parse_formulas(assertions_text([symbol(flag)]), [flag])]).eq(single)
