"""`netverify fix --apply`: the proved fixes written in place, every file or none.

The CLI runs in `tmp_path` (patch paths are relative to the current directory); the
all-or-none writer is also driven directly, with a rename made to fail half-way.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli import inplace
from netverify.cli.app import app
from netverify.cli.inplace import NotApplied, patches_to_apply, write_in_place
from netverify.model import InputError
from netverify.model.fix import FilePatch, FixReport
from tests.fix.test_fix import (
    FORBID_CLIENT_KEEP_OTHER,
    FROM_EVERY_NAMESPACE,
    REPO,
    _write,
)

FORBID_CLIENT_AND_EVERYTHING = (
    FORBID_CLIENT_KEEP_OTHER
    + """\
  - name: nothing-reaches-server
    forbid:
      to: {pod: b/server}
"""
)


def _copy_blog(folder: Path) -> None:
    shutil.copytree(REPO / "examples" / "blog", folder / "examples" / "blog")
    shutil.copytree(REPO / "specs", folder / "specs")


def test_the_blog_fix_is_written_as_git_apply_would_and_prove_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied, patched = tmp_path / "applied", tmp_path / "patched"
    _copy_blog(applied)
    _copy_blog(patched)
    monkeypatch.chdir(patched)
    patch = CliRunner().invoke(app, ["fix", "specs/isolation.yaml", "--format", "patch"])
    (patched / "fix.patch").write_text(patch.stdout)
    subprocess.run(["git", "apply", "fix.patch"], cwd=patched, check=True)
    monkeypatch.chdir(applied)
    result = CliRunner().invoke(app, ["fix", "specs/isolation.yaml", "--apply"])
    assert result.exit_code == 0, result.output
    assert "netverify: fixed examples/blog/policy.yaml" in result.stderr
    assert CliRunner().invoke(app, ["prove", "specs/isolation.yaml"]).exit_code == 0
    policy = Path("examples/blog/policy.yaml")
    assert policy.read_text() == (patched / policy).read_text()
    assert policy.read_text() != (REPO / policy).read_text()
    assert sorted(p.name for p in policy.parent.iterdir()) == sorted(
        p.name for p in (REPO / policy.parent).iterdir()
    ), "a temporary file was left behind"


def test_the_fixed_invariants_are_written_and_the_unfixable_one_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_CLIENT_AND_EVERYTHING)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--apply"])
    assert result.exit_code == 1, result.output
    assert "nothing-reaches-server: no proved fix" in result.stdout
    assert "netverify: fixed policies.yaml" in result.stderr
    assert Path("policies.yaml").read_text() != FROM_EVERY_NAMESPACE
    proved = CliRunner().invoke(app, ["prove", "spec.yaml", "--format", "json"])
    statuses = {r["name"]: r["status"] for r in json.loads(proved.stdout)["results"]}
    assert statuses == {
        "client-never-reaches-server": "holds",
        "other-reaches-server": "holds",
        "nothing-reaches-server": "violated",
    }


def test_without_apply_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_CLIENT_KEEP_OTHER)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["fix", "spec.yaml"]).exit_code == 0
    assert Path("policies.yaml").read_text() == FROM_EVERY_NAMESPACE


def _patch(path: Path, original: str, patched: str) -> FilePatch:
    return FilePatch(path=str(path), diff="(diff)", original=original, patched=patched)


def _report(*patches: FilePatch, safe: bool = True) -> FixReport:
    return FixReport(spec_file="spec.yaml", patches=patches, together_safe=safe)


def test_fixes_not_proved_safe_together_are_not_applied(tmp_path: Path) -> None:
    patch = _patch(tmp_path / "p.yaml", "a\n", "b\n")
    with pytest.raises(NotApplied, match="not proved to keep every invariant"):
        patches_to_apply([_report(patch, safe=False)])
    assert patches_to_apply([_report(patch)]) == (patch,)


def test_two_specs_changing_one_file_differently_are_not_applied(tmp_path: Path) -> None:
    first = _patch(tmp_path / "p.yaml", "a\n", "b\n")
    second = first.model_copy(update={"patched": "c\n"})
    with pytest.raises(NotApplied, match="two specs change this file differently"):
        patches_to_apply([_report(first), _report(second)])
    assert patches_to_apply([_report(first), _report(first)]) == (first,)


def test_a_file_changed_since_it_was_read_stops_every_write(tmp_path: Path) -> None:
    kept, edited = tmp_path / "kept.yaml", tmp_path / "edited.yaml"
    kept.write_text("a\n")
    edited.write_text("edited by someone else\n")
    patches = (_patch(kept, "a\n", "b\n"), _patch(edited, "x\n", "y\n"))
    with pytest.raises(InputError, match="changed since netverify read it"):
        write_in_place(patches)
    assert kept.read_text() == "a\n"
    assert edited.read_text() == "edited by someone else\n"


def test_a_rename_failing_half_way_puts_back_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing, new, last = tmp_path / "a.yaml", tmp_path / "b-new.yaml", tmp_path / "c.yaml"
    existing.write_text("a\n")
    existing.chmod(0o640)
    last.write_text("c\n")
    patches = (_patch(existing, "a\n", "A\n"), _patch(new, "", "B\n"), _patch(last, "c\n", "C\n"))
    real_replace = os.replace

    def replace(source: str | Path, target: str | Path) -> None:
        if Path(target) == last:
            raise PermissionError(13, "Permission denied", str(target))
        real_replace(source, target)

    monkeypatch.setattr(inplace.os, "replace", replace)
    with pytest.raises(InputError, match=r"c.yaml: Permission denied; nothing written"):
        write_in_place(patches)
    assert existing.read_text() == "a\n"
    assert existing.stat().st_mode & 0o777 == 0o640
    assert not new.exists()
    assert last.read_text() == "c\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "c.yaml"]
    monkeypatch.setattr(inplace.os, "replace", real_replace)
    write_in_place(patches)
    assert [p.read_text() for p in (existing, new, last)] == ["A\n", "B\n", "C\n"]
    assert existing.stat().st_mode & 0o777 == 0o640
