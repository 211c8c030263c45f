"""The command line: parse options, call the loader and the engine, pick a format, exit.

Exit codes: 0 all hold · 1 some violated · 2 usage or input error · 3 some unknown, none
violated · 130 interrupted.
"""

import atexit
import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from ipaddress import ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Protocol, TypeVar, assert_never

import typer

from netverify import __version__
from netverify.engine import SolverLimits, prove
from netverify.engine.solver import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_SECONDS
from netverify.loading import ParseCache, load_manifests
from netverify.loading.spec import read_spec, resolve_spec
from netverify.model import (
    Cluster,
    Diagnostic,
    InputError,
    IPNetwork,
    LoadedCluster,
    NamespaceScope,
    PodScope,
    Report,
    Settings,
    Severity,
)
from netverify.model.diff import DEFAULT_MAX_FINDINGS, Change, DiffReport
from netverify.model.matrix import GroupBy
from netverify.model.results import StatusRank
from netverify.model.spec_schema import SpecFile
from netverify.report.json_format import diff_json, dumps, explanation_json, report_json
from netverify.report.summary import format_summary
from netverify.report.text import format_explanation, format_report
from netverify.semantics import explain_flow

if TYPE_CHECKING:
    from netverify.model.lint import LintReport
    from netverify.model.matrix import ConnectivityMatrix

# NOTE: modules that only one command needs (matrix, lint, generate, the CI formats, diff's
# engine, text format and git revisions, explain's flow parser) are imported inside that
# command, and so are tempfile (--output) and traceback (--debug): `prove` on a small cluster
# is mostly interpreter start-up.

_Built = TypeVar("_Built")

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
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    GITHUB = "github"


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class FailOn(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    ANY = "any"


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
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.001, help="Solver seconds per query.")
]
RlimitOption = Annotated[
    int, typer.Option("--rlimit", min=0, help="Solver resource limit per query (0: none).")
]


@app.callback(invoke_without_command=True)
def _options(
    context: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True)
    ] = False,
) -> None:
    _DEBUG["enabled"] = debug
    if version:
        typer.echo(__version__)
        raise typer.Exit()
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())
        raise typer.Exit(EXIT_INPUT_ERROR)


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
    import tempfile

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
    # Help texts are rich markup: a literal "[" is written "\[".
    port: Annotated[str, typer.Option("--port", help=r"PORT\[/PROTOCOL] or NAME\[/PROTOCOL].")],
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.TEXT,
    strict: StrictOption = False,
) -> None:
    """Decide one flow and show the rules on both sides. Exit 0 allowed (on some node
    placement: traffic between a node and its pods is always allowed), 1 blocked."""
    from netverify.loading.flows import parse_flow

    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
        flow = parse_flow(loaded.cluster, source, destination, port)
    except InputError as error:
        _input_error(error)
    _print_warnings(loaded.warnings)
    explanation = explain_flow(loaded.cluster, flow)
    match output_format:
        case ExplainFormat.TEXT:
            text = format_explanation(explanation, loaded.sources)
        case ExplainFormat.JSON:
            text = dumps(explanation_json(explanation, loaded.sources))
        case _:
            assert_never(output_format)
    _write(text, None)
    raise typer.Exit(EXIT_HOLDS if explanation.allowed else EXIT_VIOLATED)


@contextmanager
def _long_lived(build: Callable[[], _Built]) -> Iterator[_Built]:
    """`build()`'s result (the loaded cluster), for the block. It is built with the cyclic
    garbage collector paused: a load makes no reference cycles, yet the collector's passes
    over its growing heap took about a fifth of a 10k-pod load. It is then left out of the
    collector's passes until the block ends (`gc.freeze`): it lives that long anyway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        built = build()
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
    try:
        yield built
    finally:
        gc.unfreeze()


def _prove_spec(spec_path: str, strict: bool, limits: SolverLimits) -> Report:
    raw = read_spec(spec_path)
    _show_progress(0, 0, f"loading {spec_path}")
    with _long_lived(lambda: load_manifests(raw.manifest_paths, strict=strict)) as loaded:
        _print_warnings(loaded.warnings)
        spec = resolve_spec(raw, loaded.cluster)
        report = prove(loaded, spec, limits, strict=strict, progress=_show_progress)
    _show_progress(0, 0, "")
    return report


def _show_progress(done: int, total: int, what: str) -> None:
    """One self-erasing status line on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return
    count = f"[{done}/{total}] " if total else ""
    line = f"{count}{what}"[:78] if what else ""
    sys.stderr.write(f"\r\x1b[K{line}")
    sys.stderr.flush()


@app.command(name="prove")
def prove_command(
    specs: Annotated[list[str], typer.Argument(help="Spec files (see docs/spec.md).")],
    output_format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
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
        case OutputFormat.SARIF | OutputFormat.JUNIT | OutputFormat.MARKDOWN | OutputFormat.GITHUB:
            text = _ci_format(output_format).format_prove(reports)
        case _:
            assert_never(output_format)
    _write(text, output)
    raise typer.Exit(_exit_code(reports))


class _CIFormat(Protocol):
    """What each CI format module (sarif, junit, markdown, github) offers."""

    def format_prove(self, reports: Sequence[Report]) -> str: ...

    def format_diff(self, report: DiffReport) -> str: ...


def _ci_format(output_format: OutputFormat) -> _CIFormat:
    """The module of a CI format, imported only when asked for (it is not `prove`'s usual
    start-up cost)."""
    from netverify.report import github, junit, markdown, sarif

    modules: dict[OutputFormat, _CIFormat] = {
        OutputFormat.SARIF: sarif,
        OutputFormat.JUNIT: junit,
        OutputFormat.MARKDOWN: markdown,
        OutputFormat.GITHUB: github,
    }
    return modules[output_format]


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


@app.command(name="diff")
def diff_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="BASE HEAD (two manifest paths), or with --base-ref the paths of both sides."
        ),
    ],
    base_ref: Annotated[
        str | None,
        typer.Option("--base-ref", help="Read BASE from this git revision of the same paths."),
    ] = None,
    pods: Annotated[
        PodScope, typer.Option("--pods", help="existing: the pods of either side; any: every pod.")
    ] = PodScope.EXISTING,
    namespaces: Annotated[
        NamespaceScope, typer.Option("--namespaces", help="existing or any namespace.")
    ] = NamespaceScope.EXISTING,
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 when findings of this kind exist."),
    ] = None,
    max_findings: Annotated[
        int, typer.Option("--max-findings", min=1, help="Stop after this many findings.")
    ] = DEFAULT_MAX_FINDINGS,
    output_format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
) -> None:
    """Connectivity added and removed between two revisions of the manifests."""
    from netverify.engine.diff import diff
    from netverify.loading.gitrev import paths_at_revision
    from netverify.report.diff_text import format_diff

    def load_sides() -> tuple[LoadedCluster, LoadedCluster, tuple[str, str]]:
        # The two sides share most files: each shared file is parsed once.
        parse_cache = ParseCache()
        if base_ref is not None:
            with paths_at_revision(base_ref, paths) as base_paths:
                base = _load_side(base_paths, strict, parse_cache)
            head = load_manifests(paths, strict=strict, parse_cache=parse_cache)
            return base, head, (base_ref, "work tree")
        if len(paths) != 2:
            raise InputError(
                [
                    Diagnostic(
                        severity=Severity.ERROR,
                        message="diff takes BASE HEAD (two paths), or --base-ref REV PATH...",
                    )
                ]
            )
        base = load_manifests([paths[0]], strict=strict, parse_cache=parse_cache)
        head = load_manifests([paths[1]], strict=strict, parse_cache=parse_cache)
        return base, head, (paths[0], paths[1])

    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    try:
        with _long_lived(load_sides) as (base, head, labels):
            _print_warnings((*base.warnings, *head.warnings))
            report = diff(base, head, Settings(), pods, namespaces, limits, labels, max_findings)
    except InputError as error:  # from loading: the diff itself reports in `report.error`
        _input_error(error)
    match output_format:
        case OutputFormat.TEXT:
            text = format_diff(report)
        case OutputFormat.JSON:
            text = dumps(diff_json(report))
        case OutputFormat.SARIF | OutputFormat.JUNIT | OutputFormat.MARKDOWN | OutputFormat.GITHUB:
            text = _ci_format(output_format).format_diff(report)
        case _:
            assert_never(output_format)
    _write(text, output)
    raise typer.Exit(_diff_exit_code(report, fail_on))


def _load_side(paths: list[str], strict: bool, parse_cache: ParseCache) -> LoadedCluster:
    """A side of a diff; paths that did not exist at that revision make an empty side."""
    if not paths:
        return LoadedCluster(cluster=Cluster())
    return load_manifests(paths, strict=strict, require_objects=False, parse_cache=parse_cache)


def _diff_exit_code(report: DiffReport, fail_on: "FailOn | None") -> int:
    if report.error:
        return EXIT_INPUT_ERROR
    changes = {finding.change for finding in report.findings}
    failing = {
        None: set(),
        FailOn.ADDED: {Change.ADDED},
        FailOn.REMOVED: {Change.REMOVED},
        FailOn.ANY: {Change.ADDED, Change.REMOVED},
    }[fail_on]
    if changes & failing:
        return EXIT_VIOLATED
    return EXIT_HOLDS if report.complete else EXIT_UNKNOWN


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the manifests and spec.yaml.")],
    namespaces: Annotated[
        int, typer.Option("--namespaces", help="Namespaces, kube-system and monitoring included.")
    ] = 20,
    pods: Annotated[int, typer.Option("--pods", help="Bare Pods plus workloads.")] = 1000,
    policies: Annotated[int, typer.Option("--policies", help="NetworkPolicies.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files.")] = 0,
    leak: Annotated[
        bool, typer.Option("--leak", help="Plant one rule that lets env=dev pods into prod.")
    ] = False,
) -> None:
    """Write a synthetic cluster and a spec whose verdicts are known (tests, benchmarks)."""
    from netverify.generate import GeneratorOptions, write_cluster

    options = GeneratorOptions(
        namespaces=namespaces, pods=pods, policies=policies, seed=seed, leak=leak
    )
    if problems := options.problems():
        typer.echo("netverify: invalid options:", err=True)
        for problem in problems:
            typer.echo(f"- {problem}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    typer.echo(write_cluster(options, out).summary(), nl=False)


class MatrixFormat(StrEnum):
    TEXT = "text"
    CSV = "csv"
    JSON = "json"
    MARKDOWN = "markdown"
    DOT = "dot"
    HTML = "html"


def _format_matrix(matrix: "ConnectivityMatrix", output_format: MatrixFormat) -> str:
    from netverify.report.matrix_csv import format_matrix_csv
    from netverify.report.matrix_dot import format_matrix_dot
    from netverify.report.matrix_html import format_matrix_html
    from netverify.report.matrix_json import matrix_json
    from netverify.report.matrix_markdown import format_matrix_markdown
    from netverify.report.matrix_text import format_matrix_text

    match output_format:
        case MatrixFormat.TEXT:
            return format_matrix_text(matrix)
        case MatrixFormat.CSV:
            return format_matrix_csv(matrix)
        case MatrixFormat.JSON:
            return dumps(matrix_json(matrix))
        case MatrixFormat.MARKDOWN:
            return format_matrix_markdown(matrix)
        case MatrixFormat.DOT:
            return format_matrix_dot(matrix)
        case MatrixFormat.HTML:
            return format_matrix_html(matrix)
        case _:
            assert_never(output_format)


@app.command()
def matrix(
    paths: Annotated[list[str], typer.Argument(help="Manifest files or folders; - for stdin.")],
    ports: Annotated[
        list[str] | None,
        typer.Option(
            "--port",
            help=r"PORT\[/PROTOCOL]: one cell per pair and port (repeatable); "
            "without it a cell says whether some port is open.",
        ),
    ] = None,
    group_by: Annotated[
        GroupBy, typer.Option("--group-by", help="What a row and a column stand for.")
    ] = GroupBy.POD,
    output_format: Annotated[
        MatrixFormat, typer.Option("--format", "-f", help="Output format.")
    ] = MatrixFormat.TEXT,
    output: OutputOption = None,
    strict: StrictOption = False,
) -> None:
    """Who can reach whom among the existing pods (self traffic allowed, external addresses
    left out)."""
    from netverify.engine.matrix import connectivity_matrix, parse_matrix_port

    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
        asked = [parse_matrix_port(port) for port in ports or []]
    except InputError as error:
        _input_error(error)
    _print_warnings(loaded.warnings)
    result = connectivity_matrix(loaded, Settings(), group_by, asked)
    _write(_format_matrix(result, output_format), output)


class LintFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def _format_lint(report: "LintReport", output_format: LintFormat) -> str:
    from netverify.report.lint_json import lint_json
    from netverify.report.lint_sarif import lint_sarif
    from netverify.report.lint_text import format_lint_text

    match output_format:
        case LintFormat.TEXT:
            return format_lint_text(report)
        case LintFormat.JSON:
            return dumps(lint_json(report))
        case LintFormat.SARIF:
            return dumps(lint_sarif(report))
        case _:
            assert_never(output_format)


@app.command()
def lint(
    paths: Annotated[list[str], typer.Argument(help="Manifest files or folders; - for stdin.")],
    output_format: Annotated[
        LintFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LintFormat.TEXT,
    output: OutputOption = None,
    pod_cidrs: Annotated[
        list[str] | None,
        typer.Option("--pod-cidr", help="A pod CIDR, for ipBlocks that cover pods (repeatable)."),
    ] = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rlimit: RlimitOption = DEFAULT_RLIMIT,
    strict: StrictOption = False,
) -> None:
    """Find policy mistakes (docs/lint.md); exit 1 when an error-severity finding exists."""
    from netverify.engine.lint import lint as run_lint

    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin)
        cidrs = tuple(_parse_pod_cidr(text) for text in pod_cidrs or [])
    except InputError as error:
        _input_error(error)
    _print_warnings(loaded.warnings)
    limits = SolverLimits(timeout_seconds=timeout, rlimit=rlimit)
    report = run_lint(loaded, Settings(), limits, cidrs)
    _write(_format_lint(report, output_format), output)
    raise typer.Exit(EXIT_VIOLATED if report.has_errors else EXIT_HOLDS)


def _parse_pod_cidr(text: str) -> IPNetwork:
    try:
        return ip_network(text)
    except ValueError as problem:
        raise InputError(
            [Diagnostic(severity=Severity.ERROR, message=f"--pod-cidr {text!r}: {problem}")]
        ) from problem


@app.command()
def schema() -> None:
    """Print the JSON Schema of spec files."""
    typer.echo(json.dumps(SpecFile.model_json_schema(), indent=2))


class _Interrupted(BaseException):
    """Ctrl-C, raised past click (which would turn a KeyboardInterrupt into "Aborted!" and
    exit 1); `finally` blocks still run, so no half-written report is left behind."""


def _interrupt(signal_number: int, frame: object) -> None:
    raise _Interrupted


def main() -> None:
    """Entry point: user-facing errors without tracebacks, Ctrl-C exits 130."""
    signal.signal(signal.SIGINT, _interrupt)
    # What a command built lives until the process ends: at exit, the interpreter's last
    # garbage collections need not walk the cluster, the encoding and the report again
    # (they are still freed; only the cyclic collector skips them).
    atexit.register(gc.freeze)
    try:
        app()
    except (_Interrupted, KeyboardInterrupt):
        typer.echo("netverify: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as crash:
        if _DEBUG["enabled"]:
            import traceback

            traceback.print_exc()
        typer.echo(
            f"netverify: internal error: {type(crash).__name__}: {crash} (rerun with --debug)",
            err=True,
        )
        sys.exit(EXIT_INPUT_ERROR)
