"""The typer app: global options, the commands in the order `--help` lists them, and the
entry point (`netverify`, `python -m netverify`).

NOTE: modules that only one command needs (matrix, lint, generate, the formats, diff's
engine and git revisions, explain's flow parser) are imported inside that command, and so
are tempfile (--output) and traceback (--debug): `prove` on a small cluster is mostly
interpreter start-up.
"""

import atexit
import gc
import signal
import sys
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
    """Entry point: user-facing errors without tracebacks, running out of memory exits 2
    with what to try, Ctrl-C exits 130."""
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
