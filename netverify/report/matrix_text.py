"""The matrix as truth tables in the style of the Kubernetes e2e netpol tests.

One table per asked port (or one for "any port"): rows are sources, columns destinations,
`X` allowed and `.` blocked.
"""

from netverify.model.matrix import ConnectivityMatrix
from netverify.report.matrix_common import matrix_tables


def format_matrix_text(matrix: ConnectivityMatrix) -> str:
    names = [entity.name for entity in matrix.entities]
    width = max([1, *(len(name) for name in names)])
    lines: list[str] = []
    for table in matrix_tables(matrix):
        if lines:
            lines.append("")
        lines.append(f"{table.label} (X allowed, . blocked; rows: from, columns: to)")
        lines.append("  ".join(["-".ljust(width), *(name.ljust(width) for name in names)]).rstrip())
        for source in names:
            marks = [
                ("X" if table.cells[(source, destination)].allowed else ".").ljust(width)
                for destination in names
            ]
            lines.append("  ".join([source.ljust(width), *marks]).rstrip())
    return "\n".join(lines) + "\n"
