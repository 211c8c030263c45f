"""Term constructors for the encoding's hot paths, straight on Z3's C API.

z3py's `And`, `Or` and `==` check and coerce every argument with several foreign calls; the
encoding builds hundreds of thousands of terms whose sorts it already knows, and these
constructors skip that (about three times faster). They take Boolean terms and integer
constants only.
"""

from collections.abc import Sequence

import z3


def _context() -> z3.Context:
    return z3.main_ctx()


def conj(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """`And` of the terms; the empty conjunction is true."""
    context = _context()
    if len(terms) == 1:
        return terms[0]
    array = (z3.Ast * len(terms))(*[term.as_ast() for term in terms])
    return z3.BoolRef(z3.Z3_mk_and(context.ref(), len(terms), array), context)


def disj(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """`Or` of the terms; the empty disjunction is false."""
    context = _context()
    if len(terms) == 1:
        return terms[0]
    array = (z3.Ast * len(terms))(*[term.as_ast() for term in terms])
    return z3.BoolRef(z3.Z3_mk_or(context.ref(), len(terms), array), context)


def negate(term: z3.BoolRef) -> z3.BoolRef:
    context = _context()
    return z3.BoolRef(z3.Z3_mk_not(context.ref(), term.as_ast()), context)


def _number(value: int) -> z3.Ast:
    context = _context()
    # The raw sort, not z3py's `IntSort()`: its wrapper costs three more foreign calls.
    sort = z3.Z3_mk_int_sort(context.ref())
    if -(2**62) < value < 2**62:
        return z3.Z3_mk_int64(context.ref(), value, sort)
    return z3.Z3_mk_numeral(context.ref(), str(value), sort)


def equals(term: z3.ArithRef, value: int) -> z3.BoolRef:
    """`term == value` for an integer term and a Python int."""
    context = _context()
    return z3.BoolRef(z3.Z3_mk_eq(context.ref(), term.as_ast(), _number(value)), context)


def at_least(term: z3.ArithRef, value: int) -> z3.BoolRef:
    """`term >= value`."""
    context = _context()
    return z3.BoolRef(z3.Z3_mk_ge(context.ref(), term.as_ast(), _number(value)), context)


def at_most(term: z3.ArithRef, value: int) -> z3.BoolRef:
    """`term <= value`."""
    context = _context()
    return z3.BoolRef(z3.Z3_mk_le(context.ref(), term.as_ast(), _number(value)), context)
