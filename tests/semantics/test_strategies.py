"""The generators of `tests.strategies` produce valid clusters and flows the evaluator takes."""

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, find, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ExternalEndpoint,
    Flow,
    Operator,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
    RuleRef,
    Settings,
)
from netverify.semantics import evaluate, may_be_node_local, port_matches
from tests.strategies import (
    EXTERNAL_IPS,
    POD_SUBNET,
    PORT_NAMES,
    clusters,
    flows,
    pod_endpoints,
    settings,
)

SANITY = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
Scenario = tuple[Cluster, Flow, Settings]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    cluster = draw(clusters())
    return cluster, draw(flows(cluster)), draw(settings())


def _peers(cluster: Cluster) -> list[PolicyPeer]:
    return [
        peer
        for policy in cluster.policies
        for rule in (*policy.ingress, *policy.egress)
        for peer in rule.peers
    ]


@SANITY
@given(clusters())
def test_generated_clusters_are_consistent(cluster: Cluster) -> None:
    names = [ns.name for ns in cluster.namespaces]
    assert 1 <= len(names) <= 3
    assert len(set(names)) == len(names)
    assert all(ns.labels[NAMESPACE_NAME_LABEL] == ns.name for ns in cluster.namespaces)

    assert 1 <= len(cluster.pods) <= 5
    assert all(pod.namespace in names for pod in cluster.pods)
    assert len({(pod.namespace, pod.name) for pod in cluster.pods}) == len(cluster.pods)
    assert list(cluster.pods) == sorted(cluster.pods, key=lambda p: (p.namespace, p.name or ""))
    addresses = [ip for pod in cluster.pods for ip in pod.ips]
    assert len(set(addresses)) == len(addresses)
    assert all(ip in POD_SUBNET and ip not in EXTERNAL_IPS for ip in addresses)
    for pod in cluster.pods:
        assert len(pod.ips) <= 1
        assert len({port.name for port in pod.ports}) == len(pod.ports)
        assert all(port.name in PORT_NAMES for port in pod.ports)

    assert len(cluster.policies) <= 4
    assert all(policy.namespace in names for policy in cluster.policies)
    assert len({(p.namespace, p.name) for p in cluster.policies}) == len(cluster.policies)
    assert list(cluster.policies) == sorted(cluster.policies, key=lambda p: (p.namespace, p.name))
    for policy in cluster.policies:
        assert policy.policy_types
        assert len(policy.ingress) <= 3
        assert len(policy.egress) <= 3
        selectors = [policy.pod_selector]
        for rule in (*policy.ingress, *policy.egress):
            assert len(rule.peers) <= 2
            assert len(rule.ports) <= 2
            for entry in rule.ports:
                assert entry.port_range is None or entry.named_port is None
                if entry.port_range is not None:
                    assert 1 <= entry.port_range.start <= entry.port_range.end <= 65535
        for peer in _peers(Cluster(policies=(policy,))):
            if peer.ip_block is not None:
                assert peer.pod_selector is None and peer.namespace_selector is None
                for excepted in peer.ip_block.excepts:
                    assert excepted.subnet_of(peer.ip_block.cidr)  # type: ignore[arg-type]
                    assert excepted.prefixlen > peer.ip_block.cidr.prefixlen
            else:
                assert peer.pod_selector is not None or peer.namespace_selector is not None
            selectors += [s for s in (peer.pod_selector, peer.namespace_selector) if s]
        for requirement in (r for s in selectors for r in s.match_expressions):
            with_values = requirement.operator in (Operator.IN, Operator.NOT_IN)
            assert bool(requirement.values) is with_values


@SANITY
@given(scenarios())
def test_evaluate_takes_every_generated_flow(scenario: Scenario) -> None:
    cluster, flow, settings_ = scenario
    assert not (
        isinstance(flow.source, ExternalEndpoint) and isinstance(flow.destination, ExternalEndpoint)
    )
    for end in (flow.source, flow.destination):
        if isinstance(end, PodEndpoint):
            assert end.pod in cluster.pods
            assert end.namespace == cluster.namespace(end.pod.namespace)
            assert end.ip == (end.pod.ips[0] if end.pod.ips else None)
        else:
            assert end.ip in EXTERNAL_IPS
    assert 1 <= flow.port <= 65535

    decision = evaluate(cluster, flow, settings_)

    assert decision.allowed is (
        decision.self_traffic
        or decision.node_local
        or (decision.egress.allowed and decision.ingress.allowed)
    )
    assert decision.node_local is (
        flow.same_node and may_be_node_local(flow.source, flow.destination)
    )


@SANITY
@given(st.data())
def test_a_generated_pod_may_always_talk_to_itself(data: st.DataObject) -> None:
    cluster = data.draw(clusters())
    pod = data.draw(pod_endpoints(cluster))
    flow = data.draw(flows(cluster)).model_copy(update={"source": pod, "destination": pod})

    decision = evaluate(cluster, flow, data.draw(settings()))

    assert decision.self_traffic
    assert decision.allowed


def _rule(cluster: Cluster, ref: RuleRef) -> PolicyRule:
    policy = next(
        p
        for p in cluster.policies
        if (p.namespace, p.name) == (ref.policy.namespace, ref.policy.name)
    )
    return policy.rules(ref.direction)[ref.index]


def _reachable(predicate: Callable[[Cluster, Flow, Settings], bool]) -> None:
    """Some generated scenario satisfies `predicate` (else NoSuchExample is raised).

    Deterministic, and without shrinking: only reaching the case matters.
    """
    find(
        scenarios(),
        lambda scenario: predicate(*scenario),
        settings=hypothesis_settings(
            max_examples=3000, deadline=None, derandomize=True, phases=[Phase.generate]
        ),
    )


def test_the_strategies_reach_flows_blocked_on_both_sides() -> None:
    def blocked_twice(cluster: Cluster, flow: Flow, settings_: Settings) -> bool:
        decision = evaluate(cluster, flow, settings_)
        return not decision.egress.allowed and not decision.ingress.allowed

    _reachable(blocked_twice)


@pytest.mark.fuzz  # about 15 s: the case is rare by nature
def test_the_strategies_reach_flows_admitted_by_a_named_port() -> None:
    def by_named_port(cluster: Cluster, flow: Flow, settings_: Settings) -> bool:
        decision = evaluate(cluster, flow, settings_)
        return decision.allowed and any(
            entry.named_port and port_matches(entry, flow.protocol, flow.port, flow.destination)
            for side in (decision.egress, decision.ingress)
            for ref in side.allowed_by
            for entry in _rule(cluster, ref).ports
        )

    _reachable(by_named_port)
