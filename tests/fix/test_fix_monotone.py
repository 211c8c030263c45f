"""`keeps_holding`: which edits keep an invariant that held without a proof. A `forbid`
is kept by rules narrowed or removed, a `require`/`reachable` by rules added; anything
that may isolate other pods, or admit more (or fewer) flows, is left to the proof. Checked
against the reference evaluator on every pair of a generated cluster's pods."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.engine.fix.monotone import keeps_holding
from netverify.model import (
    Cluster,
    Direction,
    InvariantKind,
    LabelRequirement,
    LabelSelector,
    NetworkPolicy,
    Operator,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
    Settings,
)
from netverify.model.fix import PolicyEdit
from netverify.model.flow import Flow, pod_at_first_address
from netverify.semantics import evaluate
from tests.strategies import clusters

HTTP = PolicyPort(protocol=Protocol.TCP, port_range=PortRange(start=80, end=80))
DNS = PolicyPort(protocol=Protocol.UDP, port_range=PortRange(start=53, end=53))
NOT_DEV = LabelRequirement(key="env", operator=Operator.NOT_IN, values=("dev",))
FROM_ALL = PolicyPeer(namespace_selector=LabelSelector())
FROM_NOT_DEV = PolicyPeer(namespace_selector=LabelSelector(match_expressions=(NOT_DEV,)))
FROM_WEB = PolicyPeer(pod_selector=LabelSelector(match_labels={"app": "web"}))

POLICY = NetworkPolicy(
    namespace="b",
    name="p",
    pod_selector=LabelSelector(match_labels={"app": "db"}),
    policy_types=frozenset({Direction.INGRESS}),
    ingress=(
        PolicyRule(peers=(FROM_ALL,), ports=(HTTP, DNS)),
        PolicyRule(peers=(FROM_WEB,)),
    ),
)


def _edit(after: NetworkPolicy, before: NetworkPolicy | None = POLICY) -> PolicyEdit:
    return PolicyEdit(before=before, after=after, direction=Direction.INGRESS, rule_index=0)


def _with(*rules: PolicyRule) -> NetworkPolicy:
    return POLICY.model_copy(update={"ingress": rules})


FORBID, REQUIRE = InvariantKind.FORBID, InvariantKind.REQUIRE


def test_narrowed_or_removed_rules_keep_a_forbid_not_a_require() -> None:
    narrowed_peer = _with(PolicyRule(peers=(FROM_NOT_DEV,), ports=(HTTP, DNS)), POLICY.ingress[1])
    narrowed_ports = _with(PolicyRule(peers=(FROM_ALL,), ports=(HTTP,)), POLICY.ingress[1])
    removed = _with(POLICY.ingress[1])
    for after in (narrowed_peer, narrowed_ports, removed):
        assert keeps_holding(FORBID, [_edit(after)])
        assert not keeps_holding(REQUIRE, [_edit(after)])


def test_added_rules_keep_a_require_not_a_forbid() -> None:
    added = _with(*POLICY.ingress, PolicyRule(peers=(FROM_NOT_DEV,)))
    assert keeps_holding(REQUIRE, [_edit(added)])
    assert keeps_holding(InvariantKind.REACHABLE, [_edit(added)])
    assert not keeps_holding(FORBID, [_edit(added)])


def test_what_may_admit_more_or_isolate_other_pods_is_left_to_the_proof() -> None:
    every_port = _with(PolicyRule(peers=(FROM_ALL,)), POLICY.ingress[1])
    every_peer = _with(PolicyRule(ports=(HTTP, DNS)), POLICY.ingress[1])
    other_pods = POLICY.model_copy(update={"pod_selector": LabelSelector()})
    any_namespace = _with(POLICY.ingress[0], PolicyRule(peers=(FROM_ALL,)))
    for after in (every_port, every_peer, other_pods, any_namespace):
        assert not keeps_holding(FORBID, [_edit(after)])
    new = _edit(_with(POLICY.ingress[1]), before=None)
    assert not keeps_holding(FORBID, [new], isolating={("b", Direction.INGRESS)})
    assert not keeps_holding(REQUIRE, [new])
    assert not keeps_holding(REQUIRE, [_edit(other_pods)])
    assert not keeps_holding(FORBID, [])


def test_a_new_policy_where_no_pod_is_isolated_keeps_a_forbid() -> None:
    new = _edit(_with(POLICY.ingress[1]), before=None)
    assert keeps_holding(FORBID, [new])
    elsewhere = {("b", Direction.EGRESS), ("a", Direction.INGRESS)}
    assert keeps_holding(FORBID, [new], isolating=elsewhere)
    assert keeps_holding(FORBID, [new, _edit(_with(POLICY.ingress[1]))], isolating=elsewhere)
    widened = _with(*POLICY.ingress, PolicyRule(peers=(FROM_ALL,)))
    assert not keeps_holding(FORBID, [new, _edit(widened)])


def _narrowed(policy: NetworkPolicy, data: st.DataObject) -> NetworkPolicy:
    """The policy with some rules dropped, peers given a requirement, ports dropped."""
    rules = []
    for rule in policy.ingress:
        if data.draw(st.booleans()):
            continue
        peers = tuple(
            peer.model_copy(
                update={
                    "pod_selector": (peer.pod_selector or LabelSelector()).model_copy(
                        update={"match_expressions": (NOT_DEV,)}
                    )
                }
            )
            if peer.ip_block is None and data.draw(st.booleans())
            else peer
            for peer in rule.peers
        )
        ports = rule.ports[: data.draw(st.integers(1, max(1, len(rule.ports))))]
        rules.append(rule.model_copy(update={"peers": peers, "ports": ports}))
    return policy.model_copy(update={"ingress": tuple(rules)})


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(cluster=clusters(), data=st.data())
def test_a_kept_forbid_admits_no_new_flow(cluster: Cluster, data: st.DataObject) -> None:
    """Whenever `keeps_holding` says a forbid is kept, no pair of pods, on a port of the
    edited rules, is allowed after and not before."""
    if not cluster.policies:
        return
    before = data.draw(st.sampled_from(cluster.policies))
    after = _narrowed(before, data)
    if not keeps_holding(FORBID, [_edit(after, before)]):
        return
    head = cluster.model_copy(
        update={"policies": tuple(after if p is before else p for p in cluster.policies)}
    )
    _assert_admits_no_new_flow(cluster, head)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(cluster=clusters(), data=st.data())
def test_a_new_policy_said_to_keep_a_forbid_admits_no_new_flow(
    cluster: Cluster, data: st.DataObject
) -> None:
    """Whenever `keeps_holding` says a new policy (one of the cluster's, moved to a
    namespace of a pod) keeps a forbid, no pair of pods is allowed after and not before."""
    if not cluster.policies or not cluster.pods:
        return
    model = data.draw(st.sampled_from(cluster.policies))
    namespace = data.draw(st.sampled_from(sorted({pod.namespace for pod in cluster.pods})))
    added = model.model_copy(update={"namespace": namespace, "name": "added"})
    isolating = {(p.namespace, d) for p in cluster.policies for d in p.policy_types}
    edit = PolicyEdit(before=None, after=added, direction=Direction.INGRESS, rule_index=None)
    if not keeps_holding(FORBID, [edit], isolating):
        return
    _assert_admits_no_new_flow(
        cluster, cluster.model_copy(update={"policies": (*cluster.policies, added)})
    )


def _assert_admits_no_new_flow(cluster: Cluster, head: Cluster) -> None:
    """No pair of `cluster`'s pods, on a few ports, is allowed in `head` and not in it."""
    namespaces = {namespace.name: namespace for namespace in cluster.namespaces}
    ends = [pod_at_first_address(namespaces[pod.namespace], pod) for pod in cluster.pods]
    for source in ends:
        for destination in ends:
            for port in (53, 80, 443, 8080):
                flow = Flow(
                    source=source, destination=destination, protocol=Protocol.TCP, port=port
                )
                if evaluate(head, flow, Settings()).allowed:
                    assert evaluate(cluster, flow, Settings()).allowed
