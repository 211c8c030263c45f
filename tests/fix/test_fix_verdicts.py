"""Verdicts and results on encodings kept across candidates are those a fresh `prove` gives.

One `Verdicts` is asked about several versions of a generated cluster's policies (a policy
dropped, one with another pod selector, the cluster as it is), in an order hypothesis picks,
so that kept encodings are queried after other candidates' frames; every answer it gives
must be the verdict of `prove` on that version alone. A "divergence is a soundness bug".
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix.verdicts import Verdicts
from netverify.engine.prove import prove
from netverify.engine.slicing import Slicer
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Direction,
    EndpointPattern,
    Invariant,
    InvariantKind,
    LabelSelector,
    LoadedCluster,
    LoadedSpec,
    Namespace,
    NetworkPolicy,
    Pod,
    PodScope,
    PolicyPeer,
    PolicyRule,
    Spec,
    Status,
)
from tests.strategies import clusters, selectors

LIMITS = SolverLimits(timeout_seconds=30, rlimit=10**8)


def _patterns(cluster: Cluster) -> st.SearchStrategy[EndpointPattern]:
    namespaces = [namespace.name for namespace in cluster.namespaces]
    return st.one_of(
        st.just(EndpointPattern()),
        st.sampled_from(namespaces).map(lambda name: EndpointPattern(namespace_name=name)),
        st.sampled_from(cluster.pods).map(
            lambda pod: EndpointPattern(namespace_name=pod.namespace, pod_name=pod.name)
        ),
        selectors().map(lambda selector: EndpointPattern(pod_selector=selector)),
    )


@st.composite
def _invariants(draw: st.DrawFn, cluster: Cluster) -> tuple[Invariant, ...]:
    return tuple(
        Invariant(
            name=f"generated-{index}",
            kind=draw(st.sampled_from(InvariantKind)),
            source=draw(_patterns(cluster)),
            destination=draw(_patterns(cluster)),
            pods=draw(st.sampled_from(PodScope)),
        )
        for index in range(draw(st.integers(1, 3)))
    )


def _versions(cluster: Cluster, selector: LabelSelector) -> list[Cluster]:
    """The cluster, and with each policy dropped or selecting by `selector` instead."""
    versions = [cluster]
    for index, policy in enumerate(cluster.policies):
        others = cluster.policies[:index] + cluster.policies[index + 1 :]
        reselected: NetworkPolicy = policy.model_copy(update={"pod_selector": selector})
        versions.append(cluster.model_copy(update={"policies": others}))
        versions.append(
            cluster.model_copy(update={"policies": (*others[:index], reselected, *others[index:])})
        )
    return versions


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kept_encodings_give_the_verdicts_of_a_fresh_prove(data: st.DataObject) -> None:
    cluster = data.draw(clusters(max_pods=4, max_policies=3))
    invariants = data.draw(_invariants(cluster))
    settings_ = Spec(file="<generated>", manifests=(), invariants=invariants).settings
    verdicts = Verdicts(
        cluster,
        settings_,
        invariants,
        [Slicer(cluster, settings_, invariant) for invariant in invariants],
        LIMITS,
    )
    # Slices are what `prove` encodes on large clusters; these are small, so both ways.
    verdicts.sliced = data.draw(st.booleans())
    versions = data.draw(st.permutations(_versions(cluster, data.draw(selectors()))))
    for version in versions:
        spec = LoadedSpec(spec=Spec(file="<generated>", manifests=(), invariants=invariants))
        fresh = prove(LoadedCluster(cluster=version), spec, LIMITS).results
        for invariant, result in zip(invariants, fresh, strict=True):
            verdict = verdicts.holds(version, invariant)
            if verdict is not None:
                assert verdict == (result.status is Status.HOLDS), (invariant, version)
            # A search group's own kept encodings: the same status, a flow the evaluator
            # confirms (else the result is an error).
            kept = verdicts.result(version, invariant, ("group",))
            if kept is not None:
                assert kept.status is result.status, (invariant, version, kept.reason)


def _client_and_server() -> tuple[Invariant, list[tuple[Cluster, bool]]]:
    """A forbid into namespace b, and versions of a cluster with whether it holds: one
    policy admits the client from a, then from b (where it is not), then pods `app: new`."""
    namespaces = tuple(
        Namespace(name=name, labels={NAMESPACE_NAME_LABEL: name}) for name in ("a", "b")
    )
    pods = (
        Pod(namespace="a", name="client", labels={"app": "client"}),
        Pod(namespace="b", name="server", labels={"app": "server"}),
    )

    def admitting(app: str, namespace: str | None = None) -> NetworkPolicy:
        return NetworkPolicy(
            namespace="b",
            name="server",
            pod_selector=LabelSelector(match_labels={"app": "server"}),
            policy_types=frozenset({Direction.INGRESS}),
            ingress=(
                PolicyRule(
                    peers=(
                        PolicyPeer(
                            namespace_selector=LabelSelector(
                                match_labels={NAMESPACE_NAME_LABEL: namespace} if namespace else {}
                            ),
                            pod_selector=LabelSelector(match_labels={"app": app}),
                        ),
                    ),
                ),
            ),
        )

    cluster = Cluster(namespaces=namespaces, pods=pods, policies=(admitting("client"),))
    invariant = Invariant(
        name="nothing-into-b",
        kind=InvariantKind.FORBID,
        destination=EndpointPattern(namespace_name="b"),
        pods=PodScope.EXISTING,
    )
    return invariant, [
        (cluster, False),
        (cluster.model_copy(update={"policies": (admitting("client", namespace="b"),)}), True),
        (cluster.model_copy(update={"policies": (admitting("new"),)}), True),
    ]


def _verdicts(cluster: Cluster, invariant: Invariant) -> Verdicts:
    settings_ = Spec(file="<generated>", manifests=(), invariants=(invariant,)).settings
    return Verdicts(
        cluster, settings_, (invariant,), [Slicer(cluster, settings_, invariant)], LIMITS
    )


def test_an_encoding_is_kept_per_universe() -> None:
    """Versions whose policies mention nothing new share the first one's encoding; one that
    mentions a new label value gets its own. Another invariant over the same pods and
    universe shares them."""
    invariant, versions = _client_and_server()
    also = invariant.model_copy(update={"name": "also", "pods": PodScope.ANY})
    cluster = versions[0][0]
    settings_ = Spec(file="<generated>", manifests=(), invariants=(invariant, also)).settings
    verdicts = Verdicts(
        cluster,
        settings_,
        (invariant, also),
        [Slicer(cluster, settings_, one) for one in (invariant, also)],
        LIMITS,
    )
    verdicts.sliced = True
    assert [verdicts.holds(version, invariant) for version, _ in versions] == [
        holds for _, holds in versions
    ]
    assert len(verdicts.kept) == 2
    assert verdicts.holds(cluster, also) is False
    assert len(verdicts.kept) == 2


def test_a_reachable_holds_by_the_solvers_flow_replayed() -> None:
    """A `reachable` with an allowed flow is settled by that flow, replayed through the
    reference evaluator, not proved afresh for a flow to show."""
    forbid, versions = _client_and_server()
    reachable = forbid.model_copy(update={"name": "into-b", "kind": InvariantKind.REACHABLE})
    verdicts = _verdicts(versions[0][0], reachable)
    assert [verdicts.holds(version, reachable) for version, _ in versions] == [
        True,
        False,
        False,
    ]
