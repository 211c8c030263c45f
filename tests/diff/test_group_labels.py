"""A group of existing pods is described by the labels its pods all have: sock-shop's carts
and session-db, which no policy names, are one group, and the diff called both
"(name=carts)", the witness's label."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: carts, namespace: shop, labels: {name: carts, tier: back}}
---
apiVersion: v1
kind: Pod
metadata: {name: session-db, namespace: shop, labels: {name: session-db, tier: back}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: shop, labels: {app: server}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
"""
ISOLATE_SERVER = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server, namespace: shop}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
"""


def test_a_group_of_pods_shows_only_the_labels_they_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, files in (("base", [PODS]), ("head", [PODS, ISOLATE_SERVER])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cluster.yaml").write_text("---\n".join(files))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["diff", "base", "head", "-f", "json"])
    groups = [
        finding["from"]
        for finding in json.loads(result.stdout)["findings"]
        if finding["from"]["kind"] == "pods"
    ]
    (group,) = [group for group in groups if len(group["pods"]) == 2]
    assert group["pods"] == ["carts", "session-db"]
    assert group["labels"] == {"tier": "back"}
    text = CliRunner().invoke(app, ["diff", "base", "head"]).stdout
    assert "shop/{carts, session-db} [2 pods] (tier=back)" in text, text
