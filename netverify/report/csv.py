"""The matrix as CSV: one line per cell, with its witness and the rules that allow it."""

import csv
import io

from netverify.model.matrix import ConnectivityMatrix
from netverify.report.describe import describe_matrix_witness, describe_rule

HEADER = ("from", "to", "protocol", "port", "allowed", "witness", "allowed_by")


def format_matrix(matrix: ConnectivityMatrix) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(HEADER)
    for cell in matrix.cells:
        rules = cell.witness.allowed_by if cell.witness is not None else ()
        writer.writerow(
            (
                cell.source,
                cell.destination,
                "" if cell.protocol is None else cell.protocol.value,
                "" if cell.port is None else cell.port,
                "true" if cell.allowed else "false",
                describe_matrix_witness(cell) or "",
                "; ".join(describe_rule(rule, matrix.sources) for rule in rules),
            )
        )
    return stream.getvalue()
