"""The matrix as a Graphviz digraph: one node per entity, one edge per allowed pair.

An entity gets a loop only when a witness shows traffic between two of its pods (or a
workload's replicas), not a pod's traffic to itself.
"""

from collections.abc import Iterable, Iterator

from netverify.model.matrix import ConnectivityMatrix, MatrixRow
from netverify.report.tables import matrix_tables


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_matrix(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[str]:
    """The whole graph at the end: edges are grouped by pair across the ports' tables."""
    names = [entity.name for entity in matrix.entities]
    labels: dict[tuple[str, str], list[str]] = {}
    for table in matrix_tables(matrix, rows):
        for row in table.rows:
            for index, destination in enumerate(names):
                witness = row.witness(index)
                if not row.allowed[index]:
                    continue
                if row.source == destination and (witness is None or witness.self_traffic):
                    continue
                labels.setdefault((row.source, destination), []).append(table.label)
    lines = ["digraph netverify {", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f"  {_quoted(name)};" for name in names]
    for source in names:
        for destination in names:
            ports = labels.get((source, destination))
            if ports is None:
                continue
            label = "" if matrix.ports == () else f" [label={_quoted(', '.join(ports))}]"
            lines.append(f"  {_quoted(source)} -> {_quoted(destination)}{label};")
    lines.append("}")
    yield "\n".join(lines) + "\n"
