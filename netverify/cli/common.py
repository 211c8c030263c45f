"""What every command shares: exit codes, common options, warnings and input errors on
stderr, writing the report, the long-lived load and the progress line."""

import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from netverify.loading import load_manifests
from netverify.loading.live import ClusterSource
from netverify.model import Diagnostic, InputError, LoadedCluster, Severity
from netverify.report.formats import OutputFormat

if TYPE_CHECKING:
    from netverify.loading.settings import SettingsSources

EXIT_HOLDS = 0
EXIT_VIOLATED = 1
EXIT_INPUT_ERROR = 2
EXIT_UNKNOWN = 3
EXIT_INTERRUPTED = 130

DEBUG = {"enabled": False}
"""Set by `--debug`: show tracebacks of internal errors."""

KEEP_UNTIL_EXIT = {"enabled": False}
"""Set by the entry point, which ends the process with `os._exit`: what a command built is
then kept (`keep_until_exit`) rather than freed object by object just before the end."""

_kept: list[object] = []

PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Manifest files or folders; - for stdin (optional with --cluster)."),
]
ClusterOption = Annotated[
    bool,
    typer.Option(
        "--cluster",
        help="Also read the cluster of the current kubeconfig context (needs "
        "netverify\\[cluster]; docs/cluster.md).",
    ),
]
ContextOption = Annotated[
    str | None,
    typer.Option("--context", help="Also read the cluster of this kubeconfig context."),
]
KubeconfigOption = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        help="The kubeconfig of --cluster/--context (default: $KUBECONFIG, then ~/.kube/config).",
    ),
]
MaxFindingsOption = Annotated[
    int,
    typer.Option(
        "--max-findings",
        min=1,
        help="Stop after this many flow groups (merged into fewer findings for the listing).",
    ),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Processes proving invariants at once (default: the number of cores); the "
        "output does not depend on it.",
    ),
]


def jobs_or_cores(jobs: int | None) -> int:
    """`--jobs`, or the number of cores when it is not given."""
    return jobs or os.cpu_count() or 1


StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Treat unknown fields and unmodelled policy kinds as errors (like kubectl's "
        "strict field validation).",
    ),
]
NamespaceOption = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        help="Put objects without a namespace in this one, and refuse objects in another "
        "(like kubectl apply -n).",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
"""The format option of `prove` and `diff`."""
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.001, help="Solver seconds per query.")
]
RlimitOption = Annotated[
    int, typer.Option("--rlimit", min=0, help="Solver resource limit per query (0: none).")
]

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="CNI profile: upstream, cilium, calico, antrea or ovn-kubernetes "
        "(docs/settings.md); overrides netverify.yaml.",
    ),
]
PodCidrOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pod-cidr",
        help="A pod CIDR (repeatable): where pods without a known IP get addresses; "
        "overrides netverify.yaml's podCIDRs.",
    ),
]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Read settings from this file instead of the netverify.yaml found from the "
        "working directory up.",
    ),
]
NoConfigOption = Annotated[
    bool, typer.Option("--no-config", help="Read no netverify.yaml (built-in defaults).")
]

_Built = TypeVar("_Built")
Progress = Callable[[int, int, str], None]


def print_warnings(warnings: tuple[Diagnostic, ...]) -> None:
    for warning in in_line_order(warnings):
        typer.echo(f"- {warning}", err=True)


def in_line_order(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Each file's diagnostics by line, the files in the order they were read (an object's
    egress rules are read after its ingress rules: errors at lines 87, 137, 14, 64 read as
    14, 64, 87, 137); those of no file keep their place after them."""
    files: dict[str | None, int] = {}
    for diagnostic in diagnostics:
        if diagnostic.span is not None:
            files.setdefault(diagnostic.span.file, len(files))
    return sorted(
        diagnostics,
        key=lambda d: (files[d.span.file], d.span.line) if d.span else (len(files), 0),
    )


class OutOfMemory(Exception):
    """Memory ran out while a command was `doing` something; `hint` says what to try."""

    def __init__(self, doing: str, hint: str) -> None:
        super().__init__(f"out of memory while {doing}; {hint}")


def ran_out_of_memory(error: BaseException) -> bool:
    """A MemoryError, or the SystemError a C extension raises when one interrupts it."""
    cause = error.__cause__ or error.__context__
    return isinstance(error, MemoryError) or (
        isinstance(error, SystemError) and isinstance(cause, MemoryError)
    )


@contextmanager
def memory_hint(doing: str, hint: str) -> Iterator[None]:
    """Running out of memory in the block becomes an `OutOfMemory` saying what to try."""
    try:
        yield
    except Exception as error:
        if not ran_out_of_memory(error):
            raise
        raise OutOfMemory(doing, hint) from error


def input_error(error: InputError) -> NoReturn:
    typer.echo("netverify: invalid input:", err=True)
    for diagnostic in in_line_order(error.diagnostics):
        typer.echo(f"- {diagnostic}", err=True)
    raise typer.Exit(EXIT_INPUT_ERROR)


def settings_sources(
    profile: str | None, pod_cidrs: list[str] | None, config: str | None, no_config: bool
) -> "SettingsSources":
    """The settings flags resolved with netverify.yaml (docs/settings.md); exit 2 on an
    error in either."""
    from netverify.loading.settings import SettingsFlags
    from netverify.loading.settings import settings_sources as resolve

    flags = SettingsFlags(profile, tuple(pod_cidrs or ()), config, no_config)
    try:
        return resolve(flags)
    except InputError as error:
        input_error(error)


def cluster_source(
    cluster: bool, context: str | None, kubeconfig: str | None
) -> ClusterSource | None:
    """The live cluster `--cluster`, `--context` or `--kubeconfig` names, if any."""
    if not cluster and context is None and kubeconfig is None:
        return None
    return ClusterSource(context=context, kubeconfig=kubeconfig)


def load_input(
    paths: list[str] | None,
    strict: bool,
    cluster: bool = False,
    context: str | None = None,
    kubeconfig: str | None = None,
    namespace: str | None = None,
) -> LoadedCluster:
    """The manifests of `paths` and the objects of the live cluster the options name, as one
    cluster; raises `InputError` when neither is given. `namespace` is `-n`: where objects
    without one go."""
    live = cluster_source(cluster, context, kubeconfig)
    if not paths and live is None:
        raise InputError(
            [Diagnostic(severity=Severity.ERROR, message="give manifest paths or --cluster")]
        )
    clusters = () if live is None else (live,)
    return load_manifests(
        paths or [], strict=strict, stdin=sys.stdin, clusters=clusters, namespace=namespace
    )


def write(text: str, output: Path | None) -> None:
    """To stdout, or atomically to a file: a temporary file renamed into place."""
    write_stream((text,), output)


def write_stream(chunks: Iterable[str], output: Path | None) -> None:
    """Each chunk as it comes, to stdout or to the temporary file that is renamed into place
    once the last one is written."""
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    import tempfile

    folder = output.parent if str(output.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for chunk in chunks:
                stream.write(chunk)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def long_lived(build: Callable[[], _Built], kept: bool = True) -> Iterator[_Built]:
    """`build()`'s result (the loaded cluster), for the block. It is built with the cyclic
    garbage collector paused: a load makes no reference cycles, yet the collector's passes
    over its growing heap took about a fifth of a 10k-pod load. It is then left out of the
    collector's passes until the block ends (`gc.freeze`): it lives that long anyway, and
    with `kept` until the process ends if `keep_until_exit` keeps it (a command that loads
    several times keeps only its last load: memory must not grow with the loads)."""
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
        if kept:
            keep_until_exit(built)


def keep_until_exit(built: object) -> None:
    """Keep `built` alive until the process ends, under `KEEP_UNTIL_EXIT`: freeing a
    10,000-pod cluster took ~20 ms, its solver and terms ~40 ms, for nothing. Otherwise (a
    test invoking the app) it is freed as usual."""
    if KEEP_UNTIL_EXIT["enabled"]:
        _kept.append(built)


@contextmanager
def progress_line() -> Iterator[Progress]:
    """A callback showing `[done/total] what` on one status line on stderr that is erased
    when the block ends (rich's transient progress display), only when stderr is a
    terminal; otherwise one that does nothing."""
    if not sys.stderr.isatty():
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import Progress as ProgressDisplay
    from rich.progress import TextColumn

    columns = TextColumn("{task.description}", markup=False)
    with ProgressDisplay(columns, console=Console(stderr=True), transient=True) as display:
        task = display.add_task("", total=None)

        def show(done: int, total: int, what: str) -> None:
            count = f"[{done}/{total}] " if total else ""
            display.update(task, description=f"{count}{what}"[:78])

        yield show


def _no_progress(done: int, total: int, what: str) -> None:
    """Progress where no one watches."""
