"""A diff finding is located at the rule or policy whose change made it, not at whichever
admitting rule comes first: in a pull request an annotation on an unchanged file lands on no
changed line and is hidden.

Like kube-prometheus 8bdd5260: grafana's policy (unchanged) lets grafana send anywhere;
prometheus's policy (widened) now admits grafana. The witness is admitted by both rules,
grafana's egress rule first.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: grafana, namespace: monitoring, labels: {app: grafana}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 3000}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus, namespace: monitoring, labels: {app: prometheus}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 9090}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: alertmanager, namespace: monitoring, labels: {app: alertmanager}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 9093}]}]}
"""
GRAFANA = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: grafana, namespace: monitoring}
spec:
  podSelector: {matchLabels: {app: grafana}}
  policyTypes: [Egress, Ingress]
  egress:
    - {}
  ingress:
    - ports: [{port: 3000}]
"""
PROMETHEUS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: prometheus, namespace: monitoring}
spec:
  podSelector: {matchLabels: {app: prometheus}}
  policyTypes: [Ingress]
  ingress:
    - from:
{peers}
      ports: [{port: 9090}]
"""
ALERTMANAGER = "        - podSelector: {matchLabels: {app: alertmanager}}"
GRAFANA_PEER = "        - podSelector: {matchLabels: {app: grafana}}"
DENY_ALERTMANAGER = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: alertmanager-deny, namespace: monitoring}
spec:
  podSelector: {matchLabels: {app: alertmanager}}
  policyTypes: [Ingress]
"""


def _revision(folder: Path, files: dict[str, str]) -> str:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder.name


def _diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: dict[str, str], head: dict[str, str]
) -> dict[str, str]:
    """Every format's output of `diff base head`, run in tmp_path (relative file names)."""
    monkeypatch.chdir(tmp_path)
    _revision(tmp_path / "base", {"pods.yaml": PODS, **base})
    _revision(tmp_path / "head", {"pods.yaml": PODS, **head})
    outputs = {}
    for output_format in ("text", "json", "sarif", "github"):
        result = CliRunner().invoke(app, ["diff", "base", "head", "--format", output_format])
        assert result.exit_code == 0, result.output
        outputs[output_format] = result.stdout
    return outputs


def _prometheus(*peers: str) -> str:
    return PROMETHEUS.replace("{peers}", "\n".join(peers))


def _sarif_places(sarif: str) -> list[tuple[str, list[str]]]:
    """Each result's primary file and its related files."""
    run = json.loads(sarif)["runs"][0]
    return [
        (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            [
                related["physicalLocation"]["artifactLocation"]["uri"]
                for related in result.get("relatedLocations", [])
            ],
        )
        for result in run["results"]
    ]


@pytest.mark.parametrize(
    ("change", "revision", "level"),
    [("added", "head", "warning"), ("removed", "base", "notice")],
)
def test_a_changed_rule_locates_the_finding_not_the_unchanged_admitting_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, revision: str, level: str
) -> None:
    """Widened, the rule in HEAD; narrowed, the rule in BASE that no longer admits."""
    narrow, wide = _prometheus(ALERTMANAGER), _prometheus(ALERTMANAGER, GRAFANA_PEER)
    before, after = (narrow, wide) if change == "added" else (wide, narrow)
    unchanged = {"grafana-networkPolicy.yaml": GRAFANA}
    out = _diff(
        tmp_path,
        monkeypatch,
        {**unchanged, "prometheus-networkPolicy.yaml": before},
        {**unchanged, "prometheus-networkPolicy.yaml": after},
    )
    changed = f"{revision}/prometheus-networkPolicy.yaml"
    ((primary, related),) = _sarif_places(out["sarif"])
    assert primary == changed
    assert f"{revision}/grafana-networkPolicy.yaml" in related
    assert out["github"].startswith(f"::{level} file={changed},line=8,")
    assert out["text"].startswith(f"{changed}:8: warning: [{change}] connectivity {change}")
    (finding,) = json.loads(out["json"])["findings"]
    assert finding["cause"]["revision"] == revision
    assert finding["cause"]["rule"]["policy"]["name"] == "prometheus"
    assert finding["cause"]["rule"]["location"] == {"file": changed, "line": 8}
    assert finding["cause"]["policy"] is None


def test_a_newly_isolating_policy_locates_the_removal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grafana reached alertmanager (nothing isolated it); a new policy in a new file now
    isolates it: the finding is at that policy, not at grafana's unchanged egress rule."""
    unchanged = {
        "grafana-networkPolicy.yaml": GRAFANA,
        "prometheus-networkPolicy.yaml": _prometheus(ALERTMANAGER),
    }
    out = _diff(
        tmp_path, monkeypatch, unchanged, {**unchanged, "alertmanager-deny.yaml": DENY_ALERTMANAGER}
    )
    new = "head/alertmanager-deny.yaml"
    places = _sarif_places(out["sarif"])
    assert places and all(primary == new for primary, _ in places)
    assert all(
        line.startswith(f"::notice file={new},line=1,") for line in out["github"].splitlines()[:-1]
    )
    findings = json.loads(out["json"])["findings"]
    assert {f["cause"]["policy"]["name"] for f in findings} == {"alertmanager-deny"}
    assert {f["cause"]["revision"] for f in findings} == {"head"}


def test_a_deleted_isolating_policy_locates_the_addition_in_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unchanged = {
        "grafana-networkPolicy.yaml": GRAFANA,
        "prometheus-networkPolicy.yaml": _prometheus(ALERTMANAGER),
    }
    out = _diff(
        tmp_path, monkeypatch, {**unchanged, "alertmanager-deny.yaml": DENY_ALERTMANAGER}, unchanged
    )
    deleted = "base/alertmanager-deny.yaml"
    places = _sarif_places(out["sarif"])
    assert places and all(primary == deleted for primary, _ in places)
    findings = json.loads(out["json"])["findings"]
    assert {f["cause"]["revision"] for f in findings} == {"base"}
    assert {f["cause"]["policy"]["name"] for f in findings} == {"alertmanager-deny"}
