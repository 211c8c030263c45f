"""Lint: the registry's metadata, one firing and one quiet fixture per check, suppression,
the three formats and the CLI's exit codes."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import REGISTRY, DuplicateCheck, lint, register
from netverify.loading import load_manifests
from netverify.model import Settings
from netverify.model.lint import FindingSeverity, LintReport
from netverify.report.json import lint_json
from netverify.report.sarif import lint_log as lint_sarif
from netverify.report.text import format_lint as format_lint_text

FIXTURES = Path(__file__).parent / "fixtures"
CHECKS = sorted(REGISTRY.values(), key=lambda check: check.info.id)


def run(path: Path) -> LintReport:
    return lint(load_manifests([str(path)]), Settings(), SolverLimits())


def test_every_registered_check_has_metadata_and_fixtures() -> None:
    assert len(CHECKS) >= 11
    for check in CHECKS:
        info = check.info
        assert re.fullmatch(r"NVL\d{3}", info.id), info.id
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", info.name), info.name
        assert info.title and not info.title.endswith(".")
        assert isinstance(info.severity, FindingSeverity)
        assert info.remediation.endswith("."), info.id
        assert (FIXTURES / info.name / "fires").is_dir(), f"no firing fixture for {info.name}"
        assert (FIXTURES / info.name / "quiet").is_dir(), f"no quiet fixture for {info.name}"


def test_the_registry_refuses_a_duplicate() -> None:
    existing = CHECKS[0].info
    with pytest.raises(DuplicateCheck):
        register(existing.id, "another-name", "T", FindingSeverity.INFO, "Fix.")(
            lambda context, info: ()
        )
    with pytest.raises(DuplicateCheck):
        register("NVL999", existing.name, "T", FindingSeverity.INFO, "Fix.")(
            lambda context, info: ()
        )
    assert "NVL999" not in REGISTRY


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.info.name)
def test_fires(check: object) -> None:
    info = check.info  # type: ignore[attr-defined]
    report = run(FIXTURES / info.name / "fires")
    found = [f for f in report.findings if f.check == info.id]
    assert found, format_lint_text(report)
    assert all(f.span is not None for f in found)
    assert all(f.severity is info.severity for f in found)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.info.name)
def test_quiet(check: object) -> None:
    info = check.info  # type: ignore[attr-defined]
    report = run(FIXTURES / info.name / "quiet")
    assert not [f for f in report.findings if f.check == info.id], format_lint_text(report)


def test_did_you_mean() -> None:
    (selects,) = [
        f for f in run(FIXTURES / "policy-selects-no-pod" / "fires").findings if f.check == "NVL001"
    ]
    assert "did you mean `app: db`" in selects.message
    (peer,) = [
        f for f in run(FIXTURES / "peer-matches-nothing" / "fires").findings if f.check == "NVL002"
    ]
    assert "did you mean `app: web`" in peer.message


def test_redundant_rule_names_the_covering_rule() -> None:
    (found,) = [
        f for f in run(FIXTURES / "redundant-rule" / "fires").findings if f.check == "NVL003"
    ]
    assert found.rule is not None and found.rule.index == 1
    assert any("shop/db-ingress ingress[0]" in related for related in found.related)


def test_a_rule_whose_selector_matches_no_pod_is_redundant(tmp_path: Path) -> None:
    # Found by a hypothesis test: the unsat core was empty and the message indexed it.
    (tmp_path / "np.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-ingress, namespace: shop}\n"
        "spec:\n"
        "  podSelector: {matchLabels: {app: db}}\n"
        "  ingress:\n"
        "    - from: [{podSelector: {matchLabels: {app: web}}}]\n"
        "    - from:\n"
        "      - podSelector:\n"
        "          matchLabels: {app: b}\n"
        "          matchExpressions: [{key: app, operator: In, values: [a]}]\n",
        encoding="utf-8",
    )
    (found,) = [f for f in run(tmp_path).findings if f.check == "NVL003"]
    assert found.rule is not None and found.rule.index == 1
    assert "admits no flow at all" in found.message and found.related == ()


def test_future_pod_witness_is_a_new_pod_outside_the_namespaces_matched_today() -> None:
    (found,) = [
        f
        for f in run(FIXTURES / "peer-admits-future-pods" / "fires").findings
        if f.check == "NVL011"
    ]
    assert re.search(r"ops/<new pod> \(app=web\)", found.message), found.message


def test_an_annotation_suppresses_the_listed_checks() -> None:
    report = run(FIXTURES / "suppressed")
    assert not [f for f in report.findings if f.check == "NVL001"]
    assert [f.check for f in report.suppressed] == ["NVL001"]
    assert "1 suppressed" in format_lint_text(report)


def test_text_is_compiler_style() -> None:
    text = format_lint_text(run(FIXTURES / "rules-ignored-by-policy-types" / "fires"))
    assert re.search(
        r"^tests/lint/fixtures/rules-ignored-by-policy-types/fires/policies.yaml:\d+: error: "
        r"\[NVL009\] rules-ignored-by-policy-types: shop/db-ingress: ",
        text.replace(str(Path.cwd()) + "/", ""),
        re.M,
    ) or re.search(r"policies.yaml:\d+: error: \[NVL009\]", text)
    assert "  fix: " in text
    assert text.endswith("\n2 findings: 1 error, 0 warning, 1 info\n")


def test_one_finding_is_counted_in_the_singular() -> None:
    text = format_lint_text(run(FIXTURES / "admin-deny-cuts-dns" / "fires"))
    assert text.endswith("\n1 finding: 0 error, 1 warning, 0 info\n"), text


def test_json_and_sarif_structure() -> None:
    report = run(FIXTURES / "redundant-rule" / "fires")
    document = lint_json(report)
    assert {"findings", "summary", "checks", "suppressed"} <= document.keys()
    finding = document["findings"][0]  # type: ignore[index]
    assert {"id", "name", "severity", "message", "location", "remediation"} <= finding.keys()
    sarif = lint_sarif(report)
    assert sarif["version"] == "2.1.0"
    (run_,) = sarif["runs"]  # type: ignore[misc]
    rules = run_["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [check.info.id for check in CHECKS]
    assert all(rule["help"]["text"] and rule["shortDescription"]["text"] for rule in rules)
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] >= 1
        assert location["artifactLocation"]["uri"].endswith(".yaml")
    json.dumps(sarif)


def test_cli_exit_codes() -> None:
    runner = CliRunner()
    failing = runner.invoke(app, ["lint", str(FIXTURES / "rules-ignored-by-policy-types/fires")])
    assert failing.exit_code == 1, failing.output
    assert "[NVL009]" in failing.stdout
    passing = runner.invoke(app, ["lint", str(FIXTURES / "redundant-rule/fires"), "-f", "sarif"])
    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.stdout)["version"] == "2.1.0"
    missing = runner.invoke(app, ["lint", str(FIXTURES / "no-such-folder")])
    assert missing.exit_code == 2
    bad_cidr = runner.invoke(app, ["lint", str(FIXTURES / "suppressed"), "--pod-cidr", "10.0/8x"])
    assert bad_cidr.exit_code == 2


def test_pod_cidr_makes_an_ipblock_over_pods_a_finding() -> None:
    loaded = load_manifests([str(FIXTURES / "ipblock-covers-pods" / "quiet")])
    from ipaddress import ip_network

    report = lint(loaded, Settings(pod_cidrs=(ip_network("192.168.0.0/16"),)), SolverLimits())
    assert [f for f in report.findings if f.check == "NVL008"]


NO_DNS_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
      ports: [{port: 5432}]
"""
ANY_DNS_RULE = """\
    - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
      ports: [{port: 53, protocol: UDP}]
"""


@pytest.mark.parametrize(
    ("policy", "fires"), [(NO_DNS_POLICY, True), (NO_DNS_POLICY + ANY_DNS_RULE, False)]
)
def test_dns_without_kube_dns_pods_is_proved_over_any_destination(
    policy: str, fires: bool, tmp_path: Path
) -> None:
    (tmp_path / "cluster.yaml").write_text(
        (FIXTURES / "redundant-rule" / "fires" / "cluster.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    found = [f for f in run(tmp_path).findings if f.check == "NVL006"]
    assert bool(found) is fires
    if fires:
        assert "any destination" in found[0].message


DB_DNS_POLICY = """\
---
{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: db-dns, namespace: shop},
 spec: {podSelector: {matchLabels: {app: db}}, egress: [{ports: [{port: 53, protocol: UDP}]}]}}
"""
ALL_DNS_POLICY = DB_DNS_POLICY.replace("db-dns", "all-dns").replace(
    "{matchLabels: {app: db}}", "{}"
)


@pytest.mark.parametrize(
    ("policy", "fires"),
    [
        (NO_DNS_POLICY, True),
        (NO_DNS_POLICY + DB_DNS_POLICY, True),
        (NO_DNS_POLICY + ANY_DNS_RULE, False),
        (NO_DNS_POLICY + ALL_DNS_POLICY, False),
    ],
)
def test_dns_blocked_by_a_policy_file_alone(policy: str, fires: bool, tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    found = [
        f
        for f in run(tmp_path).findings
        if f.check == "NVL006" and f.object is not None and f.object.name == "web-egress"
    ]
    assert bool(found) is fires
    if fires:
        assert "every pod this policy selects" in found[0].message


def test_a_ports_entry_naming_only_a_protocol_says_what_it_admits() -> None:
    (found,) = [
        f
        for f in run(FIXTURES / "port-entry-without-port" / "fires").findings
        if f.check == "NVL019"
    ]
    assert found.message == (
        "ingress[0].ports[1] names only TCP: it admits every TCP port, so ports[0] adds nothing"
    )
    assert found.span is not None and found.span.line == 20
