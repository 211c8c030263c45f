"""The matrix as CSV: one line per cell, with its witness and the rules that allow it,
written one row of the matrix at a time."""

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import zip_longest

from netverify.model import SourceMap
from netverify.model.matrix import ConnectivityMatrix, MatrixRow, MatrixWitness
from netverify.report.describe import describe_matrix_witness, describe_rule

HEADER = ("from", "to", "protocol", "port", "allowed", "witness", "allowed_by")


def _field(text: str) -> str:
    """`text` as one CSV field, quoted as the csv module quotes it (a 5,000-pod matrix has
    25 million lines: they are joined as strings, the entity names quoted once)."""
    if not text:
        return ""
    stream = io.StringIO()
    csv.writer(stream, lineterminator="\n").writerow((text,))
    return stream.getvalue()[:-1]


def _explanation(witness: MatrixWitness | None, sources: SourceMap) -> str:
    """The last two fields of a cell's line, and its end."""
    if witness is None:
        return ",\n"
    rules = "; ".join(describe_rule(rule, sources) for rule in witness.allowed_by)
    return f"{_field(describe_matrix_witness(witness) or '')},{_field(rules)}\n"


def format_matrix(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[str]:
    yield ",".join(HEADER) + "\n"
    names = [_field(entity.name) for entity in matrix.entities]
    for row in rows:
        port = "," if row.port is None else f"{row.port.protocol.value},{row.port.port}"
        lead = f"{_field(row.source)},"
        verdicts = (f",{port},false,", f",{port},true,")
        # NOTE: `witnesses` is empty when the matrix is not explained: zip_longest pads it.
        yield "".join(
            f"{lead}{name}{verdicts[allowed]}{_explanation(witness, matrix.sources)}"
            for name, allowed, witness in zip_longest(names, row.allowed, row.witnesses)
        )
