"""Findings on trimmed renders of stacks users linted (kube-prometheus, the Calico stars
tutorial), and the rules behind the did-you-mean hints."""

from pathlib import Path

import pytest

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.engine.lint.suggest import did_you_mean, typo_distance
from netverify.loading import load_manifests
from netverify.model import LabelSelector, Settings
from netverify.model.lint import Finding
from netverify.report.json import lint_json
from netverify.report.sarif import lint_log
from netverify.report.text import format_lint as format_text

SCENARIOS = Path(__file__).parent / "fixtures" / "scenarios"


def findings(scenario: str, check: str) -> dict[str, Finding]:
    """The findings of `check` on a scenario, by `namespace/name` of their policy."""
    report = lint(load_manifests([str(SCENARIOS / scenario)]), Settings(), SolverLimits())
    found = [f for f in report.findings if f.check == check]
    by_policy = {f"{f.object.namespace}/{f.object.name}": f for f in found if f.object}
    assert len(by_policy) == len(found)
    return by_policy


def test_no_hint_names_another_workload() -> None:
    # `prometheus` is not a typo of `prometheus-adapter`: following that hint would open
    # every exporter to the adapter.
    found = findings("kube-prometheus", "NVL002")
    exporters = {"kube-state-metrics", "node-exporter", "blackbox-exporter"}
    assert {f"monitoring/{name}" for name in exporters} <= found.keys()
    assert not [f.message for f in found.values() if "did you mean" in f.message]


def test_no_hint_suggests_a_key_the_selector_already_uses() -> None:
    message = findings("kube-prometheus", "NVL002")["monitoring/grafana"].message
    assert "podSelector matches no existing pod" in message
    assert "did you mean the key `app.kubernetes.io/name`" not in message


@pytest.mark.parametrize(
    ("written", "meant", "typo"),
    [
        ("dbb", "db", True),
        ("wbe", "web", True),
        ("fronted", "frontend", True),
        ("prometheus", "prometheus-adapter", False),
        ("web", "web2", False),
        ("web2", "web", False),
        ("kube-dsn", "kube-dns", True),
        ("app.kubernetes.io/instance", "app.kubernetes.io/name", False),
    ],
)
def test_a_hint_is_a_typo_not_another_name(written: str, meant: str, typo: bool) -> None:
    assert (typo_distance(written, meant) is not None) is typo


def test_a_hint_must_name_one_target() -> None:
    selector = LabelSelector(match_labels={"app": "wbe"})
    one = [("web", {"app": "web"}), ("db", {"app": "db"})]
    assert did_you_mean(selector, one) == "did you mean `app: web` (not `wbe`)?"
    two = [("web", {"app": "web"}), ("web-canary", {"app": "web", "track": "canary"})]
    assert did_you_mean(selector, two) is None


def test_no_hint_when_two_fixes_are_as_close() -> None:
    selector = LabelSelector(match_labels={"app": "dc"})
    assert did_you_mean(selector, [("db", {"app": "db"}), ("dd", {"app": "dd"})]) is None


def test_a_policy_over_a_host_network_pod_says_so() -> None:
    found = findings("kube-prometheus", "NVL001")["monitoring/node-exporter"]
    assert "selects only hostNetwork pods (monitoring/node-exporter)" in found.message
    assert "selects none" not in found.message
    assert found.remediation is not None and "hostNetwork" in found.remediation


def test_a_redundant_policy_is_covered_by_the_policies_that_cover_it() -> None:
    # Proved with the solver: db-clients alone covers it (in two rules); deny-all,
    # web-from-lb and api-from-web are in the namespace but prove nothing about it.
    found = findings("covered-policy", "NVL004")["shop/db-from-web"]
    assert found.related == ("shop/db-clients",)
    assert found.message.endswith("covered by shop/db-clients")


def test_a_syntactic_cover_lists_no_policy_that_only_isolates(tmp_path: Path) -> None:
    fires = Path(__file__).parent / "fixtures" / "redundant-policy" / "fires"
    for name in ("cluster.yaml", "policies.yaml"):
        text = (fires / name).read_text(encoding="utf-8")
        # sorted before the duplicates, the default-deny is the first policy that isolates
        (tmp_path / name).write_text(text.replace("deny-all", "all-denied"), encoding="utf-8")
    report = lint(load_manifests([str(tmp_path)]), Settings(), SolverLimits())
    related = {
        f.object.name: f.related for f in report.findings if f.check == "NVL004" and f.object
    }
    assert related == {
        "db-from-web": ("shop/db-from-web-again",),
        "db-from-web-again": ("shop/db-from-web",),
    }


def test_a_default_deny_made_redundant_today_is_kept_as_a_guard() -> None:
    # allow-ui (podSelector: {}) isolates every pod too, so default-deny changes no flow
    # today; it is what still isolates the namespace if allow-ui is changed.
    found = findings("calico-stars", "NVL005")
    assert found.keys() == {"stars/default-deny", "client/default-deny"}
    for guard in found.values():
        assert "pods that do not exist yet" in guard.message
        assert guard.remediation is not None and guard.remediation.startswith("Keep it")


def test_every_format_gives_a_guard_its_own_advice_not_its_check_s() -> None:
    report = lint(load_manifests([str(SCENARIOS / "calico-stars")]), Settings(), SolverLimits())
    (check,) = [c for c in report.checks if c.id == "NVL005"]
    assert not check.remediation.startswith("Keep it")
    lines = format_text(report).splitlines()
    fixes = [lines[number + 1] for number, line in enumerate(lines) if "[NVL005]" in line]
    assert len(fixes) == 2
    assert all(fix.startswith("  fix: Keep it") for fix in fixes), fixes
    findings = lint_json(report)["findings"]
    assert isinstance(findings, list)
    advice = [f["remediation"] for f in findings if f["id"] == "NVL005"]
    assert len(advice) == 2
    assert all(text.startswith("Keep it") for text in advice)
    (run,) = lint_log(report)["runs"]  # type: ignore[misc]
    results = [r for r in run["results"] if r["ruleId"] == "NVL005"]
    assert len(results) == 2
    for result in results:
        assert result["properties"]["remediation"].startswith("Keep it")
        assert "\nfix: Keep it" in result["message"]["text"]
    assert all(r["properties"]["remediation"] for r in run["results"])


ALLOW_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: shop}}
spec:
  podSelector: {{}}
  ingress: [{{}}]
"""


def test_an_allow_all_over_the_namespace_is_not_advised_away(tmp_path: Path) -> None:
    cluster = Path(__file__).parent / "fixtures" / "redundant-policy" / "fires" / "cluster.yaml"
    (tmp_path / "cluster.yaml").write_text(cluster.read_text(encoding="utf-8"), encoding="utf-8")
    policies = "---\n".join(ALLOW_ALL.format(name=name) for name in ("allow-all", "open"))
    (tmp_path / "policies.yaml").write_text(policies, encoding="utf-8")
    report = lint(load_manifests([str(tmp_path)]), Settings(), SolverLimits())
    found = [f for f in report.findings if f.check == "NVL004"]
    assert len(found) == 2
    assert all(f.remediation and f.remediation.startswith("Keep it") for f in found)


def test_the_standard_dns_egress_rule_is_not_flagged_without_kube_dns() -> None:
    # An application repository holds no kube-dns: its DNS rule is no typo (NVL002), and its
    # namespaceSelector is already pinned by name (NVL011 would advise what it does).
    report = lint(load_manifests([str(SCENARIOS / "app-dns-egress")]), Settings(), SolverLimits())
    found = {(f.check, f.message.split(":")[0]) for f in report.findings}
    assert ("NVL002", "egress[1].to[0]") in found  # a typo is still one
    assert not [f for f in report.findings if f.check == "NVL002" and "egress[0]" in f.message]
    assert not [f for f in report.findings if f.check == "NVL011"]


def test_an_allow_all_is_redundant_by_itself_and_says_so() -> None:
    """kube-prometheus's prometheus-adapter policy isolates its pods and admits everything
    both ways: nothing covers it because it needs no cover (the message once ended in
    "covered by " and nothing)."""
    message = findings("allow-all", "NVL004")["monitoring/prometheus-adapter"].message
    assert message.endswith(
        "its rules admit every flow of the pods it isolates for Egress, Ingress (an allow-all)"
    )
    assert "covered by" not in message
