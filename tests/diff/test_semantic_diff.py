"""Semantic diff: refactors that change nothing give no finding; real changes give exactly the
findings expected, located at the responsible rule. Through the engine and through the CLI.

BASE is tests/diff/fixtures/base; HEAD variants are written to tmp_path from its files.
"""

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import z3
from typer.testing import CliRunner, Result

from netverify.cli.app import app
from netverify.encoding.groups import GroupKey, NewPodGroup, Wild
from netverify.encoding.solver import make_solver
from netverify.engine import SolverLimits
from netverify.engine.diff import diff
from netverify.engine.diff.findings import Product
from netverify.engine.diff.namedports import on_named_port
from netverify.engine.diff.narrowing import Attribute, pruned
from netverify.engine.diff.revisions import Revisions
from netverify.engine.diff.search import DiffSearch, Searched
from netverify.engine.diff.symbolic import SymbolicDiff
from netverify.engine.readable import readable_flow
from netverify.loading import load_manifests
from netverify.model import (
    ContainerPort,
    Direction,
    Flow,
    NamespaceScope,
    ObjectRef,
    Pod,
    PodEndpoint,
    PodScope,
    PortRange,
    Protocol,
    RuleRef,
    Settings,
    SourceSpan,
)
from netverify.model.diff import Change, DiffReport, EndpointGroup
from netverify.report.describe import finding_title, responsible_rules, sources_of
from netverify.report.text import format_diff

FIXTURES = Path(__file__).parent / "fixtures"
BASE_POLICIES = (FIXTURES / "base" / "policies.yaml").read_text(encoding="utf-8")

DB_INGRESS_TWO_RULES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-ingress
  namespace: prod
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: api}
      ports:
        - {protocol: TCP, port: 5432}
    - from:
        - podSelector:
            matchLabels: {app: backup}
      ports:
        - {protocol: TCP, port: 5432}
"""
DB_INGRESS_SPLIT = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-api
  namespace: prod
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: api}
      ports:
        - {protocol: TCP, port: 5432}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-backup
  namespace: prod
spec:
  podSelector:
    matchLabels: {app: db}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: backup}
      ports:
        - {protocol: TCP, port: 5432}
"""


def _documents(text: str) -> list[str]:
    return [doc.strip("\n") + "\n" for doc in text.split("---\n") if doc.strip()]


def _reordered(text: str) -> str:
    return "---\n".join(reversed(_documents(text)))


def _renamed(text: str) -> str:
    return text.replace("name: api-from-prod", "name: api-from-the-prod-namespace")


def _split(text: str) -> str:
    assert DB_INGRESS_TWO_RULES in text
    return text.replace(DB_INGRESS_TWO_RULES, DB_INGRESS_SPLIT)


def _same_namespace_by_label(text: str) -> str:
    # Only the prod namespace has env=prod, so this selects the same namespaces.
    return text.replace("{kubernetes.io/metadata.name: prod}", "{env: prod}")


def _widened(text: str) -> str:
    return (FIXTURES / "head" / "policies.yaml").read_text(encoding="utf-8")


def _without_api_to_db(text: str) -> str:
    rule = """\
    - from:
        - podSelector:
            matchLabels: {app: api}
      ports:
        - {protocol: TCP, port: 5432}
"""
    assert rule in text
    return text.replace(rule, "")


def _variant(folder: Path, policies: str) -> Path:
    folder.mkdir(parents=True)
    for name in ("namespaces.yaml", "workloads.yaml"):
        shutil.copy(FIXTURES / "base" / name, folder / name)
    (folder / "policies.yaml").write_text(policies, encoding="utf-8")
    return folder


def _engine_diff(
    base: Path, head: Path, pods: PodScope = PodScope.EXISTING, max_findings: int = 100
) -> DiffReport:
    return diff(
        load_manifests([str(base)]),
        load_manifests([str(head)]),
        Settings(),
        pods,
        NamespaceScope.EXISTING,
        SolverLimits(),
        labels=("BASE", "HEAD"),
        max_findings=max_findings,
    )


def _sides(tmp_path: Path, cluster: str, head_rules: str) -> tuple[Path, Path]:
    """BASE holds `cluster`; HEAD the same with `head_rules` appended (to its last policy)."""
    base, head = tmp_path / "base", tmp_path / "head"
    for folder, text in ((base, cluster), (head, cluster + head_rules)):
        folder.mkdir()
        (folder / "cluster.yaml").write_text(text, encoding="utf-8")
    return base, head


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _line_of(path: Path, pattern: str, after: str) -> int:
    """1-based line of the first line matching `pattern` after the first containing `after`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if re.search(pattern, lines[i])) + 1


NO_OPS = {
    "reorder-policies": (_reordered, False),
    "rename-policy": (_renamed, False),
    "split-policy": (_split, False),
    "merge-policies": (_split, True),  # BASE is the split form, HEAD the merged one
    "namespace-name-to-equivalent-label": (_same_namespace_by_label, False),
}


@pytest.mark.parametrize("case", sorted(NO_OPS))
def test_refactors_change_nothing(case: str, tmp_path: Path) -> None:
    transform, swap = NO_OPS[case]
    base = FIXTURES / "base"
    head = _variant(tmp_path / "head", transform(BASE_POLICIES))
    if swap:
        base, head = head, base
    report = _engine_diff(base, head)
    assert report.findings == () and report.complete and report.error is None
    result = _cli("diff", str(base), str(head), "--fail-on", "any")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(": no connectivity change")


def test_widened_selector_is_one_added_finding(tmp_path: Path) -> None:
    head = FIXTURES / "head"
    report = _engine_diff(FIXTURES / "base", head)
    assert report.complete and report.error is None
    (finding,) = report.findings
    assert finding.change is Change.ADDED
    assert finding.source == EndpointGroup(
        kind="pods", namespace="dev", pods=("web",), labels={"app": "web"}
    )
    assert finding.destination == EndpointGroup(
        kind="pods", namespace="prod", pods=("api",), labels={"app": "api"}
    )
    assert finding.protocol is Protocol.TCP
    assert finding.ports == (PortRange(start=8080, end=8080),)
    flow = finding.head.flow
    assert isinstance(flow.source, PodEndpoint) and isinstance(flow.destination, PodEndpoint)
    assert (flow.source.pod.name, flow.destination.pod.name, flow.port) == ("web", "api", 8080)
    assert finding.head.allowed and not finding.base.allowed
    widened = RuleRef(
        policy=ObjectRef(kind="NetworkPolicy", namespace="prod", name="api-from-prod"),
        direction=Direction.INGRESS,
        index=0,
    )
    assert responsible_rules(finding) == [widened]
    line = _line_of(head / "policies.yaml", r"^    - from:", "name: api-from-prod")
    assert sources_of(finding, report).of_rule(widened) == SourceSpan(
        file=str(head / "policies.yaml"), line=line
    )


def test_removed_rule_is_one_removed_finding_located_in_base(tmp_path: Path) -> None:
    base = FIXTURES / "base"
    report = _engine_diff(base, _variant(tmp_path / "head", _without_api_to_db(BASE_POLICIES)))
    (finding,) = report.findings
    assert finding.change is Change.REMOVED
    assert (finding.source.namespace, finding.source.pods) == ("prod", ("api",))
    assert (finding.destination.namespace, finding.destination.pods) == ("prod", ("db",))
    assert finding.protocol is Protocol.TCP
    assert finding.ports == (PortRange(start=5432, end=5432),)
    assert finding.base.allowed and not finding.head.allowed
    (rule,) = responsible_rules(finding)
    assert (rule.policy.name, rule.index) == ("db-ingress", 0)
    line = _line_of(base / "policies.yaml", r"^    - from:", "name: db-ingress")
    assert sources_of(finding, report) is report.base_sources
    assert report.base_sources.of_rule(rule) == SourceSpan(
        file=str(base / "policies.yaml"), line=line
    )


@pytest.mark.parametrize(
    ("head", "fail_on", "code"),
    [
        ("head", "added", 1),
        ("head", "any", 1),
        ("head", "removed", 0),
        ("base", "added", 0),
    ],
)
def test_fail_on(head: str, fail_on: str, code: int) -> None:
    result = _cli("diff", str(FIXTURES / "base"), str(FIXTURES / head), "--fail-on", fail_on)
    assert result.exit_code == code, result.output


def test_json_of_the_widened_finding() -> None:
    result = _cli("diff", str(FIXTURES / "base"), str(FIXTURES / "head"), "--format", "json")
    document = json.loads(result.stdout)
    assert document["summary"]["added"] == 1 and document["summary"]["removed"] == 0
    (finding,) = document["findings"]
    assert finding["ports"] == [{"start": 8080, "end": 8080}]
    assert finding["also_from"] == []


GROUPING_CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: dev-a, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev-b, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: dev-a, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: dev-b, labels: {app: job}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: dev-b, labels: {app: api}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"""
GROUPING_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
      ports:
        - {protocol: TCP, port: 5432}
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
          podSelector: {matchLabels: {app: api}}
      ports:
        - {protocol: TCP, port: 9000}
"""


def test_sources_changed_alike_are_one_finding(tmp_path: Path) -> None:
    """One rule opening a destination to many source classes is one finding; a source that
    changed on further ports (api: 9000 as well) is a finding of its own."""
    report = _engine_diff(*_sides(tmp_path, GROUPING_CLUSTER, GROUPING_HEAD_RULES))
    assert report.complete and report.error is None
    findings = {
        frozenset(
            (group.namespace, pod)
            for group in (finding.source, *finding.other_sources)
            for pod in group.pods
        ): finding
        for finding in report.findings
    }
    assert set(findings) == {
        frozenset({("dev-a", "web"), ("dev-b", "job")}),
        frozenset({("dev-b", "api")}),
    }
    alike = findings[frozenset({("dev-a", "web"), ("dev-b", "job")})]
    assert alike.ports == (PortRange(start=5432, end=5432),)
    assert len(alike.other_sources) == 1 and alike.change is Change.ADDED
    api = findings[frozenset({("dev-b", "api")})]
    assert api.ports == (PortRange(start=5432, end=5432), PortRange(start=9000, end=9000))
    assert api.other_sources == ()
    text = format_diff(report)
    assert "and 1 more source group -> prod/{db}" in text
    assert "also from 1 more source group in 1 namespace: dev-" in text


def test_finding_limit_is_reported_with_the_limit(tmp_path: Path) -> None:
    base, head = _sides(tmp_path, GROUPING_CLUSTER, GROUPING_HEAD_RULES)
    report = _engine_diff(base, head, max_findings=1)
    assert len(report.findings) == 1 and not report.complete
    assert report.incomplete_reason == (
        "stopped at the limit of 1 flow group (--max-findings), listed as 1 finding"
    )


NEW_PODS_CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev-2, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"""
NEW_PODS_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
          podSelector: {matchLabels: {app: web}}
      ports:
        - {protocol: TCP, port: 80}
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
          podSelector: {matchLabels: {app: api}}
      ports:
        - {protocol: TCP, port: 443}
"""


def test_pods_that_could_exist_are_grouped_by_what_policies_see(tmp_path: Path) -> None:
    """With `--pods any`, a finding about new pods covers only new pods like its witness (the
    labels policies select on): new web pods gain port 80, new api pods port 443, and
    neither finding may hide the other; each covers both dev namespaces."""
    base, head = _sides(tmp_path, NEW_PODS_CLUSTER, NEW_PODS_HEAD_RULES)
    report = _engine_diff(base, head, pods=PodScope.ANY)
    assert report.complete and report.error is None
    new_pod_ports = {
        (
            finding.source.labels.get("app"),
            finding.ports,
            frozenset(g.namespace for g in (finding.source, *finding.other_sources)),
        )
        for finding in report.findings
        if finding.source.kind == "new-pod"
        and any(g.pods == ("db",) for g in (finding.destination, *finding.other_destinations))
    }
    both = frozenset({"dev", "dev-2"})
    assert new_pod_ports == {
        ("web", (PortRange(start=80, end=80),), both),
        ("api", (PortRange(start=443, end=443),), both),
    }


def test_existing_and_new_pods_a_rule_treats_alike_are_one_finding(tmp_path: Path) -> None:
    """An existing web pod, the web pods that could exist in either dev namespace, the
    existing db pod and the db pods that could exist: one rule opens port 80 from every web
    pod to every db pod, and that is one finding, not one per kind of pod."""
    cluster = NEW_PODS_CLUSTER.replace(
        "---\napiVersion: networking.k8s.io/v1",
        "---\napiVersion: v1\nkind: Pod\n"
        "metadata: {name: web, namespace: dev, labels: {app: web}}\n"
        "---\napiVersion: networking.k8s.io/v1",
    )
    rules = NEW_PODS_HEAD_RULES.split("    - from:")
    base, head = _sides(tmp_path, cluster, "    - from:".join(rules[:2]))
    report = _engine_diff(base, head, pods=PodScope.ANY)
    assert report.complete and report.error is None
    (finding,) = report.findings
    sources = {(g.kind, g.namespace) for g in (finding.source, *finding.other_sources)}
    destinations = {(g.kind, g.pods) for g in (finding.destination, *finding.other_destinations)}
    assert sources == {("pods", "dev"), ("new-pod", "dev"), ("new-pod", "dev-2")}
    assert destinations == {("pods", ("db",)), ("new-pod", ())}
    assert finding.ports == (PortRange(start=80, end=80),)


NOT_DB_CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: mon}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: prom, namespace: mon, labels: {app: prom}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-only-from-api, namespace: app}
spec:
  podSelector: {matchLabels: {tier: db}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: scrape, namespace: app}
spec:
  podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}
  policyTypes: [Ingress]
"""
NOT_DB_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: mon}}
      ports:
        - {protocol: TCP, port: 9100}
"""


def test_new_pods_a_rule_opens_are_described_by_what_they_exclude(tmp_path: Path) -> None:
    """A rule opens port 9100 to every pod but the databases: the pods that could exist are
    one group, "tier not in {db}", not one group per tier value."""
    report = _engine_diff(*_sides(tmp_path, NOT_DB_CLUSTER, NOT_DB_HEAD_RULES), pods=PodScope.ANY)
    assert report.complete and report.error is None
    (finding,) = report.findings
    destinations = (finding.destination, *finding.other_destinations)
    assert [(g.kind, g.namespace, g.labels_not_in) for g in destinations] == [
        ("new-pod", "app", {"tier": ("db",)})
    ]
    assert "app/<new pod> (tier not in {db})" in finding_title(finding)


DUAL_STACK_CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: dev}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: dev}
status: {podIP: 10.0.0.6}
---
apiVersion: v1
kind: Pod
metadata: {name: dual, namespace: dev}
status:
  podIP: 10.0.0.5
  podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod}
status: {podIP: 10.0.1.9}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
DUAL_STACK_HEAD_RULES = """\
  ingress:
    - from:
        - ipBlock: {cidr: 10.0.0.0/24}
      ports:
        - {protocol: TCP, port: 5432}
"""


def test_flows_of_pods_with_addresses_ipblocks_tell_apart_are_found_too(
    tmp_path: Path,
) -> None:
    """Flows between pods alike at every address are compared on bit sets, the rest by the
    solver: a dual-stack pod gains 5432 at its IPv4 address only, and that is reported in
    one finding with the single-stack pod and the external addresses (one rule admits
    them alike)."""
    report = _engine_diff(*_sides(tmp_path, DUAL_STACK_CLUSTER, DUAL_STACK_HEAD_RULES))
    assert report.complete and report.error is None
    sources = {
        (group.kind, group.pods)
        for finding in report.findings
        for group in (finding.source, *finding.other_sources)
    }
    assert sources == {("pods", ("web",)), ("pods", ("dual",)), ("external", ())}
    assert all(
        finding.change is Change.ADDED
        and finding.destination.pods == ("db",)
        and finding.ports == (PortRange(start=5432, end=5432),)
        for finding in report.findings
    )
    # One rule admits all three alike: one finding.
    assert len(report.findings) == 1


WIDE_NEW_PODS_CLUSTER = (
    """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: scrape, namespace: dev}
spec:
  podSelector: {matchLabels: {tier: backend}}
  ingress:
    - ports:
        - {protocol: TCP, port: metrics}
---
"""
    + NEW_PODS_CLUSTER
)
"""NEW_PODS_CLUSTER with a policy whose selector and named port new pods could match."""
WIDE_NEW_PODS_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
      ports:
        - {protocol: TCP, port: 5432}
"""


def test_new_pods_are_one_group_whatever_policies_cannot_tell_apart(tmp_path: Path) -> None:
    """With `--pods any`, every new pod of a dev namespace gains 5432 to db whatever its
    labels, named ports and address: one finding (both namespaces), not one per label
    value or port number a new pod could have."""
    base, head = _sides(tmp_path, WIDE_NEW_PODS_CLUSTER, WIDE_NEW_PODS_HEAD_RULES)
    report = _engine_diff(base, head, pods=PodScope.ANY)
    assert report.complete and report.error is None
    to_db = [
        finding
        for finding in report.findings
        if finding.source.kind == "new-pod" and finding.destination.pods == ("db",)
    ]
    assert len(to_db) == 1
    [finding] = to_db
    assert finding.ports == (PortRange(start=5432, end=5432),)
    assert {g.namespace for g in (finding.source, *finding.other_sources)} == {"dev", "dev-2"}


API_ON_UDP_53 = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-on-udp-53, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - ports: [{protocol: UDP, port: 53}]
"""


def test_added_flows_leave_part_of_the_limit_to_removed_ones(tmp_path: Path) -> None:
    """HEAD opens api on UDP 53 (two flow groups) and closes api -> db: at a limit of two,
    added flows used to take both and the report listed no removal at all."""
    text = (FIXTURES / "base" / "policies.yaml").read_text(encoding="utf-8")
    base = _variant(tmp_path / "base", text)
    head = _variant(tmp_path / "head", _without_api_to_db(text) + API_ON_UDP_53)
    everything = _engine_diff(base, head)
    assert everything.complete
    assert {f.change for f in everything.findings} == {Change.ADDED, Change.REMOVED}
    limited = _engine_diff(base, head, max_findings=2)
    assert not limited.complete
    assert {f.change for f in limited.findings} == {Change.ADDED, Change.REMOVED}
    assert _engine_diff(base, head, max_findings=3).complete


def test_removed_flows_are_searched_once_with_what_added_ones_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD only closes flows to new pods (three flow groups): at a limit of three, removed
    flows used to be searched with half of it, stopped there, and searched again from
    scratch with the rest (as `fix` ranks a fix that only narrows)."""
    head, base = _sides(tmp_path, NEW_PODS_CLUSTER, NEW_PODS_HEAD_RULES)
    searches: list[tuple[Change, int]] = []
    changes = DiffSearch.changes

    def counted(search: DiffSearch, change: Change, budget: int) -> Searched:
        searches.append((change, budget))
        return changes(search, change, budget)

    monkeypatch.setattr(DiffSearch, "changes", counted)
    report = _engine_diff(base, head, pods=PodScope.ANY, max_findings=3)
    assert report.complete
    assert [f.change for f in report.findings] == [Change.REMOVED, Change.REMOVED]
    assert searches == [(Change.ADDED, 2), (Change.REMOVED, 3)]


NAMED_PORT_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
          podSelector: {matchLabels: {app: web}}
      ports:
        - {protocol: TCP, port: grpc}
"""


def test_a_rule_on_a_named_port_is_one_finding_whatever_the_number(tmp_path: Path) -> None:
    """A rule opens the db pods' port `grpc` to web pods: the db pods that could exist
    number it in endless ways, and that is one finding on "the destination's port grpc",
    not one per number (which stopped at the limit)."""
    base, head = _sides(tmp_path, NEW_PODS_CLUSTER, NAMED_PORT_HEAD_RULES)
    report = _engine_diff(base, head, pods=PodScope.ANY, max_findings=20)
    assert report.complete and report.error is None
    (finding,) = report.findings
    assert finding.named_port == "grpc"
    assert finding.destination.kind == "new-pod" and finding.destination.namespace == "prod"
    assert {g.namespace for g in (finding.source, *finding.other_sources)} == {"dev", "dev-2"}
    (number,) = finding.ports
    witness = finding.head.flow.destination
    assert isinstance(witness, PodEndpoint)
    assert [p.port for p in witness.pod.ports if p.name == "grpc"] == [number.start]
    assert f"TCP, the destination's port grpc ({number.start} for the witness)" in (
        finding_title(finding)
    )


def test_a_search_run_again_with_a_larger_budget_groups_as_before(tmp_path: Path) -> None:
    """A kind of change stopped at its half of the limit is searched again with more: the
    second search starts over, so it must not see the first one's findings as reported
    (it then grouped nothing, one finding per pair of groups)."""
    base, head = _sides(tmp_path, NEW_PODS_CLUSTER, NEW_PODS_HEAD_RULES)
    revisions = Revisions(
        load_manifests([str(base)]).cluster, load_manifests([str(head)]).cluster, Settings()
    )
    search = DiffSearch(
        SymbolicDiff(revisions, PodScope.ANY, NamespaceScope.EXISTING, SolverLimits())
    )
    first, again = (search.changes(Change.ADDED, 100) for _ in range(2))
    assert first.complete and again.complete
    assert _groups_of(again.products) == _groups_of(first.products)


def _groups_of(products: list[Product]) -> set[tuple[frozenset[GroupKey], frozenset[GroupKey]]]:
    return {
        (frozenset(k for k, _ in p.sources), frozenset(k for k, _ in p.destinations))
        for p in products
    }


PINNED_CLUSTER = (
    NEW_PODS_CLUSTER
    + "".join(
        f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: only-{value}, namespace: prod}}
spec:
  podSelector: {{matchLabels: {{{key}: {value}}}}}
  policyTypes: [Ingress]
"""
        for key, values in (("app", "abcdef"), ("tier", "uvwxyz"))
        for value in values
    )
    + """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cache-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db, tier: cache}}
  policyTypes: [Ingress]
"""
)
"""NEW_PODS_CLUSTER with policies that mention six values of `app` and of `tier`, and one
that selects the db cache pods."""
PINNED_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
      ports:
        - {protocol: TCP, port: 6379}
"""


def _new_pod(revisions: Revisions, namespace: str, labels: dict[str, str]) -> PodEndpoint:
    found = revisions.merged.namespace(namespace)
    assert found is not None
    return PodEndpoint(namespace=found, pod=Pod(namespace=namespace, name=None, labels=labels))


@pytest.mark.parametrize(
    ("cluster", "head_rules", "ends", "key", "pinned"),
    [
        (PINNED_CLUSTER, PINNED_HEAD_RULES, ("dev", "prod"), "app", True),
        (PINNED_CLUSTER, PINNED_HEAD_RULES, ("dev", "prod"), "tier", True),
        (NOT_DB_CLUSTER, NOT_DB_HEAD_RULES, ("mon", "app"), "tier", False),
    ],
)
def test_a_label_a_selector_asks_for_pins_the_group(
    tmp_path: Path,
    cluster: str,
    head_rules: str,
    ends: tuple[str, str],
    key: str,
    pinned: bool,
) -> None:
    """Narrowing takes the witness's value of a label at once where the witness's pod,
    without the label or with a value no policy mentions, no longer changes (a selector's
    `matchLabels`), and excludes odd values where it still does (`NotIn`)."""
    base, head = _sides(tmp_path, cluster, head_rules)
    revisions = Revisions(
        load_manifests([str(base)]).cluster, load_manifests([str(head)]).cluster, Settings()
    )
    search = DiffSearch(
        SymbolicDiff(revisions, PodScope.ANY, NamespaceScope.EXISTING, SolverLimits())
    )
    labels = {"app": "db", "tier": "cache"} if pinned else {"tier": "web"}
    flow = Flow(
        source=_new_pod(revisions, ends[0], {}),
        destination=_new_pod(revisions, ends[1], labels),
        protocol=Protocol.TCP,
        port=6379 if pinned else 9100,
    )
    witness = revisions.replayed(Change.ADDED, flow)
    attributes = search.grouping.attributes
    index = attributes.label_keys.index(key)
    assert attributes.pins(revisions, witness, at_source=False, index=index) is pinned


def _search(tmp_path: Path, cluster: str, head_rules: str) -> tuple[Revisions, DiffSearch]:
    base, head = _sides(tmp_path, cluster, head_rules)
    revisions = Revisions(
        load_manifests([str(base)]).cluster, load_manifests([str(head)]).cluster, Settings()
    )
    symbolic = SymbolicDiff(revisions, PodScope.ANY, NamespaceScope.EXISTING, SolverLimits())
    return revisions, DiffSearch(symbolic)


def test_witnesses_of_new_pods_number_no_port_they_need_not(tmp_path: Path) -> None:
    """A new pod's named ports are left undefined where the query allows it (`tidy_ports`):
    a witness that numbers ports it need not makes a group split by those numbers."""
    _, search = _search(tmp_path, NEW_PODS_CLUSTER, NAMED_PORT_HEAD_RULES)
    encoding = search.symbolic.encoding
    destination = encoding.flow.destination
    solver = make_solver(SolverLimits())
    solver.add(*search.symbolic.space, destination.is_pod, destination.pod_class == -1)
    defined = destination.named_ports[("grpc", Protocol.TCP)].defined
    for tidy, named in ((False, ["grpc"]), (True, [])):
        assert solver.check(defined) == z3.sat
        flow = readable_flow(solver, encoding, prefer_existing=False, tidy_ports=tidy)
        assert isinstance(flow.destination, PodEndpoint)
        assert [p.name for p in flow.destination.pod.ports] == named


def test_the_named_port_a_change_follows_is_found_among_ports_of_one_number(
    tmp_path: Path,
) -> None:
    """The witness's db pod numbers `grpc` and `http` alike; the rule names `grpc`: moving
    `grpc` moves the change, so the change follows `grpc`."""
    revisions, _ = _search(tmp_path, NEW_PODS_CLUSTER, NAMED_PORT_HEAD_RULES)
    db = _new_pod(revisions, "prod", {"app": "db"}).model_copy()
    db = db.model_copy(
        update={
            "pod": db.pod.model_copy(
                update={
                    "ports": (
                        ContainerPort(name="http", port=8000),
                        ContainerPort(name="grpc", port=8000),
                    )
                }
            )
        }
    )
    flow = Flow(
        source=_new_pod(revisions, "dev", {"app": "web"}),
        destination=db,
        protocol=Protocol.TCP,
        port=8000,
    )
    witness = on_named_port(revisions, revisions.replayed(Change.ADDED, flow))
    assert witness.named_port == ("grpc", Protocol.TCP)


def test_narrowing_orders_named_ports_of_the_flows_protocol_only(tmp_path: Path) -> None:
    """A TCP flow's rules never name a UDP port: an odd pod that differs from the witness's
    in a UDP named port and a label is told apart by the label."""
    _, search = _search(tmp_path, NEW_PODS_CLUSTER, NAMED_PORT_HEAD_RULES + DNS_RULE)
    attributes = search.grouping.attributes
    udp = attributes.named_ports.index(("dns", Protocol.UDP))
    app = attributes.label_keys.index("app")
    own = NewPodGroup(
        namespace="prod",
        label_codes=tuple(1 if i == app else 0 for i in range(len(attributes.label_keys))),
        named_ports=(None,) * len(attributes.named_ports),
        segment=None,
    )
    odd = replace(
        own,
        label_codes=(0,) * len(attributes.label_keys),
        named_ports=tuple(53 if i == udp else None for i in range(len(attributes.named_ports))),
    )
    order = attributes.order(own, odd, (set(), {"dns"}), Protocol.TCP)
    assert order == [Attribute("label", app)]


def test_combinations_a_selector_names_are_excluded_before_the_rounds(tmp_path: Path) -> None:
    """A policy admits 6379 to the db cache pods already: new db cache pods do not gain it
    when HEAD opens 6379 to every prod pod. The group of new pods excludes that
    combination at once (a policy names it), and drops it where it pins a label that
    rules it out."""
    revisions, search = _search(tmp_path, CACHE_CLUSTER, CACHE_HEAD_RULES)
    flow = Flow(
        source=_new_pod(revisions, "dev", {}),
        destination=_new_pod(revisions, "prod", {"app": "web"}),
        protocol=Protocol.TCP,
        port=6379,
    )
    witness = revisions.replayed(Change.ADDED, flow)
    attributes = search.grouping.attributes
    keys = attributes.label_keys
    every = NewPodGroup(
        namespace="prod",
        label_codes=(None,) * len(keys),
        named_ports=(Wild.ANY,) * len(attributes.named_ports),
        segment=Wild.ANY,
    )
    seeded = attributes.seeded(revisions, witness, at_source=False, group=every)
    cache = tuple(
        (keys.index(key), attributes.mentioned_values[keys.index(key)].index(value) + 1)
        for key, value in (("app", "db"), ("tier", "cache"))
    )
    assert seeded.excluded == (cache,)
    assert pruned(seeded) == seeded
    web = attributes.mentioned_values[keys.index("app")].index("web") + 1
    pinned = replace(seeded, label_codes=tuple(web if k == "app" else None for k in keys))
    assert pruned(pinned).excluded == ()


DNS_RULE = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: prod}
spec:
  podSelector: {}
  ingress:
    - ports: [{protocol: UDP, port: dns}]
"""
CACHE_CLUSTER = (
    NEW_PODS_CLUSTER
    + """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cache, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db, tier: cache}}
  ingress:
    - ports: [{protocol: TCP, port: 6379}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolated, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
)
CACHE_HEAD_RULES = """\
  ingress:
    - ports: [{protocol: TCP, port: 6379}]
"""
