"""Every input of the bad-input corpus is refused with exactly its diagnostics, never a verdict.

Each case runs the real command line (in-process, through typer's `CliRunner`) in a scratch
copy of its folder; see `helpers.py` for the format of `corpus/cases.yaml`.
"""

import os
import re
from pathlib import Path

import pytest

from tests.hardening.helpers import (
    CORPUS,
    EXIT_INPUT_ERROR,
    Case,
    diagnostic_lines,
    invoke,
    load_cases,
    prepare,
)

CASES = load_cases()
VERDICT = re.compile(
    r"^\S+:[0-9]+: (?:note|warning|error): \[\w+\] \S+: (?:holds|violated|unknown)"
    r"|[0-9]+ holds|\bholds$",
    re.MULTILINE,
)
"""A verdict as the text report prints it: a result header or the summary line."""

VACUOUS_SPEC = """\
manifests: {manifests}
invariants:
  - name: always-holds
    forbid:
      from: {{ip: 192.0.2.1/32}}
      to: {{ip: 198.51.100.1/32}}
"""
"""A spec that holds over any cluster (no policy governs traffic between two external
addresses): any output of `prove` but an input error would be a verdict."""


def case_params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        marks: list[pytest.MarkDecorator] = []
        if case.xfail is not None:
            marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
        if case.skip_as_root:
            marks.append(
                pytest.mark.skipif(
                    os.geteuid() == 0, reason="file permissions do not stop root from reading"
                )
            )
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def test_the_corpus_is_large_and_every_folder_is_a_case() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)
    folders = {path.name for path in CORPUS.iterdir() if path.is_dir()}
    assert folders <= set(names), f"folders without a case: {sorted(folders - set(names))}"
    for case in CASES:
        assert case.expected, f"{case.name}: no expected diagnostics"
        assert case.command in ("validate", "prove"), case.name


def test_no_diagnostic_repeats_its_object_name() -> None:
    """A diagnostic prints as `OBJECT: message`: a message naming its object again read
    `NetworkPolicy prod/np: NetworkPolicy prod/np is defined more than once`."""
    for case in CASES:
        for expected in case.expected:
            if expected.object is not None:
                assert expected.object not in expected.message, (case.name, str(expected))


@pytest.mark.parametrize("case", case_params())
def test_case_is_refused_with_its_diagnostics(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(prepare(case, tmp_path))
    result = invoke(list(case.run), case.env)
    assert result.exit_code == case.exit, result.stderr
    assert diagnostic_lines(result.stderr) == [str(d) for d in case.expected]
    assert not VERDICT.search(result.stdout + result.stderr)
    if case.exit == EXIT_INPUT_ERROR:
        assert result.stdout == ""
        assert result.stderr.startswith("netverify: invalid input:\n")


@pytest.mark.parametrize("case", case_params())
def test_prove_never_says_holds(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same inputs behind a spec that holds on any cluster: `prove` must refuse them all.

    Inputs that are only warnings by default are proved with `--strict`.
    """
    folder = prepare(case, tmp_path)
    monkeypatch.chdir(folder)
    args = list(case.run)
    if case.command == "validate":
        spec = folder / "__prove__.yaml"
        spec.write_text(VACUOUS_SPEC.format(manifests=list(case.paths)), encoding="utf-8")
        strict = case.strict or case.exit != EXIT_INPUT_ERROR
        args = ["prove", *(["--strict"] if strict else []), spec.name]
    result = invoke(args, case.env)
    output = result.stdout + result.stderr
    assert not VERDICT.search(output), output
    assert result.exit_code == EXIT_INPUT_ERROR, output
    assert result.stdout == ""


def test_the_vacuous_spec_does_hold_on_good_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above is not vacuous: on valid manifests the same spec prints a verdict."""
    folder = prepare(CASES[0], tmp_path)
    monkeypatch.chdir(folder)
    (folder / "ok.yaml").write_text(VACUOUS_SPEC.format(manifests=["../blog"]), encoding="utf-8")
    result = invoke(["prove", "ok.yaml"], {})
    assert result.exit_code == 0, result.stderr
    assert VERDICT.search(result.stdout)
