"""Large, regular constraint tables written as SMT-LIB text and parsed by Z3 in one call.

Building a term through z3py costs several foreign calls and Python objects per node; a
table of thousands of rows (one per pod class) is far cheaper to write as text. Only tables
whose every row has the same simple shape are written this way; everything else is built
with z3py, so that the encoding stays readable.
"""

from collections.abc import Iterable

import z3


def symbol(term: z3.ExprRef) -> str:
    """The SMT-LIB spelling of a declared constant (quoted: our names hold dots and brackets).

    A few foreign calls: call it once per constant, not once per row."""
    return f"|{term.decl().name()}|"


def literal(value: int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value >= 0 else f"(- {-value})"


def parse_assertions(lines: Iterable[str], constants: Iterable[z3.ExprRef]) -> list[z3.BoolRef]:
    """Each line a formula over `constants`; returns them as terms of the current context."""
    return parse_text(assertions_text(lines), constants)


def assertions_text(lines: Iterable[str]) -> str:
    """Each line a formula, as `parse_text` takes them."""
    return "".join(f"(assert {line})\n" for line in lines)


def parse_text(text: str, constants: Iterable[z3.ExprRef]) -> list[z3.BoolRef]:
    """The formulas of `assertions_text` over `constants`, as terms of the current context."""
    declarations = {constant.decl().name(): constant for constant in constants}
    parsed = z3.parse_smt2_string(text, decls=declarations)
    # Every assertion is Boolean: wrap each at once, without z3py's per-item sort checks.
    context = parsed.ctx
    return [
        z3.BoolRef(z3.Z3_ast_vector_get(context.ref(), parsed.vector, index), context)
        for index in range(len(parsed))
    ]
