"""`PodBits` answers selectors and peers over pods as bit sets: each answer must be the
reference evaluator's, pod by pod (a divergence would change lint's samples and verdicts)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.engine.podbits import PodBits, bits_to_indices
from netverify.model import Cluster, PodEndpoint, Settings
from netverify.semantics import peer_matches, policy_selects, selector_matches
from tests.strategies import clusters, selectors

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _endpoints(cluster: Cluster) -> list[PodEndpoint]:
    ends = []
    for pod in cluster.pods:
        namespace = cluster.namespace(pod.namespace)
        assert namespace is not None
        ends.append(PodEndpoint(namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None))
    return ends


def _matching(bits: int, count: int) -> list[int]:
    assert bits >> count == 0, "no bit beyond the pods"
    return bits_to_indices(bits)


@PROPERTY
@given(cluster=clusters(max_pods=6, max_policies=4), data=st.data())
def test_selectors_policies_and_peers_match_as_the_evaluator_has_it(
    cluster: Cluster, data: st.DataObject
) -> None:
    ends = _endpoints(cluster)
    bits = PodBits(cluster.pods, cluster.namespaces)
    count = len(ends)
    drawn = data.draw(selectors())
    assert _matching(bits.labels_bits(drawn), count) == [
        i for i, end in enumerate(ends) if selector_matches(drawn, end.pod.labels)
    ]
    for policy in cluster.policies:
        selected = bits.policy_bits(policy.namespace, policy.pod_selector)
        assert _matching(selected, count) == [
            i for i, end in enumerate(ends) if policy_selects(policy, end)
        ]
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is not None:
                    continue
                assert _matching(bits.peer_bits(peer, policy.namespace), count) == [
                    i
                    for i, end in enumerate(ends)
                    if peer_matches(peer, policy.namespace, end, Settings())
                ]


@PROPERTY
@given(cluster=clusters(max_pods=6, max_policies=4), data=st.data())
def test_the_same_pods_in_relabelled_namespaces_answer_as_fresh_bits(
    cluster: Cluster, data: st.DataObject
) -> None:
    """`with_namespaces` (a diff's other revision) shares the pods' tables and selector
    answers, but answers namespace selectors over its own namespaces."""
    relabelled = [
        namespace.model_copy(update={"labels": {**namespace.labels, "env": "changed"}})
        if data.draw(st.booleans())
        else namespace
        for namespace in cluster.namespaces
    ]
    first = PodBits(cluster.pods, cluster.namespaces)
    drawn = data.draw(selectors())
    first.namespace_selector_bits(drawn)  # answered over the first namespaces: not reused
    first.labels_bits(drawn)
    shared = first.with_namespaces(relabelled)
    fresh = PodBits(cluster.pods, relabelled)
    assert shared.labels_bits(drawn) == fresh.labels_bits(drawn)
    assert shared.namespace_selector_bits(drawn) == fresh.namespace_selector_bits(drawn)
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is None:
                    assert shared.peer_bits(peer, policy.namespace) == fresh.peer_bits(
                        peer, policy.namespace
                    )
