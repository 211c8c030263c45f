"""`diff --base-ref` on a real (temporary) git repository, and the CI script on the same kind
of repository, as the GitHub Action would run it.

Commit 1 holds the BASE fixture; commit 2 widens api-from-prod's namespaceSelector so that
dev reaches prod/api; commit 3 only reorders the policies.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from tests.report.helpers import validate_sarif

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "netverify-ci.sh"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def _commit(repo: Path, source: Path, message: str) -> None:
    target = repo / "k8s"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Commits: base, widen (dev reaches prod/api), reorder (a pure refactor)."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _commit(root, FIXTURES / "base", "base")
    _commit(root, FIXTURES / "head", "widen api-from-prod")
    policies = (root / "k8s" / "policies.yaml").read_text(encoding="utf-8")
    documents = [doc for doc in policies.split("---\n") if doc.strip()]
    (root / "k8s" / "policies.yaml").write_text("---\n".join(reversed(documents)))
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "reorder policies")
    return root


def _widened_line(repo: Path, revision: str) -> int:
    text = _git(repo, "show", f"{revision}:k8s/policies.yaml").splitlines()
    start = text.index("  name: api-from-prod")
    return next(i for i in range(start, len(text)) if text[i] == "    - from:") + 1


def test_base_ref_finds_the_widening(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git(repo, "checkout", "-q", "HEAD~1")  # the widening commit, compared with its parent
    monkeypatch.chdir(repo)
    sarif_file = tmp_path / "diff.sarif"
    result = CliRunner().invoke(
        app,
        [
            *("diff", "--base-ref", "HEAD~1", "k8s", "--fail-on", "added"),
            *("--format", "sarif", "--output", str(sarif_file)),
        ],
    )
    assert result.exit_code == 1, result.output
    log: dict[str, Any] = json.loads(sarif_file.read_text(encoding="utf-8"))
    validate_sarif(log)
    (finding,) = log["runs"][0]["results"]
    assert finding["ruleId"] == "NV004"
    assert (
        "witness: dev/web (app=web) -> prod/api (app=api) TCP/8080" in (finding["message"]["text"])
    )
    physical = finding["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "k8s/policies.yaml", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": _widened_line(repo, "HEAD")}
    text = CliRunner().invoke(app, ["diff", "--base-ref", "HEAD~1", "k8s"])
    assert text.exit_code == 0
    assert text.stdout.startswith(f"k8s/policies.yaml:{_widened_line(repo, 'HEAD')}: warning:")


def test_base_ref_refactor_is_no_change(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["diff", "--base-ref", "HEAD~1", "k8s", "--fail-on", "any"])
    assert result.exit_code == 0, result.output
    assert "HEAD~1 -> work tree: no connectivity change" in result.stdout


def _run_script(repo: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    summary = tmp_path / "summary.md"
    outputs = tmp_path / "outputs.txt"
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "NETVERIFY": str(bin_dir / "netverify"),
        "NETVERIFY_OUTPUT_DIR": str(tmp_path / "results"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_ACTIONS": "true",
        **env,
    }
    environment.pop("GITHUB_BASE_REF", None)
    return subprocess.run(
        ["bash", str(SCRIPT)], cwd=repo, env=environment, capture_output=True, text=True
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_script_on_a_widening_pull_request(repo: Path, tmp_path: Path) -> None:
    _git(repo, "checkout", "-q", "HEAD~1")
    spec = repo / "netverify.yaml"
    spec.write_text(
        "manifests: [k8s]\ninvariants:\n  - name: dev-never-reaches-prod\n    pods: existing\n"
        "    forbid:\n      from: {namespace: dev}\n      to: {namespace: prod}\n"
    )
    completed = _run_script(
        repo,
        tmp_path,
        NETVERIFY_SPECS="netverify.yaml",
        NETVERIFY_DIFF_PATHS="k8s",
        NETVERIFY_BASE_REF="HEAD~1",
        NETVERIFY_FAIL_ON="added",
    )
    assert completed.returncode == 1, completed.stderr
    results = tmp_path / "results"
    for name in ("prove.sarif", "diff.sarif"):
        validate_sarif(json.loads((results / name).read_text(encoding="utf-8")))
    assert (results / "prove.md").read_text().startswith("### netverify prove: 1 violated")
    assert (results / "diff.md").read_text().startswith("### netverify diff: 1 added, 0 removed")
    summary = (tmp_path / "summary.md").read_text()
    assert "### netverify prove" in summary and "### netverify diff" in summary
    outputs = (tmp_path / "outputs.txt").read_text().splitlines()
    assert f"sarif-diff={results / 'diff.sarif'}" in outputs and "exit-code=1" in outputs
    annotations = [line for line in completed.stdout.splitlines() if line.startswith("::")]
    assert any(line.startswith("::error file=k8s/policies.yaml,line=") for line in annotations)
    assert any(line.startswith("::warning file=k8s/policies.yaml,line=") for line in annotations)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_script_on_a_refactor(repo: Path, tmp_path: Path) -> None:
    completed = _run_script(repo, tmp_path, NETVERIFY_DIFF_PATHS="k8s", NETVERIFY_BASE_REF="HEAD~1")
    assert completed.returncode == 0, completed.stderr
    diff_md = (tmp_path / "results" / "diff.md").read_text()
    assert diff_md.startswith("### netverify diff: no connectivity change")
    log = json.loads((tmp_path / "results" / "diff.sarif").read_text())
    validate_sarif(log)
    assert log["runs"][0]["results"] == []
    assert not (tmp_path / "results" / "prove.sarif").exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_script_needs_something_to_do(repo: Path, tmp_path: Path) -> None:
    completed = _run_script(repo, tmp_path)
    assert completed.returncode == 2
    assert "NETVERIFY_SPECS" in completed.stderr
