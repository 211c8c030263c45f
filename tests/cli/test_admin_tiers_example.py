"""The admin-tiers example: `netverify prove specs/admin-tiers.yaml` gives the verdicts its
README states."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

REPO = Path(__file__).resolve().parents[2]


def test_prove_gives_the_verdicts_the_readme_states(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, ["prove", "specs/admin-tiers.yaml"])
    assert result.exit_code == 1, result.stdout
    found = dict(re.findall(r"\] ([\w-]+): (holds|violated|unknown)", result.stdout))
    readme = (REPO / "examples" / "admin-tiers" / "README.md").read_text()
    stated = {
        name: verdict.strip("*")
        for name, verdict in re.findall(r"^\| `([\w-]+)` .*? \| (\**\w+\**) \|", readme, re.M)
    }
    assert found == stated
    assert set(found.values()) == {"holds", "violated"}
