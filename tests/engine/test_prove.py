"""Targeted engine behaviour: scopes, witnesses, vacuity, limits, determinism."""

from ipaddress import ip_address, ip_network

from netverify.engine import SolverLimits, prove
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Direction,
    EndpointPattern,
    Invariant,
    InvariantKind,
    IPBlock,
    LabelSelector,
    LoadedCluster,
    LoadedSpec,
    Namespace,
    NamespaceScope,
    NetworkPolicy,
    Pod,
    PodEndpoint,
    PodScope,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortPattern,
    PortRange,
    Protocol,
    Settings,
    Spec,
    Status,
)
from tests.engine.helpers import prove_one


def _namespace(name: str, **labels: str) -> Namespace:
    return Namespace(name=name, labels={**labels, NAMESPACE_NAME_LABEL: name})


DEV, PROD = _namespace("dev", env="dev"), _namespace("prod", env="prod")
DEV_SELECTOR = LabelSelector(match_labels={"env": "dev"})
PROD_SELECTOR = LabelSelector(match_labels={"env": "prod"})


def _admit_web_from_anywhere() -> NetworkPolicy:
    """prod's db admits ingress from `namespaceSelector: {}` + `podSelector: {tier: web}`."""
    return NetworkPolicy(
        namespace="prod",
        name="db-from-web",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.INGRESS}),
        ingress=(
            PolicyRule(
                peers=(
                    PolicyPeer(
                        namespace_selector=LabelSelector(),
                        pod_selector=LabelSelector(match_labels={"tier": "web"}),
                    ),
                )
            ),
        ),
    )


def _dev_prod_cluster() -> Cluster:
    return Cluster(
        namespaces=(DEV, PROD),
        pods=(
            Pod(namespace="dev", name="tool", labels={"tier": "tools"}),
            Pod(namespace="prod", name="db", labels={"tier": "db"}),
            Pod(namespace="prod", name="web", labels={"tier": "web"}),
        ),
        policies=(_admit_web_from_anywhere(),),
    )


def _dev_to_prod(pods: PodScope, **fields: object) -> Invariant:
    return Invariant.model_validate(
        {
            "name": "dev-never-reaches-prod",
            "kind": InvariantKind.FORBID,
            "source": EndpointPattern(namespace_selector=DEV_SELECTOR),
            "destination": EndpointPattern(namespace_selector=PROD_SELECTOR),
            "pods": pods,
            **fields,
        }
    )


def test_future_pod_breaks_isolation_that_existing_pods_keep() -> None:
    cluster = _dev_prod_cluster()
    existing = prove_one(cluster, _dev_to_prod(PodScope.EXISTING))
    assert existing.status is Status.HOLDS

    future = prove_one(cluster, _dev_to_prod(PodScope.ANY))
    assert future.status is Status.VIOLATED
    assert future.counterexample is not None
    flow = future.counterexample.decision.flow
    assert isinstance(flow.source, PodEndpoint) and isinstance(flow.destination, PodEndpoint)
    assert flow.source.pod.name is None, "the witness is a pod that does not exist yet"
    assert flow.source.pod.namespace == "dev"
    assert flow.source.pod.labels == {"tier": "web"}
    assert future.counterexample.source_is_new_pod
    assert flow.destination.pod.name in {"db", "web"}, "an existing pod is named when one works"
    (rule,) = future.counterexample.decision.ingress.allowed_by
    assert rule.policy.name == "db-from-web" and rule.index == 0


def test_future_namespace_is_only_considered_with_namespaces_any() -> None:
    cluster = _dev_prod_cluster().model_copy(update={"pods": _dev_prod_cluster().pods[1:]})
    invariant = Invariant(
        name="only-prod-reaches-db",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(
            namespace_selector=LabelSelector(match_labels={"env": "staging"}),
        ),
        destination=EndpointPattern(namespace_name="prod", pod_name="db"),
        pods=PodScope.ANY,
    )
    assert prove_one(cluster, invariant).status is Status.HOLDS
    anywhere = prove_one(cluster, invariant.model_copy(update={"namespaces": NamespaceScope.ANY}))
    assert anywhere.status is Status.VIOLATED
    assert anywhere.counterexample is not None
    source = anywhere.counterexample.decision.flow.source
    assert isinstance(source, PodEndpoint)
    assert source.namespace.labels["env"] == "staging"
    assert cluster.namespace(source.namespace.name) is None, "a namespace that could be created"


def test_require_counterexample_names_isolating_policy() -> None:
    invariant = Invariant(
        name="dev-tool-reaches-db",
        kind=InvariantKind.REQUIRE,
        source=EndpointPattern(namespace_name="dev", pod_name="tool"),
        destination=EndpointPattern(namespace_name="prod", pod_name="db"),
        ports=(PortPattern(protocol=Protocol.TCP, port_range=PortRange(start=5432, end=5432)),),
        pods=PodScope.EXISTING,
    )
    result = prove_one(_dev_prod_cluster(), invariant)
    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    decision = result.counterexample.decision
    assert not decision.allowed
    assert decision.flow.port == 5432
    assert [ref.name for ref in decision.ingress.isolated_by] == ["db-from-web"]
    assert decision.ingress.allowed_by == ()


def test_reachable_holds_with_witness_and_violated_with_blocked_example() -> None:
    cluster = _dev_prod_cluster()
    web_to_db = Invariant(
        name="web-reaches-db",
        kind=InvariantKind.REACHABLE,
        source=EndpointPattern(namespace_name="prod", pod_name="web"),
        destination=EndpointPattern(namespace_name="prod", pod_name="db"),
        pods=PodScope.EXISTING,
    )
    holds = prove_one(cluster, web_to_db)
    assert holds.status is Status.HOLDS
    assert holds.witness is not None and holds.witness.decision.allowed

    tool_to_db = web_to_db.model_copy(
        update={"source": EndpointPattern(namespace_name="dev", pod_name="tool")}
    )
    violated = prove_one(cluster, tool_to_db)
    assert violated.status is Status.VIOLATED
    assert violated.counterexample is not None
    assert not violated.counterexample.decision.allowed


def test_vacuous_invariant_says_so() -> None:
    invariant = _dev_to_prod(
        PodScope.EXISTING,
        source=EndpointPattern(pod_selector=LabelSelector(match_labels={"tier": "nope"})),
    )
    result = prove_one(_dev_prod_cluster(), invariant)
    assert result.status is Status.HOLDS
    assert result.reason is not None and "vacuous" in result.reason


def test_pod_traffic_to_itself_is_not_a_matching_flow() -> None:
    isolated = NetworkPolicy(
        namespace="prod",
        name="deny-all",
        pod_selector=LabelSelector(),
        policy_types=frozenset(Direction),
    )
    cluster = Cluster(
        namespaces=(PROD,), pods=(Pod(namespace="prod", name="db"),), policies=(isolated,)
    )
    require = Invariant(
        name="db-reaches-itself",
        kind=InvariantKind.REQUIRE,
        source=EndpointPattern(namespace_name="prod", pod_name="db"),
        destination=EndpointPattern(namespace_name="prod", pod_name="db"),
        pods=PodScope.EXISTING,
    )
    result = prove_one(cluster, require)
    assert result.status is Status.HOLDS
    assert result.reason is not None and "vacuous" in result.reason


def test_two_pods_of_one_class_are_two_pods() -> None:
    """Identical replicas share a class; a flow between two of them is a real flow."""
    isolated = NetworkPolicy(
        namespace="prod",
        name="deny-ingress",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.INGRESS}),
    )
    replicas = tuple(Pod(namespace="prod", name=f"web-{i}", labels={"app": "web"}) for i in (1, 2))
    cluster = Cluster(namespaces=(PROD,), pods=replicas, policies=(isolated,))
    invariant = Invariant(
        name="replicas-talk",
        kind=InvariantKind.REQUIRE,
        source=EndpointPattern(namespace_name="prod"),
        destination=EndpointPattern(namespace_name="prod"),
        pods=PodScope.EXISTING,
    )
    result = prove_one(cluster, invariant)
    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    flow = result.counterexample.decision.flow
    assert isinstance(flow.source, PodEndpoint) and isinstance(flow.destination, PodEndpoint)
    assert {flow.source.pod.name, flow.destination.pod.name} == {"web-1", "web-2"}


def test_named_port_of_future_pod_is_symbolic() -> None:
    """`ports: [metrics]` admits whatever number a future pod gives its `metrics` port."""
    policy = NetworkPolicy(
        namespace="prod",
        name="metrics-only",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.INGRESS}),
        ingress=(PolicyRule(ports=(PolicyPort(named_port="metrics"),)),),
    )
    cluster = Cluster(
        namespaces=(DEV, PROD),
        pods=(
            Pod(namespace="dev", name="scraper"),
            Pod(
                namespace="prod",
                name="db",
                ports=(ContainerPort(name="metrics", port=9187),),
            ),
        ),
        policies=(policy,),
    )
    forbid_high = _dev_to_prod(
        PodScope.ANY,
        ports=(PortPattern(protocol=Protocol.TCP, port_range=PortRange(start=10000, end=65535)),),
    )
    result = prove_one(cluster, forbid_high)
    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    destination = result.counterexample.decision.flow.destination
    assert isinstance(destination, PodEndpoint) and destination.pod.name is None
    assert [(p.name, p.port) for p in destination.pod.ports] == [
        ("metrics", result.counterexample.decision.flow.port)
    ]
    existing_only = prove_one(cluster, forbid_high.model_copy(update={"pods": PodScope.EXISTING}))
    assert existing_only.status is Status.HOLDS


def test_ip_block_and_pod_cidrs() -> None:
    """With podCIDRs, a pod without a known IP gets one there and can match an ipBlock."""
    policy = NetworkPolicy(
        namespace="prod",
        name="from-10-1",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.INGRESS}),
        ingress=(
            PolicyRule(peers=(PolicyPeer(ip_block=IPBlock(cidr=ip_network("10.1.0.0/16"))),)),
        ),
    )
    cluster = Cluster(
        namespaces=(DEV, PROD),
        pods=(Pod(namespace="dev", name="tool"), Pod(namespace="prod", name="db")),
        policies=(policy,),
    )
    invariant = _dev_to_prod(PodScope.EXISTING)
    assert prove_one(cluster, invariant).status is Status.HOLDS
    with_cidrs = Settings(pod_cidrs=(ip_network("10.0.0.0/8"),))
    result = prove_one(cluster, invariant, with_cidrs)
    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    source = result.counterexample.decision.flow.source
    assert isinstance(source, PodEndpoint)
    assert source.ip is not None and source.ip in ip_network("10.1.0.0/16")
    cilium = Settings(pod_cidrs=with_cidrs.pod_cidrs, ip_block_matches_pods=False)
    assert prove_one(cluster, invariant, cilium).status is Status.HOLDS


def test_external_address_is_never_a_pod_address() -> None:
    policy = NetworkPolicy(
        namespace="prod",
        name="deny-egress",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.EGRESS}),
    )
    cluster = Cluster(
        namespaces=(PROD,),
        pods=(
            Pod(namespace="prod", name="db", ips=(ip_address("10.0.0.7"),)),
            Pod(namespace="prod", name="web"),
        ),
        policies=(policy,),
    )
    invariant = Invariant(
        name="nothing-from-db-address",
        kind=InvariantKind.REACHABLE,
        source=EndpointPattern(ip=ip_network("10.0.0.7/32")),
        destination=EndpointPattern(namespace_name="prod", pod_name="web"),
        pods=PodScope.EXISTING,
    )
    result = prove_one(cluster, invariant)
    assert result.status is Status.VIOLATED, "10.0.0.7 is db's address, and db is egress-isolated"


def test_solver_limit_gives_unknown_never_holds() -> None:
    cluster = _dev_prod_cluster()
    spec = Spec(file="<test>", manifests=(), invariants=(_dev_to_prod(PodScope.EXISTING),))
    report = prove(LoadedCluster(cluster=cluster), LoadedSpec(spec=spec), SolverLimits(rlimit=1))
    (result,) = report.results
    assert result.status is Status.UNKNOWN
    assert result.reason is not None and "resource limit" in result.reason


def test_same_input_same_counterexample() -> None:
    invariant = _dev_to_prod(PodScope.ANY)
    first = prove_one(_dev_prod_cluster(), invariant)
    for _ in range(3):
        assert prove_one(_dev_prod_cluster(), invariant) == first


def test_replicas_of_one_workload_are_governed_between_themselves() -> None:
    """A Deployment stands for its replicas: replica -> replica is not self traffic."""
    isolated = NetworkPolicy(
        namespace="prod",
        name="deny-ingress",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.INGRESS}),
    )
    web = Pod(namespace="prod", name="web", kind="Deployment", labels={"app": "web"})
    cluster = Cluster(namespaces=(PROD,), pods=(web,), policies=(isolated,))
    invariant = Invariant(
        name="replicas-talk",
        kind=InvariantKind.REQUIRE,
        source=EndpointPattern(namespace_name="prod", pod_name="web"),
        destination=EndpointPattern(namespace_name="prod", pod_name="web"),
        pods=PodScope.EXISTING,
    )
    result = prove_one(cluster, invariant)
    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    assert not result.counterexample.decision.self_traffic


def test_strict_turns_holds_by_assumption_into_unknown() -> None:
    """Pods without addresses are assumed to match no ipBlock; --strict will not rely on it."""
    policy = NetworkPolicy(
        namespace="prod",
        name="from-vpn",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.INGRESS}),
        ingress=(PolicyRule(peers=(PolicyPeer(ip_block=IPBlock(cidr=ip_network("10.0.0.0/8"))),)),),
    )
    cluster = Cluster(
        namespaces=(DEV, PROD),
        pods=(Pod(namespace="dev", name="tool"), Pod(namespace="prod", name="db")),
        policies=(policy,),
    )
    spec = Spec(file="<test>", manifests=(), invariants=(_dev_to_prod(PodScope.EXISTING),))
    loaded, loaded_spec = LoadedCluster(cluster=cluster), LoadedSpec(spec=spec)
    (lenient,) = prove(loaded, loaded_spec, SolverLimits()).results
    assert lenient.status is Status.HOLDS
    (strict,) = prove(loaded, loaded_spec, SolverLimits(), strict=True).results
    assert strict.status is Status.UNKNOWN
    assert strict.reason is not None and "podCIDRs" in strict.reason


def test_progress_is_told_before_each_invariant() -> None:
    invariants = (
        _dev_to_prod(PodScope.EXISTING),
        _dev_to_prod(PodScope.ANY).model_copy(update={"name": "second"}),
    )
    spec = Spec(file="<test>", manifests=(), invariants=invariants)
    told: list[tuple[int, int, str]] = []
    prove(
        LoadedCluster(cluster=_dev_prod_cluster()),
        LoadedSpec(spec=spec),
        SolverLimits(),
        progress=lambda done, total, what: told.append((done, total, what)),
    )
    assert told == [(0, 2, "encoding"), (0, 2, "dev-never-reaches-prod"), (1, 2, "second")]


def test_a_counterexample_uses_a_port_the_destination_declares() -> None:
    """A free port is shown as one the destination listens on (here UDP/53), not TCP/1."""
    cluster = Cluster(
        namespaces=(DEV, PROD),
        pods=(
            Pod(namespace="dev", name="tool", labels={"tier": "tools"}),
            Pod(
                namespace="prod",
                name="dns",
                labels={"tier": "dns"},
                ports=(ContainerPort(name="dns", port=53, protocol=Protocol.UDP),),
            ),
        ),
    )
    invariant = Invariant(
        name="dev-never-reaches-prod",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(namespace_name="dev"),
        destination=EndpointPattern(namespace_name="prod"),
        pods=PodScope.EXISTING,
    )
    result = prove_one(cluster, invariant)
    assert result.counterexample is not None
    flow = result.counterexample.decision.flow
    assert (flow.protocol, flow.port) == (Protocol.UDP, 53)


def test_the_encoding_and_solver_are_given_to_keep_once_proved() -> None:
    """A command line about to end its process keeps them rather than freeing them."""
    spec = Spec(file="<test>", manifests=(), invariants=(_dev_to_prod(PodScope.ANY),))
    kept: list[object] = []
    prove(
        LoadedCluster(cluster=_dev_prod_cluster()),
        LoadedSpec(spec=spec),
        SolverLimits(),
        keep=kept.append,
    )
    assert [type(value).__name__ for value in kept] == ["ClusterEncoding", "Solver"]
