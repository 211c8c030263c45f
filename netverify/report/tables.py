"""A connectivity matrix as its formats lay it out: one table per asked port."""

from dataclasses import dataclass

from netverify.model.matrix import ConnectivityMatrix, MatrixCell

ANY_PORT = "any port"


@dataclass(frozen=True)
class MatrixTable:
    """The cells of one port (or of "any port"), indexed by source and destination."""

    label: str
    """`80/TCP`, or `any port` when no ports were asked."""
    cells: dict[tuple[str, str], MatrixCell]


def matrix_tables(matrix: ConnectivityMatrix) -> list[MatrixTable]:
    labels = [str(port) for port in matrix.ports] or [ANY_PORT]
    size = len(matrix.entities) ** 2
    return [
        MatrixTable(
            label=label,
            cells={
                (cell.source, cell.destination): cell
                for cell in matrix.cells[index * size : (index + 1) * size]
            },
        )
        for index, label in enumerate(labels)
    ]
