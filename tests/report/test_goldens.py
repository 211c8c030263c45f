"""Golden files for every CI format, produced through the CLI from the repository root.

`prove` runs on specs/devprod.yaml and specs/isolation.yaml; `diff` on the fixture pair in
tests/diff/fixtures (one widened namespaceSelector); and `prove --format json` on a small
generated cluster, whose witnesses and counterexamples are pinned. Refresh with
`pytest --update-goldens`.
"""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.generate import SPEC_FILE, GeneratorOptions, write_cluster
from tests.helpers import Golden
from tests.report.helpers import FIXTURES, REPO, SPECS

FORMATS = {"sarif": "sarif.json", "junit": "junit.xml", "markdown": "md", "github": "github.txt"}


def _run(args: list[str], output: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, [*args, "--output", str(output)])
    return result.exit_code, output.read_text(encoding="utf-8")


@pytest.mark.parametrize("output_format", sorted(FORMATS))
def test_prove_golden(
    output_format: str, golden: Golden, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _run(["prove", *SPECS, "--format", output_format], tmp_path / "out", monkeypatch)
    assert code == 1  # one invariant of each spec is violated on purpose
    golden.check(f"prove.{FORMATS[output_format]}", text)


@pytest.mark.parametrize("output_format", sorted(FORMATS))
def test_diff_golden(
    output_format: str, golden: Golden, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _run(
        ["diff", f"{FIXTURES}/base", f"{FIXTURES}/head", "--format", output_format],
        tmp_path / "out",
        monkeypatch,
    )
    assert code == 0  # no --fail-on
    golden.check(f"diff.{FORMATS[output_format]}", text)


@pytest.mark.parametrize("output_format", sorted(FORMATS))
def test_unchanged_diff_golden(
    output_format: str, golden: Golden, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _run(
        ["diff", f"{FIXTURES}/base", f"{FIXTURES}/base", "--format", output_format],
        tmp_path / "out",
        monkeypatch,
    )
    assert code == 0
    golden.check(f"diff-unchanged.{FORMATS[output_format]}", text)


def test_prove_witnesses_on_a_generated_cluster(
    golden: Golden, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which flow the solver returns depends on how it is driven (each check, the order terms
    are built in), even where no verdict changes: the witnesses of a cluster with many
    equally good answers show such a change."""
    folder = tmp_path / "cluster"
    write_cluster(GeneratorOptions(namespaces=8, pods=120, policies=40, seed=5), folder)
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(app, ["prove", SPEC_FILE, "--format", "json", "--output", "out"])
    assert result.exit_code == 1  # the generated spec has invariants violated by design
    golden.check("prove-generated.json", (folder / "out").read_text(encoding="utf-8"))
