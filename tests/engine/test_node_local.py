"""The engine on node-local traffic and on addresses of pods the manifests do not place.

Each test pins a verdict the reference evaluator's node rule and the address rule imply; the
differential tests cover the same rules on generated clusters.
"""

from ipaddress import ip_network

from netverify.engine import SolverLimits, prove
from netverify.model import (
    EndpointPattern,
    Invariant,
    InvariantKind,
    LoadedCluster,
    LoadedSpec,
    PodScope,
    Settings,
    Spec,
    Status,
)
from tests.engine.helpers import prove_one
from tests.semantics.helpers import cluster, ip_block, pod, pods_peer, policy, rule, selector

GRAFANA = pod("monitoring", "grafana", {"app": "grafana"}, ip="10.0.1.5")
ALERTMANAGER = pod("monitoring", "alertmanager", {"app": "alertmanager"}, ip="10.0.1.6")
EXPORTER = pod(
    "monitoring", "node-exporter", {"app": "exporter"}, ip="192.168.0.7", host_network=True
)
POLICIES = [
    policy(
        "monitoring",
        "grafana",
        selector(app="grafana"),
        ingress=[rule(pods_peer(selector(app="prometheus")))],
    ),
    policy(
        "monitoring",
        "alertmanager",
        selector(app="alertmanager"),
        ingress=[rule(pods_peer(selector(app="alertmanager")))],
    ),
]


def _between(kind: InvariantKind, source: str, destination: str) -> Invariant:
    return Invariant(
        name=f"{source}-{destination}",
        kind=kind,
        source=EndpointPattern(namespace_name="monitoring", pod_name=source),
        destination=EndpointPattern(namespace_name="monitoring", pod_name=destination),
        pods=PodScope.EXISTING,
    )


def test_forbid_is_violated_by_a_node_reaching_a_pod_on_it() -> None:
    """The kube-prometheus case: node-exporter (hostNetwork) reaches grafana on its node
    although grafana admits only prometheus."""
    world = cluster([GRAFANA, EXPORTER], POLICIES)

    result = prove_one(world, _between(InvariantKind.FORBID, "node-exporter", "grafana"))

    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    decision = result.counterexample.decision
    assert decision.flow.same_node
    assert decision.node_local
    assert not decision.ingress.allowed


def test_forbid_holds_when_the_two_are_bound_to_different_nodes() -> None:
    world = cluster(
        [
            GRAFANA.model_copy(update={"node_name": "node-a"}),
            EXPORTER.model_copy(update={"node_name": "node-b"}),
        ],
        POLICIES,
    )

    result = prove_one(world, _between(InvariantKind.FORBID, "node-exporter", "grafana"))

    assert result.status is Status.HOLDS


def test_require_holds_only_when_both_are_bound_to_the_same_node() -> None:
    require = _between(InvariantKind.REQUIRE, "node-exporter", "grafana")
    unbound = cluster([GRAFANA, EXPORTER], POLICIES)
    bound = cluster(
        [
            GRAFANA.model_copy(update={"node_name": "node-a"}),
            EXPORTER.model_copy(update={"node_name": "node-a"}),
        ],
        POLICIES,
    )

    assert prove_one(unbound, require).status is Status.VIOLATED
    assert prove_one(bound, require).status is Status.HOLDS


def test_the_witness_picks_pods_of_its_classes_that_can_share_a_node() -> None:
    """Two exporters alike in everything policies see (one class), on node-a and node-b; only
    the one on grafana's node can be the witness."""
    exporters = [
        EXPORTER.model_copy(update={"name": "exporter-a", "node_name": "node-a"}),
        EXPORTER.model_copy(update={"name": "exporter-b", "node_name": "node-b"}),
    ]
    world = cluster([GRAFANA.model_copy(update={"node_name": "node-b"}), *exporters], POLICIES)
    invariant = Invariant(
        name="exporters-never-reach-grafana",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(pod_selector=selector(app="exporter")),
        destination=EndpointPattern(namespace_name="monitoring", pod_name="grafana"),
        pods=PodScope.EXISTING,
    )

    result = prove_one(world, invariant)

    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    assert result.counterexample.decision.flow.source.pod.name == "exporter-b"  # type: ignore[union-attr]


def test_strict_questions_only_verdicts_a_host_network_pod_can_take_part_in() -> None:
    world = cluster(
        [
            GRAFANA.model_copy(update={"node_name": "node-a"}),
            ALERTMANAGER,
            EXPORTER.model_copy(update={"node_name": "node-b"}),
        ],
        POLICIES,
    )
    gossip = _between(InvariantKind.REQUIRE, "alertmanager", "alertmanager")
    exporter_out = _between(InvariantKind.FORBID, "node-exporter", "grafana")
    spec = Spec(file="<test>", manifests=(), settings=Settings(), invariants=(gossip, exporter_out))

    report = prove(LoadedCluster(cluster=world), LoadedSpec(spec=spec), SolverLimits(), strict=True)

    statuses = {result.name: result.status for result in report.results}
    assert statuses == {gossip.name: Status.HOLDS, exporter_out.name: Status.UNKNOWN}


def test_a_pod_without_a_known_address_never_takes_another_pods_address() -> None:
    """podCIDRs give such pods an address, but never one a loaded pod already has."""
    other = pod("default", "other", {"app": "other"}, ip="172.17.1.10")
    client = pod("default", "client", {"app": "client"})
    db = pod("default", "db", {"app": "db"}, ip="172.17.1.20")
    admits_other = policy(
        "default", "db", selector(app="db"), ingress=[rule(ip_block("172.17.1.10/32"))]
    )
    world = cluster([other, client, db], [admits_other])
    settings = Settings(pod_cidrs=(ip_network("172.17.0.0/16"),))

    def forbid_to_db(source: EndpointPattern, pods: PodScope) -> Invariant:
        return Invariant(
            name="to-db",
            kind=InvariantKind.FORBID,
            source=source,
            destination=EndpointPattern(namespace_name="default", pod_name="db"),
            pods=pods,
        )

    existing_client = forbid_to_db(
        EndpointPattern(namespace_name="default", pod_name="client"), PodScope.EXISTING
    )
    new_clients = forbid_to_db(EndpointPattern(pod_selector=selector(app="client")), PodScope.ANY)
    existing_other = forbid_to_db(
        EndpointPattern(namespace_name="default", pod_name="other"), PodScope.EXISTING
    )

    assert prove_one(world, existing_client, settings).status is Status.HOLDS
    assert prove_one(world, new_clients, settings).status is Status.HOLDS
    assert prove_one(world, existing_other, settings).status is Status.VIOLATED


def test_two_pods_without_known_addresses_never_share_one() -> None:
    """Two replicas of one workload, neither with a known address: a flow between them that
    needs both to be 172.17.5.5 (egress to it, ingress from it) cannot happen."""
    replicas = pod("default", "web", {"app": "web"}).model_copy(update={"kind": "Deployment"})
    only_that_address = policy(
        "default",
        "web",
        selector(app="web"),
        ingress=[rule(ip_block("172.17.5.5/32"))],
        egress=[rule(ip_block("172.17.5.5/32"))],
    )
    world = cluster([replicas], [only_that_address])
    invariant = Invariant(
        name="replicas-apart",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(namespace_name="default", pod_name="web"),
        destination=EndpointPattern(namespace_name="default", pod_name="web"),
        pods=PodScope.EXISTING,
    )

    def verdict(pod_cidr: str) -> Status:
        settings = Settings(pod_cidrs=(ip_network(pod_cidr),))
        return prove_one(world, invariant, settings).status

    assert verdict("172.17.5.4/31") is Status.HOLDS
    assert verdict("172.17.5.5/32") is Status.HOLDS  # vacuous: only one address for two pods
