"""A fix that makes every edit of another proved fix and more is not shown: it only adds
changes the invariant does not need (Online Boutique with paymentservice opened to every pod:
"narrow loadgenerator's egress, and narrow paymentservice's ingress" came second to "narrow
paymentservice's ingress")."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from tests.engine.test_open_rules import SPEC, _cluster


def test_no_shown_fix_makes_every_edit_of_another_and_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(_cluster({}), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    (invariant,) = json.loads(result.stdout)["specs"][0]["invariants"]
    edited = [
        frozenset((p["name"], p["direction"], p["rule"]) for p in fix["policies"])
        for fix in invariant["fixes"]
    ]
    assert edited[0] == {("payment", "Ingress", 0)}
    assert not any(first < second for first in edited for second in edited)
