"""The Z3 engine against the reference evaluator on generated clusters.

A divergence is a soundness bug: a verdict the evaluator contradicts. Three properties:
single-flow invariants agree with the evaluator on that flow; every `holds` over existing
pods survives an exhaustive search of pods x sampled ports; every `holds` over pods that could
exist survives adding random new pods to the cluster.
"""

import os
from itertools import product

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Endpoint,
    EndpointPattern,
    ExternalEndpoint,
    Flow,
    Invariant,
    InvariantKind,
    InvariantResult,
    LabelSelector,
    Namespace,
    NamespaceScope,
    Pod,
    PodEndpoint,
    PodScope,
    PortPattern,
    PortRange,
    Protocol,
    Settings,
    Status,
)
from netverify.semantics import evaluate, placements
from netverify.semantics.admin import has_nodes_peers, node_is_unknown
from netverify.semantics.evaluator import is_self_traffic, possible_verdicts
from netverify.semantics.patterns import flow_matches
from tests.engine.helpers import exact_pattern, prove_one
from tests.strategies import (
    EXTERNAL_IPS,
    INTERESTING_PORTS,
    IP_BLOCK_EXCEPTS,
    LABEL_KEYS,
    LABEL_VALUES,
    NAMESPACE_NAMES,
    POD_SUBNET,
    PORT_NAMES,
    clusters,
    container_ports,
    flows,
    labels,
    selectors,
)
from tests.strategies import settings as settings_strategy

DIFFERENTIAL = settings(
    max_examples=int(os.environ.get("NETVERIFY_DIFFERENTIAL_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _one_flow_invariant(flow: Flow, kind: InvariantKind) -> Invariant:
    """An invariant about exactly this flow's two ends, protocol and port."""
    return Invariant(
        name="one-flow",
        kind=kind,
        source=exact_pattern(flow.source),
        destination=exact_pattern(flow.destination),
        ports=(
            PortPattern(
                protocol=flow.protocol, port_range=PortRange(start=flow.port, end=flow.port)
            ),
        ),
        pods=PodScope.EXISTING,
    )


@DIFFERENTIAL
@given(data=st.data())
def test_single_flow_verdict_matches_evaluator(data: st.DataObject) -> None:
    cluster = data.draw(clusters())
    flow = data.draw(flows(cluster))
    semantics = data.draw(settings_strategy())
    assume(not is_self_traffic(flow.source, flow.destination))
    verdicts = [evaluate(cluster, placed, semantics).allowed for placed in placements(flow)]
    kind = data.draw(st.sampled_from([InvariantKind.FORBID, InvariantKind.REQUIRE]))
    invariant = _one_flow_invariant(flow, kind)
    result = prove_one(cluster, invariant, semantics)
    # The invariant names the two ends, not their placement: it holds only on every one.
    holds = not any(verdicts) if kind is InvariantKind.FORBID else all(verdicts)
    assert result.status is (Status.HOLDS if holds else Status.VIOLATED), result
    if not holds:
        assert result.counterexample is not None
        assert result.counterexample.decision.flow in placements(flow)


def namespace_selectors() -> st.SearchStrategy[LabelSelector]:
    by_name = st.sampled_from((*NAMESPACE_NAMES, "new-ns")).map(
        lambda name: LabelSelector(match_labels={NAMESPACE_NAME_LABEL: name})
    )
    return st.one_of(selectors(), by_name)


@st.composite
def endpoint_patterns(draw: st.DrawFn) -> EndpointPattern:
    """Selectors on pods and namespaces, or now and then external addresses only (within
    one of the ipBlock CIDRs, or the pod subnet, or anywhere)."""
    if draw(st.integers(0, 5)) == 0:
        networks = st.sampled_from((POD_SUBNET, *IP_BLOCK_EXCEPTS))
        return EndpointPattern(external=True, ip=draw(st.none() | networks))
    return EndpointPattern(
        namespace_selector=draw(st.none() | namespace_selectors()),
        pod_selector=draw(st.none() | selectors()),
    )


@st.composite
def port_patterns(draw: st.DrawFn) -> tuple[PortPattern, ...]:
    choice = st.one_of(
        st.builds(
            lambda protocol, start, width: PortPattern(
                protocol=protocol, port_range=PortRange(start=start, end=start + width)
            ),
            st.sampled_from(Protocol),
            st.sampled_from(INTERESTING_PORTS[:-1]),
            st.sampled_from((0, 1, 100)),
        ),
        st.builds(
            lambda name, protocol: PortPattern(protocol=protocol, named_port=name),
            st.sampled_from(PORT_NAMES),
            st.none() | st.sampled_from(Protocol),
        ),
        st.builds(PortPattern, protocol=st.sampled_from(Protocol)),
    )
    return tuple(draw(st.lists(choice, max_size=2)))


@st.composite
def invariants(draw: st.DrawFn, pods: PodScope) -> Invariant:
    return Invariant(
        name="generated",
        kind=draw(st.sampled_from(InvariantKind)),
        source=draw(endpoint_patterns()),
        destination=draw(endpoint_patterns()),
        ports=draw(port_patterns()),
        pods=pods,
    )


def _sample_ports(cluster: Cluster, invariant: Invariant) -> list[int]:
    numbers = set(INTERESTING_PORTS)
    ranges = [p.port_range for p in invariant.ports if p.port_range] + [
        entry.port_range
        for policy in cluster.policies
        for rule in (*policy.ingress, *policy.egress)
        for entry in rule.ports
        if entry.port_range
    ]
    for port_range in ranges:
        numbers |= {port_range.start - 1, port_range.start, port_range.end, port_range.end + 1}
    numbers |= {port.port for pod in cluster.pods for port in pod.ports}
    return sorted(n for n in numbers if 1 <= n <= 65535)


def _endpoints(cluster: Cluster) -> list[Endpoint]:
    result: list[Endpoint] = [ExternalEndpoint(ip=ip) for ip in EXTERNAL_IPS]
    for pod in cluster.pods:
        namespace = cluster.namespace(pod.namespace)
        assert namespace is not None
        result.append(PodEndpoint(namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None))
    return result


def _all_flows(cluster: Cluster, invariant: Invariant) -> list[Flow]:
    endpoints = _endpoints(cluster)
    return [
        Flow(source=source, destination=destination, protocol=protocol, port=port)
        for source, destination in product(endpoints, endpoints)
        if isinstance(source, PodEndpoint) or isinstance(destination, PodEndpoint)
        for protocol in Protocol
        for port in _sample_ports(cluster, invariant)
    ]


def _violations(cluster: Cluster, invariant: Invariant, semantics: Settings) -> list[Flow]:
    """Flows among the samples, on every placement of their ends, that break a
    forbid/require, or allowed flows for reachable."""
    found = []
    for flow in _all_flows(cluster, invariant):
        if not flow_matches(invariant, cluster, flow):
            continue
        for placed in placements(flow):
            allowed = evaluate(cluster, placed, semantics).allowed
            wants_blocked = invariant.kind is InvariantKind.REQUIRE
            if allowed != wants_blocked:
                found.append(placed)
    return found


@DIFFERENTIAL
@given(data=st.data())
def test_existing_pod_verdicts_survive_exhaustive_search(data: st.DataObject) -> None:
    cluster = data.draw(clusters(max_pods=4, max_policies=3))
    semantics = data.draw(settings_strategy())
    invariant = data.draw(invariants(PodScope.EXISTING))
    result = prove_one(cluster, invariant, semantics)
    assert result.status in (Status.HOLDS, Status.VIOLATED), result.reason
    found = _violations(cluster, invariant, semantics)
    if invariant.kind is InvariantKind.REACHABLE:
        # Found means a witness among the samples: reachable must then hold.
        if found:
            assert result.status is Status.HOLDS
        if result.status is Status.HOLDS:
            assert result.witness is not None
    elif result.status is Status.HOLDS:
        assert found == [], f"holds, but the evaluator finds {found[0]}"
    else:
        assert result.counterexample is not None


@st.composite
def new_pods(draw: st.DrawFn, cluster: Cluster, any_namespace: bool) -> list[Pod]:
    """Pods that could be created: existing namespaces (or a new one), any labels and ports."""
    namespaces = [ns.name for ns in cluster.namespaces]
    if any_namespace:
        namespaces.append("new-ns")
    return [
        Pod(
            namespace=draw(st.sampled_from(namespaces)),
            name=f"new{index}",
            labels=draw(labels()),
            ports=draw(container_ports()),
        )
        for index in range(draw(st.integers(1, 3)))
    ]


@DIFFERENTIAL
@given(data=st.data())
def test_any_pod_holds_survives_new_pods(data: st.DataObject) -> None:
    cluster = data.draw(clusters(max_pods=3, max_policies=3))
    semantics = data.draw(settings_strategy())
    any_namespace = data.draw(st.booleans())
    invariant = data.draw(invariants(PodScope.ANY)).model_copy(
        update={
            "kind": data.draw(st.sampled_from([InvariantKind.FORBID, InvariantKind.REQUIRE])),
            "namespaces": NamespaceScope.ANY if any_namespace else NamespaceScope.EXISTING,
        }
    )
    result = prove_one(cluster, invariant, semantics)
    assert result.status in (Status.HOLDS, Status.VIOLATED), result.reason
    if result.status is Status.VIOLATED:
        assert result.counterexample is not None
        return
    extra = data.draw(new_pods(cluster, any_namespace))
    namespaces = list(cluster.namespaces)
    if any(pod.namespace == "new-ns" for pod in extra):
        namespaces.append(
            Namespace(
                name="new-ns",
                labels={
                    **data.draw(
                        st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES))
                    ),
                    NAMESPACE_NAME_LABEL: "new-ns",
                },
            )
        )
    grown = cluster.model_copy(
        update={
            "namespaces": tuple(sorted(namespaces, key=lambda ns: ns.name)),
            "pods": tuple(
                sorted((*cluster.pods, *extra), key=lambda p: (p.namespace, p.name or ""))
            ),
        }
    )
    existing_view = invariant.model_copy(
        update={"pods": PodScope.EXISTING, "namespaces": NamespaceScope.EXISTING}
    )
    found = _violations(grown, existing_view, semantics)
    assert found == [], f"holds for any pod, but a new pod breaks it: {found[0]}"


def _order_or_node_doubt(cluster: Cluster, flows_: list[Flow], semantics: Settings) -> bool:
    """Whether some flow's verdict depends on what netverify cannot know: an order of admin
    policies the API leaves open, or the node of an unplaced host-network destination."""
    return any(
        len(possible_verdicts(cluster, flow, semantics)) > 1
        or (has_nodes_peers(cluster) and node_is_unknown(cluster, flow.destination))
        for flow in flows_
    )


@DIFFERENTIAL
@given(data=st.data())
def test_admin_tiers_single_flow_verdict_matches_evaluator(data: st.DataObject) -> None:
    cluster = data.draw(clusters(max_pods=4, max_policies=2, max_admin_policies=3))
    flow = data.draw(flows(cluster))
    semantics = data.draw(settings_strategy())
    assume(not is_self_traffic(flow.source, flow.destination))
    placed = placements(flow)
    kind = data.draw(st.sampled_from([InvariantKind.FORBID, InvariantKind.REQUIRE]))
    invariant = _one_flow_invariant(flow, kind)
    result = prove_one(cluster, invariant, semantics)
    if result.status is Status.UNKNOWN:
        assert _order_or_node_doubt(cluster, list(placed), semantics), result.reason
        return
    possible = {v for one in placed for v in possible_verdicts(cluster, one, semantics)}
    if kind is InvariantKind.FORBID:
        assert result.status is (Status.VIOLATED if True in possible else Status.HOLDS), result
    else:
        assert result.status is (Status.VIOLATED if False in possible else Status.HOLDS), result
    if result.status is Status.VIOLATED:
        assert result.counterexample is not None
        assert result.counterexample.decision.flow in placed


def _admin_case(
    data: st.DataObject, pods: PodScope
) -> tuple[Cluster, Settings, Invariant, InvariantResult]:
    """A small cluster with admin policies, a forbid/require over `pods`, and its result
    (never an internal error)."""
    cluster = data.draw(clusters(max_pods=3, max_policies=2, max_admin_policies=3))
    semantics = data.draw(settings_strategy())
    invariant = data.draw(invariants(pods)).model_copy(
        update={"kind": data.draw(st.sampled_from([InvariantKind.FORBID, InvariantKind.REQUIRE]))}
    )
    result = prove_one(cluster, invariant, semantics)
    assert result.status is not Status.ERROR, result.reason
    return cluster, semantics, invariant, result


@DIFFERENTIAL
@given(data=st.data())
def test_admin_tiers_existing_pod_holds_survive_exhaustive_search(data: st.DataObject) -> None:
    cluster, semantics, invariant, result = _admin_case(data, PodScope.EXISTING)
    if result.status is Status.HOLDS:
        found = _admin_violations(cluster, invariant, semantics)
        assert found == [], f"holds, but the evaluator finds {found[0]}"


def _admin_violations(cluster: Cluster, invariant: Invariant, semantics: Settings) -> list[Flow]:
    """Sampled flows that break a forbid/require in some order the API allows."""
    wants_blocked = invariant.kind is InvariantKind.REQUIRE
    return [
        placed
        for flow in _all_flows(cluster, invariant)
        if flow_matches(invariant, cluster, flow)
        for placed in placements(flow)
        if (not wants_blocked) in possible_verdicts(cluster, placed, semantics)
    ]


@DIFFERENTIAL
@given(data=st.data())
def test_admin_tiers_any_pod_holds_survives_new_pods(data: st.DataObject) -> None:
    cluster, semantics, invariant, result = _admin_case(data, PodScope.ANY)
    if result.status is not Status.HOLDS:
        return
    extra = data.draw(new_pods(cluster, any_namespace=False))
    grown = cluster.model_copy(
        update={
            "pods": tuple(
                sorted((*cluster.pods, *extra), key=lambda p: (p.namespace, p.name or ""))
            )
        }
    )
    existing_view = invariant.model_copy(update={"pods": PodScope.EXISTING})
    found = _admin_violations(grown, existing_view, semantics)
    assert found == [], f"holds for any pod, but a new pod breaks it: {found[0]}"
