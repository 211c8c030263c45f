"""The typer app: global options, the commands in the order `--help` lists them, and the
entry point (`netverify`, `python -m netverify`).

NOTE: modules that only one command needs (matrix, lint, generate, the formats, diff's
engine and git revisions, explain's flow parser) are imported inside that command, and so
are tempfile (--output) and traceback (--debug): `prove` on a small cluster is mostly
interpreter start-up.
"""

import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from netverify import __version__
from netverify.cli import (
    diff,
    explain,
    fix,
    generate,
    lint,
    matrix,
    migrate,
    prove,
    schema,
    snapshot,
    validate,
)
from netverify.cli.common import (
    DEBUG,
    EXIT_INPUT_ERROR,
    EXIT_INTERRUPTED,
    KEEP_UNTIL_EXIT,
    OutOfMemory,
    ran_out_of_memory,
)

app = typer.Typer(
    help="Prove invariants about Kubernetes NetworkPolicies, with counterexample flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    DEBUG["enabled"] = debug
    if version:
        typer.echo(__version__)
        raise typer.Exit()
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())
        raise typer.Exit(EXIT_INPUT_ERROR)


app.command(name="validate")(validate.validate)
app.command(name="explain")(explain.explain)
app.command(name="prove")(prove.prove)
app.command(name="diff")(diff.diff)
app.command(name="fix")(fix.fix)
app.command(name="generate")(generate.generate)
app.command(name="matrix")(matrix.matrix)
app.command(name="lint")(lint.lint)
app.command(name="migrate")(migrate.migrate)
app.command(name="schema")(schema.schema)
app.command(name="snapshot")(snapshot.snapshot)


class _Interrupted(BaseException):
    """Ctrl-C, raised past click (which would turn a KeyboardInterrupt into "Aborted!" and
    exit 1); `finally` blocks still run, so no half-written report is left behind."""


def _interrupt(signal_number: int, frame: object) -> None:
    raise _Interrupted


def main() -> None:
    """Entry point: `run`, then the process ends at once, as mypy's does. What a command
    built (the cluster, the encoding, Z3's context, the report) lives until the end, and the
    interpreter's teardown would only free it object by object (tens of milliseconds on a
    10,000-pod cluster), so the command keeps it (`KEEP_UNTIL_EXIT`)."""
    KEEP_UNTIL_EXIT["enabled"] = True
    _pad_the_heap()
    code = _exit_code(run)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: what was left unwritten is lost either way
        code = code or EXIT_INPUT_ERROR
    _end_the_resource_tracker()
    os._exit(code)


def _end_the_resource_tracker() -> None:
    """End multiprocessing's resource tracker, when worker processes started one, and reap
    it: the command leaves no process behind.

    A spawned pool (`engine.workers`) starts the tracker with its first worker and hands
    each worker its pipe; the pool's queues register their named semaphores with it. It
    unlinks those a process failed to, once every holder of its pipe has ended, so it ends
    after this process unless this process closes its end and waits, which Python does
    neither at `os._exit` nor at a normal exit. By now every pool is shut down (workers
    joined, semaphores unlinked): the tracker only ends (about 20 ms, its interpreter's
    teardown)."""
    module = sys.modules.get("multiprocessing.resource_tracker")
    stop = getattr(getattr(module, "_resource_tracker", None), "_stop", None)
    if stop is not None:
        stop()  # returns at once when no tracker was started


M_TOP_PAD = -2
"""glibc's `mallopt` parameter: how much more memory the heap takes each time it grows,
and keeps when memory at its top is freed."""
HEAP_PAD = 64 << 20


def _pad_the_heap() -> None:
    """Let glibc's heap grow, and stay, `HEAP_PAD` ahead of what is in use (the default is
    128 KiB). A load and an encoding allocate and free in waves; the heap then shrinks and
    grows again, and each page it takes back is a page fault: on the 10,000-pod tier ~10k
    faults fewer, ~15% of `prove`'s system time. Peak memory is the same (pages the heap
    holds untouched are not resident). Elsewhere than glibc (no `mallopt`) nothing changes.
    """
    import ctypes  # z3 imports it anyway

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_TOP_PAD, HEAP_PAD)


def _exit_code(run: Callable[[], None]) -> int:
    """The code `run` exits with (`sys.exit`'s argument; a message is printed, as
    `sys.exit` prints it, and exits 1)."""
    try:
        run()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    return 0


def run() -> None:
    """The command line, ending in `SystemExit`: user-facing errors without tracebacks,
    running out of memory exits 2 with what to try, Ctrl-C exits 130."""
    signal.signal(signal.SIGINT, _interrupt)
    try:
        app()
    except (_Interrupted, KeyboardInterrupt):
        typer.echo("netverify: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OutOfMemory as crash:
        typer.echo(f"netverify: {crash}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    except Exception as crash:
        if ran_out_of_memory(crash):
            typer.echo(
                "netverify: out of memory; try fewer manifests at a time (a folder or a "
                "namespace's files), or a machine with more memory",
                err=True,
            )
            sys.exit(EXIT_INPUT_ERROR)
        if DEBUG["enabled"]:
            import traceback

            traceback.print_exc()
        typer.echo(
            f"netverify: internal error: {type(crash).__name__}: {crash} (rerun with --debug)",
            err=True,
        )
        sys.exit(EXIT_INPUT_ERROR)
