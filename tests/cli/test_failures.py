"""How the command line fails: Ctrl-C and internal errors give a short message and a known
exit code; only --debug shows a traceback."""

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netverify.cli import app as cli
from netverify.cli import validate
from netverify.engine.matrix import MatrixComputation


@pytest.fixture(autouse=True)
def _restore_sigint() -> Iterator[None]:
    """`run()` installs its own Ctrl-C handler; the test runner needs its own back."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


def _run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    monkeypatch.setattr(sys, "argv", ["netverify", *argv])
    with pytest.raises(SystemExit) as exited:
        cli.run()
    code = exited.value.code
    assert isinstance(code, int)
    return code


def test_ctrl_c_exits_130_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(validate, "load_input", interrupted)
    assert _run_main(monkeypatch, ["validate", "examples/blog"]) == 130
    captured = capsys.readouterr()
    assert captured.err.strip() == "netverify: interrupted"
    assert captured.out == ""


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_is_one_line_unless_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug: bool
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(validate, "load_input", broken)
    argv = ["--debug"] if debug else []
    assert _run_main(monkeypatch, [*argv, "validate", "examples/blog"]) == 2
    captured = capsys.readouterr()
    assert "netverify: internal error: RuntimeError: boom" in captured.err
    assert ("Traceback" in captured.err) is debug
    assert captured.out == ""


@pytest.mark.parametrize("chained", [False, True])
def test_running_out_of_memory_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], chained: bool
) -> None:
    """A MemoryError, or the SystemError a C extension raises from one, exits 2 with what to
    try: never an internal error."""

    def exhausted(*args: object, **kwargs: object) -> None:
        if chained:
            raise SystemError("error return without exception set") from MemoryError()
        raise MemoryError

    monkeypatch.setattr(validate, "load_input", exhausted)
    assert _run_main(monkeypatch, ["validate", "examples/blog"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("netverify: out of memory; try fewer manifests at a time")
    assert "internal error" not in err


def test_matrix_out_of_memory_says_what_to_try(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(MatrixComputation, "row", exhausted)
    out = tmp_path / "m.csv"
    assert _run_main(monkeypatch, ["matrix", "examples/blog", "-f", "csv", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "netverify: out of memory while computing the matrix of 3 pods by pod; "
        "try --group-by namespace, or --format csv\n"
    )
    assert list(tmp_path.iterdir()) == []
