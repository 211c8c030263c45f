"""report/ stays a layer of pure formatters: no solver, no command line, no semantics of its
own (what a format shows is computed below it, e.g. `engine.summary` for `validate`)."""

import ast
from pathlib import Path

import netverify.report

REPORT = Path(netverify.report.__file__).parent


def _imports(source: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_report_imports_no_solver_no_cli_and_no_semantics() -> None:
    for source in REPORT.glob("*.py"):
        for name in _imports(source):
            parts = name.split(".")
            assert parts[0] not in {"z3", "typer"}, f"{source.name} imports {name}"
            if parts[0] == "netverify" and len(parts) > 1:
                assert parts[1] not in {"cli", "semantics", "encoding"}, (
                    f"{source.name} imports {name}"
                )
