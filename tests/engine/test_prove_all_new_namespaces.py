"""`prove --all` under `namespaces: any`: a pod in a namespace that could be created has no
policy, so the revision that allows nothing (which isolates the namespaces that exist) allows
its flows too. Such violations are not listed and the listing says so; before, the replay
took them for a soundness bug and the invariant came back as an error (Argo CD's install.yaml,
whose repo-server admits every namespace on its metrics port)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: repo, namespace: argocd, labels: {app: repo}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 8084}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: repo, namespace: argocd}
spec:
  podSelector: {matchLabels: {app: repo}}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: {}}]
      ports: [{port: 8084}]
"""
SPEC = """\
manifests: [cluster.yaml]
invariants:
  - name: no-other-namespace-reaches-repo
    namespaces: any
    forbid:
      from: {namespace: {kubernetes.io/metadata.name: other}}
      to: {pod: {app: repo}}
"""


def test_violations_in_a_namespace_that_could_be_created_mark_the_listing_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(CLUSTER, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["prove", "spec.yaml", "--all", "--format", "json"])
    assert result.exit_code == 1, result.output
    (found,) = json.loads(result.stdout)["results"]
    assert found["status"] == "violated"
    # The listed finding: the existing repo pod (and new ones like it in argocd) on 8084.
    assert found["findings"]
    assert {
        (port["start"], port["end"]) for finding in found["findings"] for port in finding["ports"]
    } == {(8084, 8084)}
    assert not found["findings_complete"]
    assert found["findings_incomplete_reason"].startswith(
        "pods in a namespace that could be created have no NetworkPolicy of the manifests: "
        "violating flows to or from them, such as other/"
    )
