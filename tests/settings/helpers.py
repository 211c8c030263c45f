"""Helpers of the settings tests."""

from typer.testing import CliRunner

from netverify.cli.app import app


def run_cli(*args: str) -> tuple[int, str]:
    """The command's exit code and standard output."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout
