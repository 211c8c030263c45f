"""The matrix as Markdown tables (one per asked port), for pull-request comments."""

from netverify.model.matrix import ConnectivityMatrix
from netverify.report.matrix_common import matrix_tables


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def format_matrix_markdown(matrix: ConnectivityMatrix) -> str:
    names = [entity.name for entity in matrix.entities]
    lines: list[str] = []
    for table in matrix_tables(matrix):
        if lines:
            lines.append("")
        lines.append(f"**{table.label}** (X allowed, . blocked; rows: from, columns: to)")
        lines.append("")
        lines.append("| from \\ to | " + " | ".join(_escape(name) for name in names) + " |")
        lines.append("|---|" + "---|" * len(names))
        for source in names:
            marks = ["X" if table.cells[(source, d)].allowed else "." for d in names]
            lines.append(f"| {_escape(source)} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
