"""Node-local traffic: between a node (its hostNetwork pods) and a pod on that node.

"Traffic to and from the node where a Pod is running is always allowed, regardless of the IP
address of the Pod or the node."
https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from netverify.model import Flow, Protocol
from netverify.semantics import explain_flow, placements
from tests.semantics.helpers import (
    EVERYTHING,
    cluster,
    decide,
    pod,
    pod_endpoint,
    pods_peer,
    policy,
    rule,
    selector,
)

GRAFANA = pod("monitoring", "grafana", {"app": "grafana"}, ip="10.0.1.5")
EXPORTER = pod(
    "monitoring", "node-exporter", {"app": "exporter"}, ip="192.168.0.7", host_network=True
)
PROMETHEUS_ONLY = policy(
    "monitoring",
    "grafana",
    selector(app="grafana"),
    ingress=[rule(pods_peer(selector(app="prometheus")))],
)
DENY_EGRESS = policy("monitoring", "deny-egress", EVERYTHING, egress=())


def test_a_node_reaches_a_pod_on_it_whatever_its_ingress_policy_says() -> None:
    world = cluster([GRAFANA, EXPORTER], [PROMETHEUS_ONLY])

    same_node = decide(world, EXPORTER, GRAFANA, 3000, same_node=True)
    across = decide(world, EXPORTER, GRAFANA, 3000)

    assert same_node.node_local
    assert same_node.allowed
    assert not same_node.ingress.allowed  # the sides still say what the policies say
    assert not across.node_local
    assert not across.allowed


def test_a_pod_reaches_its_own_node_whatever_its_egress_policy_says() -> None:
    world = cluster([GRAFANA, EXPORTER], [DENY_EGRESS])

    same_node = decide(world, GRAFANA, EXPORTER, 9100, same_node=True)

    assert same_node.node_local
    assert same_node.allowed
    assert not same_node.egress.allowed
    assert not decide(world, GRAFANA, EXPORTER, 9100).allowed


def test_pods_bound_to_different_nodes_are_never_node_local() -> None:
    on_a = GRAFANA.model_copy(update={"node_name": "node-a"})
    on_b = EXPORTER.model_copy(update={"node_name": "node-b"})
    world = cluster([on_a, on_b], [PROMETHEUS_ONLY])

    claimed = decide(world, on_b, on_a, 3000, same_node=True)
    flow = claimed.flow

    assert not claimed.node_local
    assert not claimed.allowed
    assert placements(flow) == (flow.model_copy(update={"same_node": False}),)


def test_pods_bound_to_one_node_are_only_on_that_node() -> None:
    on_a = GRAFANA.model_copy(update={"node_name": "node-a"})
    exporter_on_a = EXPORTER.model_copy(update={"node_name": "node-a"})
    world = cluster([on_a, exporter_on_a], [PROMETHEUS_ONLY])
    flow = Flow(
        source=pod_endpoint(world, exporter_on_a),
        destination=pod_endpoint(world, on_a),
        protocol=Protocol.TCP,
        port=3000,
    )

    (only,) = placements(flow)
    explanation = explain_flow(world, flow)

    assert only.same_node
    assert explanation.same_node is None
    assert explanation.decision.node_local
    assert explanation.allowed


def test_two_ordinary_pods_on_one_node_meet_their_policies() -> None:
    web = pod("monitoring", "web", {"app": "web"}, ip="10.0.1.9")
    world = cluster([GRAFANA, web], [PROMETHEUS_ONLY])

    decision = decide(world, web, GRAFANA, 3000, same_node=True)

    assert not decision.node_local
    assert not decision.allowed


def test_an_unbound_pair_has_both_placements_and_explain_tells_them_apart() -> None:
    world = cluster([GRAFANA, EXPORTER], [PROMETHEUS_ONLY])
    flow = Flow(
        source=pod_endpoint(world, EXPORTER),
        destination=pod_endpoint(world, GRAFANA),
        protocol=Protocol.TCP,
        port=3000,
    )

    across, same = placements(flow)
    explanation = explain_flow(world, flow)

    assert (across.same_node, same.same_node) == (False, True)
    assert not explanation.decision.allowed
    assert explanation.same_node is not None and explanation.same_node.node_local
    assert explanation.allowed
