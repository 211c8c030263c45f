"""`prove --all` against brute force and on hand-made clusters: every violating flow of a
forbid or require is covered by exactly one finding, one rule's violations are one finding,
and a finding limit marks the listing incomplete."""

import json
from itertools import product
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.engine import SolverLimits
from netverify.engine.diff import diff
from netverify.engine.violations import violation_findings
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Direction,
    EndpointPattern,
    Flow,
    Invariant,
    InvariantKind,
    LabelSelector,
    LoadedCluster,
    Namespace,
    NamespaceScope,
    NetworkPolicy,
    Pod,
    PodEndpoint,
    PodScope,
    PolicyPeer,
    PolicyRule,
    Protocol,
    Settings,
    ViolationFinding,
)
from netverify.report.describe import finding_title
from netverify.semantics import evaluate
from netverify.semantics.patterns import flow_matches
from tests.diff.test_diff_differential import (
    DIFFERENTIAL,
    _covers,
    _endpoints,
    _in_groups_or_new,
    not_probed,
)
from tests.engine.helpers import prove_invariants
from tests.strategies import INTERESTING_PORTS, clusters, container_ports, labels


def _findings(
    cluster: Cluster, invariant: Invariant, max_findings: int = 100
) -> tuple[ViolationFinding, ...]:
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), max_findings)
    assert found.complete, found.incomplete_reason
    return found.findings


def _invariants(cluster: Cluster) -> st.SearchStrategy[Invariant]:
    """A forbid or require over existing pods, between everything or out of one namespace."""
    names = [namespace.name for namespace in cluster.namespaces]
    sources = st.one_of(
        st.just(EndpointPattern()),
        st.sampled_from(names).map(lambda name: EndpointPattern(namespace_name=name)),
    )
    return st.builds(
        Invariant,
        name=st.just("generated"),
        kind=st.sampled_from((InvariantKind.FORBID, InvariantKind.REQUIRE)),
        source=sources,
        pods=st.just(PodScope.EXISTING),
    )


@settings(DIFFERENTIAL, max_examples=40)
@given(data=st.data())
def test_findings_cover_exactly_the_violating_flows(data: st.DataObject) -> None:
    """Each violating flow between existing pods is covered by exactly one finding; each one
    with an external address (named only as "external addresses") by at least one; no flow
    between pods that does not violate is covered. Traffic no policy decides (node-local,
    or between a hostNetwork pod and an external address) is not listed."""
    cluster = data.draw(clusters(max_pods=4, max_policies=3))
    invariant = data.draw(_invariants(cluster))
    findings = _findings(cluster, invariant)
    ports = sorted({*INTERESTING_PORTS, *(p.port for pod in cluster.pods for p in pod.ports)})
    endpoints = _endpoints(cluster)
    for source, destination in product(endpoints, endpoints):
        if not_probed(source, destination):
            continue
        external = not isinstance(source, PodEndpoint) or not isinstance(destination, PodEndpoint)
        for protocol, port in product(Protocol, ports):
            flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
            decision = evaluate(cluster, flow)
            if decision.node_local or not (decision.egress.governed or decision.ingress.governed):
                continue  # allowed whatever the policies say: not listed
            forbid = invariant.kind is InvariantKind.FORBID
            violates = flow_matches(invariant, cluster, flow) and decision.allowed == forbid
            covering = [finding for finding in findings if _covers(finding, flow)]
            if not violates:
                assert external or not covering, flow
            elif external:
                assert covering, f"violating flow not covered: {flow}"
            else:
                assert len(covering) == 1, f"violating flow covered {len(covering)} times: {flow}"


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
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), 40)
    if not found.complete:
        # A new pod's named ports may make one finding per port number it could give them.
        assert found.incomplete_reason == "stopped at the limit of 40 findings"
        event("stopped at the finding limit")
        return
    event(f"findings: {min(len(found.findings), 3)}{'+' if len(found.findings) >= 3 else ''}")
    existing = [end for end in _endpoints(cluster) if isinstance(end, PodEndpoint)]
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
    ports = sorted({*INTERESTING_PORTS, *(p.port for end in existing + new for p in end.pod.ports)})
    pairs = [
        *product(existing, existing),
        *((a, b) for a in new for b in existing),
        *((b, a) for a in new for b in existing),
    ]
    for (source, destination), protocol, port in product(pairs, Protocol, ports):
        if not_probed(source, destination):
            continue
        flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
        decision = evaluate(cluster, flow)
        if decision.node_local or not (decision.egress.governed or decision.ingress.governed):
            continue  # allowed whatever the policies say: not listed
        forbid = invariant.kind is InvariantKind.FORBID
        violates = flow_matches(invariant, cluster, flow) and decision.allowed == forbid
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
    assert found.incomplete_reason == "stopped at the limit of 1 findings"
    assert len(found.findings) == 1


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
    assert "1 finding (incomplete: stopped at the limit of 1 findings)" in text.stdout
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
