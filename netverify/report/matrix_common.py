"""Shared views of a connectivity matrix for its formats: one table per asked port."""

from dataclasses import dataclass

from netverify.model.matrix import ConnectivityMatrix, MatrixCell
from netverify.model.refs import RuleRef, SourceMap

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


def rule_text(ref: RuleRef, sources: SourceMap) -> str:
    """`ns/policy ingress[0] (file:line)`."""
    name = f"{ref.policy.namespace}/{ref.policy.name} {ref.direction.value.lower()}[{ref.index}]"
    span = sources.of_rule(ref)
    return f"{name} ({span})" if span is not None else name


def witness_text(cell: MatrixCell) -> str | None:
    """`ns-3/pod3 -> ns-2/pod2 TCP/80`, or None without a witness."""
    witness = cell.witness
    if witness is None:
        return None
    text = f"{witness.source} -> {witness.destination} {witness.protocol.value}/{witness.port}"
    return text + " (self traffic)" if witness.self_traffic else text
