"""A connectivity matrix as its formats lay it out: one table per asked port."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from netverify.model.matrix import ConnectivityMatrix, MatrixRow

ANY_PORT = "any port"


@dataclass(frozen=True)
class MatrixTable:
    """The rows of one port (or of "any port"), by source in entity order."""

    label: str
    """`80/TCP`, or `any port` when no ports were asked."""
    rows: Iterator[MatrixRow]
    """Read from the matrix's rows as they come: read them before the next table's."""


def matrix_tables(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[MatrixTable]:
    """One table per asked port (or one for "any port"), each taking its share of `rows`."""
    remaining = iter(rows)
    for label in [str(port) for port in matrix.ports] or [ANY_PORT]:
        yield MatrixTable(label=label, rows=islice(remaining, len(matrix.entities)))
