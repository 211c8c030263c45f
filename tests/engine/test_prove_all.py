"""`prove --all` against brute force and on hand-made clusters: every violating flow of a
forbid or require is covered by exactly one finding, one rule's violations are one finding,
and a finding limit marks the listing incomplete."""

import json
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.engine import SolverLimits, prove, slicing, violations
from netverify.engine.diff import diff
from netverify.engine.slicing import Slice, slice_for
from netverify.engine.violations import _with_pattern_labels, violation_findings
from netverify.model import (
    CNP_API_VERSION,
    NAMESPACE_NAME_LABEL,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    Direction,
    EndpointPattern,
    Flow,
    FlowDecision,
    Invariant,
    InvariantKind,
    LabelRequirement,
    LabelSelector,
    LoadedCluster,
    LoadedSpec,
    Namespace,
    NamespacedPods,
    NamespaceScope,
    NetworkPolicy,
    Operator,
    Pod,
    PodEndpoint,
    PodScope,
    PolicyPeer,
    PolicyRule,
    Protocol,
    Settings,
    Spec,
    Status,
    Tier,
    ViolationFinding,
    ViolationFindings,
)
from netverify.model.diff import EndpointGroup
from netverify.report.describe import finding_title
from netverify.semantics.evaluator import placements, possible_verdicts
from netverify.semantics.patterns import flow_matches
from tests.diff.test_diff_differential import (
    DIFFERENTIAL,
    _covers,
    _endpoints,
    _in_groups_or_new,
    bound_host_pair,
    covers_placed,
    not_probed,
)
from tests.engine.helpers import prove_invariants, recorded_pools
from tests.strategies import INTERESTING_PORTS, clusters, container_ports, labels


def _findings(
    cluster: Cluster, invariant: Invariant, max_findings: int = 100
) -> tuple[ViolationFinding, ...]:
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), max_findings)
    assert found.complete, found.incomplete_reason
    return found.findings


def _invariants(cluster: Cluster) -> st.SearchStrategy[Invariant]:
    """A forbid or require over existing pods, between everything or out of or into one
    namespace (which a slice of the cluster leaves the other pods out of)."""
    names = [namespace.name for namespace in cluster.namespaces]
    ends = st.one_of(
        st.just(EndpointPattern()),
        st.sampled_from(names).map(lambda name: EndpointPattern(namespace_name=name)),
    )
    return st.builds(
        Invariant,
        name=st.just("generated"),
        kind=st.sampled_from((InvariantKind.FORBID, InvariantKind.REQUIRE)),
        source=ends,
        destination=ends,
        pods=st.just(PodScope.EXISTING),
    )


def _part(data: st.DataObject, cluster: Cluster, invariant: Invariant) -> Slice | None:
    """The invariant's slice, searched as `prove --all` does on large clusters, or None
    (the whole cluster), half the time each: the findings must be the same flows."""
    if not data.draw(st.booleans(), label="sliced"):
        return None
    part = slice_for(cluster, Settings(), invariant)
    event("sliced, pods left out" if len(part.pods) < len(cluster.pods) else "sliced")
    return part


@settings(DIFFERENTIAL, max_examples=40)
@given(data=st.data())
def test_findings_cover_exactly_the_violating_flows(data: st.DataObject) -> None:
    """On clusters with admin policies and hostNetwork pods: each violating flow between
    existing pods, on each placement its ends can have, is covered by exactly one finding
    of that placement; each one with an external address
    (named only as "external addresses") by at least one; no flow between pods that violates
    in no placement is covered. A violating flow no policy can block (a forbid's node-local
    or ungoverned flow) is not listed and makes the listing incomplete, and so does a flow
    whose verdict depends on an order of admin policies the API leaves open."""
    admin = data.draw(st.sampled_from((0, 3)))
    cluster = data.draw(clusters(max_pods=4, max_policies=3, max_admin_policies=admin))
    invariant = data.draw(_invariants(cluster))
    found = violation_findings(
        cluster, Settings(), invariant, SolverLimits(), 100, _part(data, cluster, invariant)
    )
    # Only an unlisted violation or an open order leaves a complete search incomplete.
    assert found.complete or any(
        why in (found.incomplete_reason or "") for why in ("are not listed", "leaves open")
    ), found.incomplete_reason
    forbid = invariant.kind is InvariantKind.FORBID
    ports = sorted({*INTERESTING_PORTS, *(p.port for pod in cluster.pods for p in pod.ports)})
    endpoints = _endpoints(cluster)
    for source, destination in product(endpoints, endpoints):
        if not_probed(source, destination) or bound_host_pair(source, destination):
            continue
        external = not isinstance(source, PodEndpoint) or not isinstance(destination, PodEndpoint)
        for protocol, port in product(Protocol, ports):
            flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
            if not flow_matches(invariant, cluster, flow):
                continue
            for placed in placements(flow):
                verdict = possible_verdicts(cluster, placed)
                if len(verdict) > 1:
                    assert not found.complete, f"order-dependent flow, listing complete: {placed}"
                    continue
                (decision,) = verdict.values()
                covering = [f for f in found.findings if covers_placed(f, placed)]
                violating = decision.allowed == forbid
                if violating and forbid and _unblockable(decision):
                    assert not found.complete, f"unlisted violation, listing complete: {placed}"
                    assert "are not listed" in (found.incomplete_reason or "")
                    assert not covering, placed
                elif not violating:
                    assert external or not covering, placed
                elif external:
                    assert covering, f"violating flow not covered: {placed}"
                else:
                    assert len(covering) == 1, (
                        f"violating flow covered {len(covering)} times: {placed}"
                    )


def _unblockable(decision: FlowDecision) -> bool:
    """No policy can block the flow: node-local, or with no end a policy selects."""
    return decision.node_local or not (decision.egress.governed or decision.ingress.governed)


@settings(DIFFERENTIAL, max_examples=25)
@given(data=st.data())
def test_findings_for_pods_that_could_exist_cover_the_violating_flows(
    data: st.DataObject,
) -> None:
    """`--pods any`: each violating flow between existing pods is covered by exactly one
    finding, and each between a sampled new pod (in an existing namespace) and an existing
    pod by at least one (a new pod's group is "new pods like the witness", matched here by
    namespace only, so "exactly one" cannot be told for them); no flow between existing pods
    that does not violate is covered."""
    cluster = data.draw(clusters(max_pods=3, max_policies=3))
    invariant = data.draw(_invariants(cluster)).model_copy(update={"pods": PodScope.ANY})
    part = _part(data, cluster, invariant)
    # The sampled new pods are drawn before the search: whether it stops at the limit may
    # vary between runs of one example in a process (Z3's term ids follow what earlier runs
    # left), and draws made only on one path would make Hypothesis call the test flaky.
    new = [
        PodEndpoint(
            namespace=namespace,
            pod=Pod(
                namespace=namespace.name,
                name=None,
                labels=pod_labels,
                ports=data.draw(container_ports()),
            ),
        )
        for namespace in cluster.namespaces
        for pod_labels in data.draw(st.lists(labels(), min_size=1, max_size=2))
    ]
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), 40, part)
    if not found.complete and "are not listed" not in (found.incomplete_reason or ""):
        # A new pod's named ports may make one finding per port number it could give them.
        assert (found.incomplete_reason or "").startswith(
            "stopped at the limit of 40 flow groups (--max-findings), listed as "
        )
        event("stopped at the finding limit")
        return
    event(f"findings: {min(len(found.findings), 3)}{'+' if len(found.findings) >= 3 else ''}")
    existing = [end for end in _endpoints(cluster) if isinstance(end, PodEndpoint)]
    ports = sorted({*INTERESTING_PORTS, *(p.port for end in existing + new for p in end.pod.ports)})
    pairs = [
        *product(existing, existing),
        *((a, b) for a in new for b in existing),
        *((b, a) for a in new for b in existing),
    ]
    for (source, destination), protocol, port in product(pairs, Protocol, ports):
        if not_probed(source, destination) or bound_host_pair(source, destination):
            continue
        flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
        decisions = [
            decision
            for placed in placements(flow)
            for decision in possible_verdicts(cluster, placed).values()
        ]
        if any(_unblockable(decision) for decision in decisions):
            continue  # allowed whatever the policies say in some placement: not listed
        forbid = invariant.kind is InvariantKind.FORBID
        violates = flow_matches(invariant, cluster, flow) and any(
            decision.allowed == forbid for decision in decisions
        )
        covering = [f for f in found.findings if _covers(f, flow, _in_groups_or_new)]
        if source.pod.name is not None and destination.pod.name is not None:
            assert len(covering) == (1 if violates else 0), (
                f"{'violating' if violates else 'other'} flow covered {len(covering)} times: {flow}"
            )
        elif violates:
            assert covering, f"violating flow with a new pod not covered: {flow}"


def _namespace(name: str, **labels: str) -> Namespace:
    return Namespace(name=name, labels={**labels, NAMESPACE_NAME_LABEL: name})


def _rule_from(namespace: str) -> PolicyRule:
    selector = LabelSelector(match_labels={NAMESPACE_NAME_LABEL: namespace})
    return PolicyRule(peers=(PolicyPeer(namespace_selector=selector),))


def _isolating(
    namespace: str, name: str, rules: tuple[PolicyRule, ...], **labels: str
) -> NetworkPolicy:
    """An ingress policy of the pods with the labels (every pod, without any)."""
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=LabelSelector(match_labels=labels),
        policy_types=frozenset({Direction.INGRESS}),
        ingress=rules,
    )


_CLUSTER = Cluster(
    namespaces=(_namespace("dev"), _namespace("prod"), _namespace("qa")),
    pods=(
        *(Pod(namespace="dev", name=f"dev{i}", labels={"app": f"a{i}"}) for i in range(3)),
        *(Pod(namespace="prod", name=f"db{i}", labels={"app": f"d{i}"}) for i in range(3)),
        Pod(namespace="qa", name="qa0", labels={"app": "qa"}),
    ),
    policies=(_isolating("prod", "from-dev", (_rule_from("dev"),)),),
)
_DEV_TO_PROD = Invariant(
    name="dev-never-reaches-prod",
    kind=InvariantKind.FORBID,
    source=EndpointPattern(namespace_name="dev"),
    destination=EndpointPattern(namespace_name="prod"),
    pods=PodScope.EXISTING,
)


def test_one_rule_opening_many_pods_to_many_pods_is_one_finding() -> None:
    (finding,) = _findings(_CLUSTER, _DEV_TO_PROD)
    sources = {pod for group in (finding.source, *finding.other_sources) for pod in group.pods}
    destinations = {
        pod for group in (finding.destination, *finding.other_destinations) for pod in group.pods
    }
    assert (sources, destinations) == ({"dev0", "dev1", "dev2"}, {"db0", "db1", "db2"})
    assert [(r.start, r.end) for r in finding.ports] == [(1, 65535)]
    (rule,) = finding.witness.decision.ingress.allowed_by
    assert rule.policy.name == "from-dev"


def test_two_rules_causing_violations_are_two_findings() -> None:
    """A second rule (of another policy) that admits dev to one prod pod too: the flows it
    admits are a finding of their own."""
    second = _isolating("prod", "db0-from-dev", (_rule_from("dev"),), app="d0")
    cluster = _CLUSTER.model_copy(update={"policies": (*_CLUSTER.policies, second)})
    findings = _findings(cluster, _DEV_TO_PROD)
    assert len(findings) == 2
    admitting = {
        tuple(rule.policy.name for rule in f.witness.decision.ingress.allowed_by) for f in findings
    }
    assert admitting == {("from-dev",), ("from-dev", "db0-from-dev")}


def test_require_findings_are_grouped_by_the_isolating_policies() -> None:
    """qa is blocked from every prod pod by one policy: one finding."""
    invariant = _DEV_TO_PROD.model_copy(
        update={"kind": InvariantKind.REQUIRE, "source": EndpointPattern(namespace_name="qa")}
    )
    (finding,) = _findings(_CLUSTER, invariant)
    assert [p.name for p in finding.witness.decision.ingress.isolated_by] == ["from-dev"]
    destinations = {
        pod for group in (finding.destination, *finding.other_destinations) for pod in group.pods
    }
    assert destinations == {"db0", "db1", "db2"}


def test_a_finding_limit_marks_the_listing_incomplete() -> None:
    second = _isolating("prod", "more", (_rule_from("qa"),))
    invariant = _DEV_TO_PROD.model_copy(update={"source": EndpointPattern()})
    cluster = _CLUSTER.model_copy(update={"policies": (*_CLUSTER.policies, second)})
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), 1)
    assert not found.complete
    assert found.incomplete_reason == (
        "stopped at the limit of 1 flow group (--max-findings), listed as 1 finding"
    )
    assert len(found.findings) == 1


@pytest.mark.parametrize("large", [True, False])
def test_prove_all_searches_the_slice_only_on_clusters_worth_slicing(
    large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`prove --all` searches the invariant's slice (here without qa's pod) exactly where
    `prove` proves on slices, and the whole cluster below the size threshold; the findings
    are the same either way."""
    searched: list[Slice | None] = []

    def recording(*args: Any) -> ViolationFindings:
        searched.append(args[-1])
        return violation_findings(*args)

    monkeypatch.setattr(slicing, "SLICING_THRESHOLD", 0 if large else 10**9)
    monkeypatch.setattr(violations, "violation_findings", recording)
    (result,) = prove_invariants(_CLUSTER, [_DEV_TO_PROD], max_findings=100)
    (part,) = searched
    if large:
        assert part is not None
        assert {_CLUSTER.pods[index].name for index in part.pods} == {
            *(f"dev{i}" for i in range(3)),
            *(f"db{i}" for i in range(3)),
        }
    else:
        assert part is None
    assert result.all_findings is not None
    assert result.all_findings.findings == _findings(_CLUSTER, _DEV_TO_PROD)


def test_prove_all_lists_the_same_findings_in_parallel_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `jobs`, the violated invariants' searches run in a worker process and this one:
    the same complete listings as one after the other in this process."""
    pools = recorded_pools(monkeypatch)
    require = _DEV_TO_PROD.model_copy(
        update={
            "name": "qa-reaches-prod",
            "kind": InvariantKind.REQUIRE,
            "source": EndpointPattern(namespace_name="qa"),
        }
    )
    spec = Spec(file="<test>", manifests=(), invariants=(_DEV_TO_PROD, require))
    loaded = LoadedCluster(cluster=_CLUSTER)
    one, two = (
        prove(loaded, LoadedSpec(spec=spec), SolverLimits(), jobs=jobs, max_findings=100)
        for jobs in (1, 2)
    )
    # The cluster is proved in one part (too small to slice): the one pool is the searches',
    # of one worker beside this process.
    assert pools == [1]
    assert [result.all_findings for result in two.results] == [
        result.all_findings for result in one.results
    ]
    assert all(
        result.all_findings is not None and result.all_findings.complete for result in two.results
    )


def test_prove_lists_findings_only_when_asked() -> None:
    (plain,) = prove_invariants(_CLUSTER, [_DEV_TO_PROD])
    assert plain.all_findings is None


def test_diff_merges_protocols_with_the_same_ports() -> None:
    """A rule that opens every port is one diff finding, not one per protocol."""
    base = _CLUSTER.model_copy(update={"policies": (_isolating("prod", "from-dev", ()),)})
    report = diff(
        LoadedCluster(cluster=base),
        LoadedCluster(cluster=_CLUSTER),
        Settings(),
        PodScope.EXISTING,
        NamespaceScope.EXISTING,
        SolverLimits(),
    )
    (finding,) = report.findings
    assert finding.protocols == tuple(Protocol)
    assert finding_title(finding).endswith(" every protocol, every port")


def test_prove_all_on_the_command_line() -> None:
    """`--all` lists the findings in text and JSON and keeps exit 1; `--max-findings 1`
    marks the listing incomplete."""
    spec = Path(__file__).parents[2] / "specs" / "devprod.yaml"
    text = CliRunner().invoke(app, ["prove", str(spec), "--all", "--max-findings", "1"])
    assert text.exit_code == 1
    assert (
        "1 finding (incomplete: stopped at the limit of 1 flow group (--max-findings), "
        "listed as 1 finding)"
    ) in text.stdout
    assert "[1] dev/<new pod> (tier=web) -> prod/{db} (app=db,tier=db) TCP/5432" in text.stdout
    result = CliRunner().invoke(app, ["prove", str(spec), "--all", "--format", "json"])
    assert result.exit_code == 1
    violated, *holding = json.loads(result.stdout)["results"]
    assert violated["counterexample"] is not None and violated["findings"]
    assert list(violated["findings"][0]) == [
        "from",
        "also_from",
        "to",
        "also_to",
        "protocol",
        "protocols",
        "ports",
        "witness",
    ]
    assert all("findings" not in other for other in holding)


def _admin(name: str, **rules: tuple[AdminRule, ...]) -> AdminPolicy:
    """An Admin tier ClusterNetworkPolicy of every namespace."""
    return AdminPolicy(
        api_version=CNP_API_VERSION,
        kind="ClusterNetworkPolicy",
        name=name,
        tier=Tier.ADMIN,
        priority=1,
        subject=AdminSubject(namespaces=LabelSelector()),
        **rules,
    )


def _admin_rule(action: AdminAction, namespace: str) -> AdminRule:
    selector = LabelSelector(match_labels={NAMESPACE_NAME_LABEL: namespace})
    return AdminRule(action=action, peers=(AdminPeer(namespaces=selector),))


def _pods(finding: ViolationFinding, at_source: bool) -> set[str]:
    groups = (
        (finding.source, *finding.other_sources)
        if at_source
        else (finding.destination, *finding.other_destinations)
    )
    return {pod for group in groups for pod in group.pods}


def test_an_admin_deny_cutting_a_require_is_one_finding_naming_it() -> None:
    """dev must reach prod; an Admin Deny cuts dev from db0 (before the NetworkPolicy that
    admits dev): one finding of the flows it cuts, apart from none the NetworkPolicy cuts."""
    deny = _admin(
        "cut-db0",
        egress=(
            AdminRule(
                action=AdminAction.DENY,
                peers=(
                    AdminPeer(
                        pods=NamespacedPods(
                            namespace_selector=LabelSelector(), pod_selector=_app("d0")
                        )
                    ),
                ),
            ),
        ),
    )
    cluster = _CLUSTER.model_copy(update={"admin_policies": (deny,)})
    invariant = _DEV_TO_PROD.model_copy(update={"kind": InvariantKind.REQUIRE})
    (finding,) = _findings(cluster, invariant)
    assert (_pods(finding, True), _pods(finding, False)) == ({"dev0", "dev1", "dev2"}, {"db0"})
    rule = finding.witness.decision.egress.admin_rule
    assert rule is not None and rule.action is AdminAction.DENY
    assert rule.rule.policy.name == "cut-db0"


def test_require_findings_are_grouped_by_the_denying_admin_rule() -> None:
    """qa is cut from prod three ways: Admin Denies from qa on db0's and on db1's ingress
    (two policies) and the NetworkPolicy isolating db2: three findings, one per reason."""
    denies = tuple(
        _admin(f"qa-out-{pod}", ingress=(_admin_rule(AdminAction.DENY, "qa"),)).model_copy(
            update={
                "priority": priority,
                "subject": AdminSubject(
                    pods=NamespacedPods(namespace_selector=LabelSelector(), pod_selector=_app(app))
                ),
            }
        )
        for priority, (pod, app) in enumerate((("db0", "d0"), ("db1", "d1")), start=1)
    )
    cluster = _CLUSTER.model_copy(update={"admin_policies": denies})
    invariant = _DEV_TO_PROD.model_copy(
        update={"kind": InvariantKind.REQUIRE, "source": EndpointPattern(namespace_name="qa")}
    )
    findings = _findings(cluster, invariant)
    reasons = {
        (
            *sorted(_pods(f, False)),
            f.witness.decision.ingress.admin_rule
            and f.witness.decision.ingress.admin_rule.rule.policy.name,
            *(p.name for p in f.witness.decision.ingress.isolated_by),
        )
        for f in findings
    }
    assert len(findings) == 3
    assert reasons == {("db0", "qa-out-db0"), ("db1", "qa-out-db1"), ("db2", None, "from-dev")}


def test_an_admin_accept_violating_a_forbid_that_network_policies_deny() -> None:
    """qa may not reach prod, and no NetworkPolicy admits it; Admin Accepts on both sides
    (qa's egress to prod, prod's ingress from qa) do: one finding, naming the Accepts."""
    accept = _admin(
        "qa-in",
        ingress=(_admin_rule(AdminAction.ACCEPT, "qa"),),
        egress=(_admin_rule(AdminAction.ACCEPT, "prod"),),
    )
    isolate_qa = NetworkPolicy(
        namespace="qa",
        name="no-egress",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.EGRESS}),
    )
    cluster = _CLUSTER.model_copy(
        update={"admin_policies": (accept,), "policies": (*_CLUSTER.policies, isolate_qa)}
    )
    invariant = _DEV_TO_PROD.model_copy(update={"source": EndpointPattern(namespace_name="qa")})
    (finding,) = _findings(cluster, invariant)
    assert (_pods(finding, True), _pods(finding, False)) == ({"qa0"}, {"db0", "db1", "db2"})
    decision = finding.witness.decision
    assert decision.egress.admin_rule is not None and decision.ingress.admin_rule is not None
    assert {decision.egress.admin_rule.action, decision.ingress.admin_rule.action} == {
        AdminAction.ACCEPT
    }


def test_a_node_local_violation_marks_the_listing_incomplete() -> None:
    """node-exporter (hostNetwork) reaches grafana only on grafana's node, which no policy
    can stop: the forbid is violated, no finding lists it, and the listing says why."""
    grafana = Pod(namespace="monitoring", name="grafana", labels={"app": "grafana"})
    exporter = Pod(namespace="monitoring", name="node-exporter", host_network=True)
    cluster = Cluster(
        namespaces=(_namespace("monitoring"),),
        pods=(grafana, exporter),
        policies=(_isolating("monitoring", "grafana", (), app="grafana"),),
    )
    invariant = Invariant(
        name="exporter-never-reaches-grafana",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(namespace_name="monitoring", pod_name="node-exporter"),
        destination=EndpointPattern(namespace_name="monitoring", pod_name="grafana"),
        pods=PodScope.EXISTING,
    )
    (result,) = prove_invariants(cluster, [invariant])
    assert result.status is Status.VIOLATED
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), 100)
    assert (found.findings, found.complete) == ((), False)
    assert found.incomplete_reason is not None
    assert found.incomplete_reason.startswith(
        "node-local traffic is not subject to NetworkPolicy: violating flows between a "
        "hostNetwork pod and a pod on its node, such as monitoring/node-exporter -> "
        "monitoring/grafana"
    )


def _app(name: str) -> LabelSelector:
    return LabelSelector(match_labels={"app": name})


def test_a_group_never_takes_in_a_pair_that_cannot_have_the_witness_placement() -> None:
    """An external address is cut from db (ingress isolated); the node's hostNetwork agent,
    bound to db's node, reaches db only node-locally, which is always allowed: it violates
    nothing and must not be taken into the external address's finding."""
    db = Pod(namespace="prod", name="db", node_name="node-b")
    agent = Pod(namespace="prod", name="agent", host_network=True, node_name="node-b")
    cluster = Cluster(
        namespaces=(_namespace("prod"),),
        pods=(agent, db),
        policies=(_isolating("prod", "isolated", ()),),
    )
    invariant = Invariant(
        name="reach-everything", kind=InvariantKind.REQUIRE, pods=PodScope.EXISTING
    )
    (finding,) = _findings(cluster, invariant)
    assert [group.kind for group in (finding.source, *finding.other_sources)] == ["external"]
    assert _pods(finding, False) == {"db"}


def test_groups_of_new_pods_show_the_labels_the_invariant_asks_for() -> None:
    """A forbid into the prometheus pods of monitoring (`app.kubernetes.io/name:
    prometheus`), violated by a rule that admits dev to every monitoring pod but the
    alertmanagers (which a default deny isolates): the new pods of the finding are
    prometheus pods, and it says so beside what the rule excludes."""
    name = "app.kubernetes.io/name"
    selector = LabelSelector(
        match_expressions=(
            LabelRequirement(key="component", operator=Operator.NOT_IN, values=("alerts",)),
        )
    )
    policy = NetworkPolicy(
        namespace="monitoring",
        name="from-dev",
        pod_selector=selector,
        policy_types=frozenset({Direction.INGRESS}),
        ingress=(_rule_from("dev"),),
    )
    cluster = Cluster(
        namespaces=(_namespace("dev"), _namespace("monitoring")),
        pods=(
            Pod(namespace="dev", name="dev0", labels={"app": "a0"}),
            Pod(namespace="monitoring", name="prom0", labels={name: "prometheus"}),
        ),
        policies=(policy, _isolating("monitoring", "default-deny", ())),
    )
    invariant = Invariant(
        name="dev-never-reaches-prometheus",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(namespace_name="dev"),
        destination=EndpointPattern(
            namespace_name="monitoring",
            pod_selector=LabelSelector(match_labels={name: "prometheus"}),
        ),
        pods=PodScope.ANY,
    )
    new_pods = [
        group
        for finding in _findings(cluster, invariant)
        for group in (finding.destination, *finding.other_destinations)
        if group.kind == "new-pod"
    ]
    assert new_pods
    assert all(group.labels.get(name) == "prometheus" for group in new_pods)
    assert all(group.labels_not_in == {"component": ("alerts",)} for group in new_pods)


def test_a_pattern_label_drops_the_exclusions_it_rules_out() -> None:
    """Beside `name=prometheus` (the invariant's), excluding `name=alertmanager,...` or
    `name not in {grafana}` says nothing: those go; exclusions it does not rule out stay."""
    group = EndpointGroup(
        kind="new-pod",
        namespace="monitoring",
        labels_not_in={"name": ("grafana",), "tier": ("db",)},
        except_labels=({"name": "alertmanager", "part": "kp"}, {"name": "prometheus", "x": "y"}),
    )
    pattern = EndpointPattern(pod_selector=LabelSelector(match_labels={"name": "prometheus"}))
    described = _with_pattern_labels(group, pattern)
    assert described.labels == {"name": "prometheus"}
    assert described.labels_not_in == {"tier": ("db",)}
    assert described.except_labels == ({"name": "prometheus", "x": "y"},)
