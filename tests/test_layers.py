"""Imports flow one way through netverify's layers (STYLE.md, "Architecture").

Every module under `netverify/` is parsed with `ast` and every import in it is checked, those
inside functions and `if TYPE_CHECKING:` blocks included. A module may import its own layer and
the layers before it in this table, never one after it:

    model -> loading -> semantics -> encoding -> invariants -> engine -> report -> cli

| layer (folder or module)              | may import of ours                       | third party  |
|---------------------------------------|------------------------------------------|--------------|
| model                                 | model                                    |              |
| loading                               | model, loading                           |              |
| semantics                             | ... semantics                            |              |
| encoding                              | ... encoding                             | z3           |
| invariants                            | ... invariants                           | z3           |
| engine                                | ... engine                               | z3           |
| report                                | ... report                               | rich         |
| cli (`cli.py` or a `cli/` package)    | every layer, and generate                | typer, rich  |
| generate (side package)               | model, loading, generate                 |              |
| `netverify/__main__.py` (entry point) | every layer, and generate                |              |
| `netverify/__init__.py` (entry point) | nothing                                  |              |

`generate` draws synthetic clusters for `netverify generate`, the benchmarks and the tests. It
imports only itself today; it may grow to use the model or the loaders (to check what it
writes), but no layer depends on it: within `netverify/` only cli (and `__main__`) import it.
`netverify/__init__.py` runs before any submodule, so it imports nothing of ours; importing
the package itself (`from netverify import __version__`) is therefore allowed anywhere. A
folder or top-level module that is not in the table fails the test until it is placed here.
"""

import ast
from pathlib import Path

import netverify

PACKAGE = Path(netverify.__file__).resolve().parent
LAYERS = ("model", "loading", "semantics", "encoding", "invariants", "engine", "report", "cli")
ENTRY = "__main__"
INIT = "__init__"
SIDE = "generate"
TOP = "netverify"
"""The package itself, `import netverify` / `from netverify import __version__`."""

ALLOWED: dict[str, frozenset[str]] = {
    **{layer: frozenset(LAYERS[: index + 1]) for index, layer in enumerate(LAYERS)},
    SIDE: frozenset({"model", "loading", SIDE}),
    ENTRY: frozenset({*LAYERS, SIDE}),
    INIT: frozenset(),
}
ALLOWED["cli"] |= {SIDE}
THIRD_PARTY: dict[str, frozenset[str]] = {
    "z3": frozenset({"encoding", "invariants", "engine"}),
    "typer": frozenset({"cli"}),
    "rich": frozenset({"cli", "report"}),
}


def layer_of(parts: tuple[str, ...]) -> str | None:
    """The layer of a module given as dotted parts from `netverify` on (`("netverify",
    "engine", "diff")` -> `engine`; `("netverify", "cli")` -> `cli`, as module or package;
    `("netverify", "__init__")` -> `__init__`); `TOP` for the package itself, None when the
    table does not place it."""
    if len(parts) == 1:
        return TOP
    name = parts[1]
    return name if name in ALLOWED else None


def _imported(node: ast.Import | ast.ImportFrom, package: tuple[str, ...]) -> list[str]:
    """The dotted names an import statement of a module in `package` brings in, relative ones
    resolved. For `from netverify import X`, X is the module `netverify.X` when one exists."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    start = package[: len(package) - node.level + 1] if node.level else ()
    base = ".".join([*start, *([node.module] if node.module else [])])
    if base != TOP:
        return [base]
    return [
        f"{TOP}.{alias.name}"
        if (PACKAGE / alias.name).is_dir() or (PACKAGE / f"{alias.name}.py").is_file()
        else TOP
        for alias in node.names
    ]


def violations(path: str, source: str) -> list[str]:
    """Every import of `source` (the module at `path`, e.g. `netverify/model/base.py`) that
    breaks the table, as `path:line: ...` lines naming the offending import."""
    parts = Path(path).with_suffix("").parts
    own = layer_of(parts)
    if own is None:
        return [f"{path}:1: not in the layer table of tests/test_layers.py"]
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        where = f"{path}:{node.lineno}: `{ast.unparse(node)}`"
        for name in _imported(node, parts[:-1]):
            target = name.split(".")
            if target[0] == TOP:
                layer = layer_of(tuple(target))
                if layer != TOP and layer not in ALLOWED[own]:
                    allowed = ", ".join(sorted(ALLOWED[own])) or "nothing of ours"
                    found.append(f"{where}: {own} may not import {layer} (only {allowed})")
            elif target[0] in THIRD_PARTY and own not in THIRD_PARTY[target[0]]:
                layers = ", ".join(sorted(THIRD_PARTY[target[0]]))
                found.append(f"{where}: {target[0]} may be imported only in {layers}")
    return found


def test_imports_follow_the_layer_table() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20, f"found only {len(modules)} modules under {PACKAGE}"
    found = [
        line
        for file in modules
        for line in violations(
            file.relative_to(PACKAGE.parent).as_posix(), file.read_text(encoding="utf-8")
        )
    ]
    assert not found, "imports against the layer table:\n" + "\n".join(found)


def test_an_upward_import_inside_a_function_is_reported() -> None:
    source = "from netverify.model import base\n\n\ndef f() -> None:\n    import netverify.engine\n"
    assert violations("netverify/model/fake.py", source) == [
        "netverify/model/fake.py:5: `import netverify.engine`: model may not import engine "
        "(only model)"
    ]


def test_relative_and_package_imports_are_resolved() -> None:
    source = "from ..report import text\nfrom netverify import cli, __version__\n"
    assert [line.split(": ", 2)[2] for line in violations("netverify/engine/x.py", source)] == [
        "engine may not import report (only encoding, engine, invariants, loading, model, "
        "semantics)",
        "engine may not import cli (only encoding, engine, invariants, loading, model, semantics)",
    ]


def test_third_party_and_side_package_rules() -> None:
    assert violations("netverify/semantics/x.py", "import z3\n")
    assert violations("netverify/report/x.py", "from typer import Exit\n")
    assert violations("netverify/engine/x.py", "from netverify.generate import write_cluster\n")
    assert violations("netverify/generate/x.py", "from netverify.engine import prove\n")
    assert violations("netverify/__init__.py", "from netverify.model import Cluster\n")
    assert violations("netverify/extra/x.py", "")
    assert not violations("netverify/report/x.py", "import rich\nfrom netverify import model\n")


def test_cli_as_module_or_package() -> None:
    source = "import typer\nfrom netverify.generate import write_cluster\nfrom . import app\n"
    assert violations("netverify/cli.py", source) == []
    assert violations("netverify/cli/__init__.py", source) == []
    assert violations("netverify/cli/commands/diff.py", "from netverify.cli import app\n") == []
