"""The bad-input corpus: `corpus/cases.yaml` lists each case, `corpus/<name>/` holds its files.

A case runs the command line (`run`, the arguments after `netverify`) in a scratch copy of
its folder, next to a copy of `examples/blog` in `../blog` (so a spec can say
`manifests: [../blog]`), and expects exit code `exit` (default 2) and exactly the
diagnostics in `expected`, each printed as `- {file}:{line}: {severity}: {object}: {field}:
{message}` on stderr.

Optional keys: `env` (environment variables), `setup` (links and permissions that git does
not keep: `{symlink: [link, target]}`, `{chmod: [file, mode]}`), `skip_as_root` (permissions
do not stop root), `xfail` (why the command line does not refuse the input yet).
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from typer.testing import CliRunner, Result

from netverify.cli.app import app
from netverify.model import Diagnostic, Severity, SourceSpan

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
CASES_FILE = CORPUS / "cases.yaml"
BLOG = HERE.parents[1] / "examples" / "blog"
EXIT_INPUT_ERROR = 2


@dataclass(frozen=True)
class Case:
    """One bad input and what the command line must say about it."""

    name: str
    about: str
    run: tuple[str, ...]
    expected: tuple[Diagnostic, ...]
    exit: int = EXIT_INPUT_ERROR
    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[dict[str, list[str]], ...] = ()
    skip_as_root: bool = False
    xfail: str | None = None

    @property
    def command(self) -> str:
        return self.run[0]

    @property
    def strict(self) -> bool:
        return "--strict" in self.run

    @property
    def paths(self) -> tuple[str, ...]:
        """The file arguments of the command."""
        return tuple(arg for arg in self.run[1:] if not arg.startswith("-"))


def diagnostic(entry: dict[str, object]) -> Diagnostic:
    """An `expected` entry of cases.yaml as the `Diagnostic` it stands for."""
    file, line = entry.get("file"), entry.get("line", 1)
    assert isinstance(line, int)
    span = SourceSpan(file=str(file), line=line) if file is not None else None
    return Diagnostic(
        severity=Severity(str(entry.get("severity", "error"))),
        message=str(entry["message"]),
        span=span,
        object=None if entry.get("object") is None else str(entry["object"]),
        field=None if entry.get("field") is None else str(entry["field"]),
    )


def load_cases() -> list[Case]:
    raw_cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for raw in raw_cases:
        cases.append(
            Case(
                name=raw["name"],
                about=raw["about"],
                run=tuple(raw["run"]),
                expected=tuple(diagnostic(entry) for entry in raw.get("expected", ())),
                exit=raw.get("exit", EXIT_INPUT_ERROR),
                env={key: str(value) for key, value in raw.get("env", {}).items()},
                setup=tuple(raw.get("setup", ())),
                skip_as_root=raw.get("skip_as_root", False),
                xfail=raw.get("xfail"),
            )
        )
    return cases


def prepare(case: Case, scratch: Path) -> Path:
    """Copy the case's files (and the blog example) into `scratch`; the case's folder."""
    folder = scratch / "case"
    source = CORPUS / case.name
    if source.is_dir():
        shutil.copytree(source, folder, symlinks=True)
    else:
        folder.mkdir()
    shutil.copytree(BLOG, scratch / "blog")
    for step in case.setup:
        match step:
            case {"symlink": [link, target]}:
                os.symlink(target, folder / link)
            case {"chmod": [name, mode]}:
                (folder / name).chmod(int(mode, 8))
            case _:
                raise AssertionError(f"{case.name}: unknown setup step {step}")
    return folder


def invoke(args: list[str], env: dict[str, str]) -> Result:
    """The command line, in-process; a crash (an exception other than an exit) fails."""
    result = CliRunner().invoke(app, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed: {result.exception!r}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def diagnostic_lines(stderr: str) -> list[str]:
    """The bullet lines of stderr (one diagnostic each), without the bullet."""
    return [line.removeprefix("- ") for line in stderr.splitlines() if line.startswith("- ")]
