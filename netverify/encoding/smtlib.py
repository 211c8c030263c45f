"""Large, regular constraint tables written as SMT-LIB text and parsed by Z3 in one call.

Building a term through z3py costs several foreign calls and Python objects per node; a
table of thousands of rows (one per pod class) is far cheaper to write as text. Only tables
whose every row has the same simple shape are written this way; everything else is built
with z3py, so that the encoding stays readable.
"""

from collections.abc import Iterable, Sequence

import z3


def symbol(term: z3.ExprRef) -> str:
    """The SMT-LIB spelling of a declared constant (quoted: our names hold dots and brackets).

    A few foreign calls: call it once per constant, not once per row."""
    return f"|{term.decl().name()}|"


def literal(value: int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value >= 0 else f"(- {-value})"


def assertions_text(lines: Iterable[str]) -> str:
    """Each line a formula, as `parse_text` takes them."""
    return "".join(f"(assert {line})\n" for line in lines)


def parse_text(text: str, constants: Iterable[z3.ExprRef]) -> list[z3.BoolRef]:
    """The formulas of `assertions_text` over `constants`, as terms of the current context."""
    return parse_formulas(text, constants).terms()


def parse_formulas(text: str, constants: Iterable[z3.ExprRef]) -> "Formulas":
    """The formulas of `assertions_text` over `constants`, in the current context, as one
    `Formulas`."""
    # Straight on Z3's C API: z3py's `parse_smt2_string` takes the constants by name and
    # looks each one's declaration up again with a dozen foreign calls, as many as a table's
    # parse costs when it has hundreds of constants (a row per named port and protocol).
    context = z3.main_ctx()
    declarations = {
        handle.value: handle
        for handle in (z3.Z3_get_app_decl(context.ref(), c.as_ast()) for c in constants)
    }
    count = len(declarations)
    names = (z3.Symbol * count)(
        *(z3.Z3_get_decl_name(context.ref(), handle) for handle in declarations.values())
    )
    decls = (z3.FuncDecl * count)(*declarations.values())
    vector = z3.Z3_parse_smtlib2_string(context.ref(), text, 0, None, None, count, names, decls)
    return Formulas(z3.AstVector(vector, context))


class Formulas:
    """Boolean formulas parsed at once, kept in Z3's vector of them: a z3py object for each
    takes and gives back a reference, two foreign calls, which costs more than parsing a
    large table. For formulas that are only conjoined (`conjunction`)."""

    def __init__(self, vector: z3.AstVector) -> None:
        self.vector = vector

    def __len__(self) -> int:
        return len(self.vector)

    def handles(self) -> list[z3.Ast]:
        """Z3's handles of the formulas, valid while this object lives."""
        context, vector = self.vector.ctx.ref(), self.vector.vector
        return [z3.Z3_ast_vector_get(context, vector, index) for index in range(len(self))]

    def terms(self) -> list[z3.BoolRef]:
        """The formulas as z3py terms."""
        # Every formula is Boolean: wrap each at once, without z3py's per-item sort checks.
        context = self.vector.ctx
        return [z3.BoolRef(handle, context) for handle in self.handles()]


def conjunction(parts: Sequence[z3.BoolRef | Formulas]) -> z3.BoolRef:
    """`conj` of the terms and the formulas, in order: the very term `conj` builds of them
    all as z3py terms."""
    handles: list[z3.Ast] = []
    for part in parts:
        if isinstance(part, Formulas):
            handles += part.handles()
        else:
            handles.append(part.as_ast())
    context = z3.main_ctx()
    if len(handles) == 1:
        return z3.BoolRef(handles[0], context)
    array = (z3.Ast * len(handles))(*handles)
    return z3.BoolRef(z3.Z3_mk_and(context.ref(), len(handles), array), context)
