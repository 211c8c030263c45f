"""Sources let out by their own "allow all egress" rule and let in by one rule of the
destination are one finding, not one per source (Online Boutique: every service's policy
allows all egress; a paymentservice rule opened to every pod came back as 11 findings).
The other sources' rules are still named, at file:line, in every format. And a diff names
the rule that chose the peer as the cause, not an end's rule that admits every peer."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

DENY_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""
SERVICE = """\
---
apiVersion: v1
kind: Pod
metadata: {name: NAME, namespace: shop, labels: {app: NAME}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 50051}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: NAME, namespace: shop}
spec:
  podSelector: {matchLabels: {app: NAME}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: frontend}}}]
  egress:
    - EGRESS
"""
PAYMENT = """\
---
apiVersion: v1
kind: Pod
metadata: {name: payment, namespace: shop, labels: {app: payment}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 50051}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: payment, namespace: shop}
spec:
  podSelector: {matchLabels: {app: payment}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {}}]
      ports: [{port: 50051}]
"""
SPEC = """\
manifests: [cluster.yaml]
invariants:
  - name: nothing-but-checkout-reaches-payment
    pods: existing
    forbid:
      from: {pod: {matchExpressions: [{key: app, operator: NotIn, values: [checkout, payment]}]}}
      to: {pod: {app: payment}}
"""
SERVICES = ("cart", "email", "frontend")


def _cluster(egress: dict[str, str]) -> str:
    services = "".join(
        SERVICE.replace("NAME", name).replace("EGRESS", egress.get(name, "{}")) for name in SERVICES
    )
    return DENY_ALL + services + PAYMENT


def _prove_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: str) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(cluster, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    outputs = {}
    for output_format in ("text", "json", "sarif"):
        result = CliRunner().invoke(app, ["prove", "spec.yaml", "--all", "--format", output_format])
        assert result.exit_code == 1, result.output
        outputs[output_format] = result.stdout
    return outputs


def _line_of(cluster: str, name: str) -> int:
    """The line of `- {}` in the policy `name` (the egress rule)."""
    lines = cluster.splitlines()
    start = lines.index(f"metadata: {{name: {name}, namespace: shop}}")
    return next(i for i in range(start, len(lines)) if lines[i] == "    - {}") + 1


def test_sources_let_out_by_their_own_allow_all_rules_are_one_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = _cluster({})
    out = _prove_all(tmp_path, monkeypatch, cluster)
    (result,) = json.loads(out["json"])["results"]
    (finding,) = result["findings"]
    assert result["findings_complete"]
    sources = {group["pods"][0] for group in (finding["from"], *finding["also_from"])}
    assert sources == set(SERVICES)
    witness = finding["witness"]["egress"]["allowed_by"][0]["policy"]["name"]
    others = {
        (rule["policy"]["name"], rule["direction"], rule["rule"], rule["location"]["line"])
        for rule in finding["other_open_rules"]
    }
    assert others == {
        (name, "Egress", 0, _line_of(cluster, name)) for name in SERVICES if name != witness
    }
    (sarif,) = json.loads(out["sarif"])["runs"][0]["results"]
    related = {
        place["physicalLocation"]["region"]["startLine"]
        for place in sarif["relatedLocations"]
        if place["message"]["text"].startswith("also allowed by")
    }
    assert related == {line for *_, line in others}
    text = out["text"]
    assert "1 finding covers every violating flow" in text
    assert "egress of the other sources: each allowed by its own rule that admits every " in text
    for name in SERVICES:
        if name != witness:
            assert f"shop/{name} egress[0] (cluster.yaml:{_line_of(cluster, name)})" in text


def test_a_source_whose_rule_names_the_destination_is_a_finding_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cart's egress rule chose payment: that rule is a cause too, so its flows are told
    apart from those of the sources that may send anywhere."""
    cluster = _cluster({"cart": "to: [{podSelector: {matchLabels: {app: payment}}}]"})
    out = _prove_all(tmp_path, monkeypatch, cluster)
    (result,) = json.loads(out["json"])["results"]
    findings = result["findings"]
    assert len(findings) == 2
    by_source = {
        frozenset(group["pods"][0] for group in (f["from"], *f["also_from"])): f for f in findings
    }
    assert set(by_source) == {frozenset({"cart"}), frozenset({"email", "frontend"})}
    assert "other_open_rules" not in by_source[frozenset({"cart"})]
    (other,) = by_source[frozenset({"email", "frontend"})]["other_open_rules"]
    assert other["policy"]["name"] in {"email", "frontend"}


def test_a_diff_names_the_rule_that_chose_the_peer_as_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD adds both ends' policies: cart may send anywhere, payment admits every pod. The
    cause of cart -> payment is payment's rule (egress is decided first, and came first)."""
    monkeypatch.chdir(tmp_path)
    for revision, cluster in (("base", DENY_ALL), ("head", _cluster({}))):
        (tmp_path / revision).mkdir()
        pods = "".join(
            block
            for block in _cluster({}).split("---\n")
            if "kind: Pod\n" in block
            for block in (f"---\n{block}",)
        )
        text = cluster if revision == "head" else DENY_ALL + pods
        (tmp_path / revision / "cluster.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", "base", "head", "--format", "json"])
    assert result.exit_code == 0, result.output
    into_payment = [
        f
        for f in json.loads(result.stdout)["findings"]
        if f["change"] == "added" and f["to"]["pods"] == ["payment"]
    ]
    assert into_payment
    for finding in into_payment:
        assert finding["cause"]["rule"]["policy"]["name"] == "payment"
        assert finding["cause"]["rule"]["direction"] == "Ingress"


def test_a_narrowed_rule_removing_flows_of_many_allow_all_sources_is_one_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fix of the first test, as a diff: every source keeps its own allow-all egress
    rule in both revisions; payment's narrowed rule removes their flows, one finding."""
    monkeypatch.chdir(tmp_path)
    narrowed = _cluster({}).replace(
        "    - from: [{podSelector: {}}]", "    - from: [{podSelector: {matchLabels: {app: x}}}]"
    )
    for revision, cluster in (("base", _cluster({})), ("head", narrowed)):
        (tmp_path / revision).mkdir()
        (tmp_path / revision / "cluster.yaml").write_text(cluster, encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", "base", "head", "--format", "json"])
    assert result.exit_code == 0, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["change"] == "removed"
    sources = {group["pods"][0] for group in (finding["from"], *finding["also_from"])}
    assert sources == set(SERVICES)
    assert len(finding["other_open_rules"]) == len(SERVICES) - 1
    assert {rule["location"]["file"] for rule in finding["other_open_rules"]} == {
        "base/cluster.yaml"
    }
