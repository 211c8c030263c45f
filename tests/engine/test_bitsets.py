"""The bit-set verdicts shared by `matrix` and `diff`: probes stand for every port, and each
pair of classes' verdict, with the rules behind it, is the reference evaluator's."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.engine.bitsets import ClassVerdicts, port_probes
from netverify.model import MAX_PORT, Cluster, Direction, Flow, PodEndpoint, Protocol, Settings
from netverify.semantics import evaluate
from tests.strategies import INTERESTING_PORTS, clusters

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one_class_per_pod(cluster: Cluster) -> ClassVerdicts:
    return ClassVerdicts(cluster, Settings(), [[pod] for pod in cluster.pods])


@PROPERTY
@given(base=clusters(max_pods=4, max_policies=3), head=clusters(max_pods=4, max_policies=3))
def test_probes_partition_every_port_into_segments_no_rule_tells_apart(
    base: Cluster, head: Cluster
) -> None:
    """Per protocol, the probes' segments cover 1..65535 once, and every port of a segment
    is admitted by exactly the rules (of both revisions) that admit the probe's port."""
    head = head.model_copy(update={"pods": base.pods, "namespaces": base.namespaces})
    revisions = [_one_class_per_pod(base), _one_class_per_pod(head)]
    probes = port_probes(revisions)
    for protocol in Protocol:
        mine = [probe for probe in probes if probe.protocol == protocol]
        segments = sorted(s for probe in mine for s in probe.segments)
        assert segments[0][0] == 1 and segments[-1][1] == MAX_PORT
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(segments))
        for probe in mine:
            assert probe.port == probe.segments[0][0]
            expected = [v.port_set_bits(protocol, probe.port) for v in revisions]
            for start, end in probe.segments:
                for port in {start, end, (start + end) // 2}:
                    assert [v.port_set_bits(protocol, port) for v in revisions] == expected


@PROPERTY
@given(cluster=clusters(max_pods=4, max_policies=4), data=st.data())
def test_admitting_rules_are_the_evaluators(cluster: Cluster, data: st.DataObject) -> None:
    """The rules `admitting` lists for a pair of pods, on each side, in the evaluator's
    order, and the policies' verdict on the pair."""
    verdicts = _one_class_per_pod(cluster)
    source = data.draw(st.integers(0, len(cluster.pods) - 1))
    destination = data.draw(st.integers(0, len(cluster.pods) - 1))
    protocol = data.draw(st.sampled_from(Protocol))
    port = data.draw(st.sampled_from(INTERESTING_PORTS))
    ends = []
    for index in (source, destination):
        pod = cluster.pods[index]
        namespace = cluster.namespace(pod.namespace)
        assert namespace is not None
        ends.append(PodEndpoint(namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None))
    flow = Flow(source=ends[0], destination=ends[1], protocol=protocol, port=port)
    decision = evaluate(cluster, flow)
    for direction, side in (
        (Direction.EGRESS, decision.egress),
        (Direction.INGRESS, decision.ingress),
    ):
        rules = verdicts.admitting(direction, source, destination, protocol, port)
        assert [(r.policy.name, r.policy.namespace, r.index) for r in rules] == [
            (ref.policy.name, ref.policy.namespace, ref.index) for ref in side.allowed_by
        ]
    # The policies' verdict: a bare pod talking to itself is allowed by no policy's say.
    policies_allow = decision.egress.allowed and decision.ingress.allowed
    assert verdicts.pair_allowed(source, destination, protocol, port) == policies_allow
