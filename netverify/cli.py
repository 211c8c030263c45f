"""The command line: parse options, call the loader and the engine, pick a format, exit.

Exit codes: 0 all hold · 1 some violated · 2 usage or input error · 3 some unknown, none
violated · 130 interrupted.
"""

import json
import os
import sys
import tempfile
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from netverify import __version__
from netverify.engine import SolverLimits, prove
from netverify.engine.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS
from netverify.loading import load_manifests
from netverify.loading.flows import parse_flow
from netverify.loading.spec import read_spec, resolve_spec
from netverify.model import Diagnostic, InputError, Report
from netverify.model.results import StatusRank
from netverify.model.spec_schema import SpecFile
from netverify.report.json_format import decision_json, dumps, report_json
from netverify.report.summary import format_summary
from netverify.report.text import format_decision, format_report
from netverify.semantics import evaluate

EXIT_HOLDS = 0
EXIT_VIOLATED = 1
EXIT_INPUT_ERROR = 2
EXIT_UNKNOWN = 3
EXIT_INTERRUPTED = 130

app = typer.Typer(
    help="Prove invariants about Kubernetes NetworkPolicies, with counterexample flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


_DEBUG = {"enabled": False}

StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Treat unknown fields and unmodelled policy kinds as errors (like kubectl's "
        "strict field validation).",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    _DEBUG["enabled"] = debug
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _print_warnings(warnings: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    for warning in warnings:
        typer.echo(f"- {warning}", err=True)


def _input_error(error: InputError) -> NoReturn:
    typer.echo("netverify: invalid input:", err=True)
    for diagnostic in error.diagnostics:
        typer.echo(f"- {diagnostic}", err=True)
    raise typer.Exit(EXIT_INPUT_ERROR)


def _write(text: str, output: Path | None) -> None:
    """To stdout, or atomically to a file: a temporary file renamed into place."""
    if output is None:
        sys.stdout.write(text)
        return
    folder = output.parent if str(output.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@app.command()
def validate(
    paths: Annotated[list[str], typer.Argument(help="Manifest files or folders; - for stdin.")],
    strict: StrictOption = False,
) -> None:
    """Load and validate manifests; summarise namespaces, pods, policies and isolation."""
    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
    except InputError as error:
        _input_error(error)
    _print_warnings(loaded.warnings)
    typer.echo(format_summary(loaded), nl=False)


@app.command()
def explain(
    paths: Annotated[list[str], typer.Argument(help="Manifest files or folders; - for stdin.")],
    source: Annotated[str, typer.Option("--from", help="Source: NAMESPACE/POD or an IP.")],
    destination: Annotated[str, typer.Option("--to", help="Destination: NAMESPACE/POD or an IP.")],
    port: Annotated[str, typer.Option("--port", help="PORT[/PROTOCOL] or NAME[/PROTOCOL].")],
    output_format: FormatOption = OutputFormat.TEXT,
    strict: StrictOption = False,
) -> None:
    """Decide one flow and show the rules on both sides. Exit 0 allowed, 1 blocked."""
    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
        flow = parse_flow(loaded.cluster, source, destination, port)
    except InputError as error:
        _input_error(error)
    _print_warnings(loaded.warnings)
    decision = evaluate(loaded.cluster, flow)
    match output_format:
        case OutputFormat.TEXT:
            text = format_decision(decision, loaded.sources)
        case OutputFormat.JSON:
            text = dumps(decision_json(decision, loaded.sources))
    _write(text, None)
    raise typer.Exit(EXIT_HOLDS if decision.allowed else EXIT_VIOLATED)


def _prove_spec(spec_path: str, strict: bool, limits: SolverLimits) -> Report:
    raw = read_spec(spec_path)
    loaded = load_manifests(raw.manifest_paths, strict=strict)
    _print_warnings(loaded.warnings)
    return prove(loaded, resolve_spec(raw, loaded.cluster), limits)


@app.command(name="prove")
def prove_command(
    specs: Annotated[list[str], typer.Argument(help="Spec files (see docs/spec.md).")],
    output_format: FormatOption = OutputFormat.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.001, help="Solver seconds per query.")
    ] = DEFAULT_TIMEOUT_SECONDS,
    rlimit: Annotated[
        int, typer.Option("--rlimit", min=0, help="Solver resource limit per query (0: none).")
    ] = DEFAULT_RLIMIT,
    strict: StrictOption = False,
) -> None:
    """Prove or refute every invariant of the spec files."""
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    reports: list[Report] = []
    try:
        for spec_path in specs:
            reports.append(_prove_spec(spec_path, strict, limits))
    except InputError as error:
        _input_error(error)
    match output_format:
        case OutputFormat.TEXT:
            text = "".join(format_report(report) for report in reports)
        case OutputFormat.JSON:
            text = dumps(_combined_json(reports))
    _write(text, output)
    raise typer.Exit(_exit_code(reports))


def _combined_json(reports: list[Report]) -> dict[str, object]:
    """One JSON document for several specs: results tagged with their spec, summed summary."""
    results: list[object] = []
    summary: dict[str, int] = {}
    for report in reports:
        document = report_json(report)
        for result in document["results"]:  # type: ignore[attr-defined]
            results.append({**result, "spec": report.spec_file})
        for key, count in document["summary"].items():  # type: ignore[attr-defined]
            summary[key] = summary.get(key, 0) + count
    return {
        "results": results,
        "summary": summary,
        "specs": [
            {"file": report.spec_file, "assumptions": list(report.assumptions)}
            for report in reports
        ],
    }


def _exit_code(reports: list[Report]) -> int:
    worst = max((report.worst for report in reports), default=StatusRank.HOLDS)
    return {
        StatusRank.HOLDS: EXIT_HOLDS,
        StatusRank.UNKNOWN: EXIT_UNKNOWN,
        StatusRank.ERROR: EXIT_INPUT_ERROR,
        StatusRank.VIOLATED: EXIT_VIOLATED,
    }[worst]


@app.command()
def schema() -> None:
    """Print the JSON Schema of spec files."""
    typer.echo(json.dumps(SpecFile.model_json_schema(), indent=2))


def main() -> None:
    """Entry point: user-facing errors without tracebacks, Ctrl-C exits 130."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("netverify: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as crash:
        if _DEBUG["enabled"]:
            traceback.print_exc()
        typer.echo(
            f"netverify: internal error: {type(crash).__name__}: {crash} (rerun with --debug)",
            err=True,
        )
        sys.exit(EXIT_INPUT_ERROR)
