"""Which reported products a product of groups may share a flow with, as the keys tell:
`NewPodGroup.apart` must never set apart groups a pod can be in both of (the solver's word),
and `Reported.meeting` leaves out only products whose groups are apart."""

from dataclasses import replace
from itertools import product

import pytest
import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.groups import ClassGroup, ExternalGroup, GroupTerms, NewPodGroup, Wild
from netverify.engine.diff.reported import Reported, without_meeting
from netverify.engine.diff.revisions import FlowKind
from netverify.model import (
    Cluster,
    Direction,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Pod,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
    Settings,
)
from netverify.model.diff import Change

_CLUSTER = Cluster(
    namespaces=(Namespace(name="prod"), Namespace(name="dev")),
    pods=(Pod(namespace="prod", name="web", labels={"app": "web"}),),
    policies=(
        NetworkPolicy(
            namespace="prod",
            name="web",
            pod_selector=LabelSelector(match_labels={"app": "web"}),
            policy_types=frozenset({Direction.INGRESS}),
            ingress=(
                PolicyRule(
                    peers=(PolicyPeer(pod_selector=LabelSelector(match_labels={"app": "db"})),),
                    ports=(PolicyPort(protocol=Protocol.TCP, named_port="http"),),
                ),
            ),
        ),
    ),
)

ADDED_TCP = FlowKind(Change.ADDED, Protocol.TCP, same_node=False)


def _groups(ports: int = 1, http: int = 0) -> list[NewPodGroup]:
    """Groups of new pods of prod pinning, excluding or freeing the label and the named
    port at `http` of `ports` (the others free), with an address or without."""
    codes: list[int | frozenset[int] | None] = [None, 0, 1, 2, frozenset({1}), frozenset({0, 2})]
    numbers: list[int | Wild | None] = [None, 80, 81, Wild.ANY, Wild.OUTSIDE]
    segments: list[int | Wild | None] = [None, Wild.ANY]
    return [
        NewPodGroup(
            namespace="prod",
            label_codes=(code,),
            named_ports=tuple(number if i == http else Wild.ANY for i in range(ports)),
            segment=segment,
            outside=(PortRange(start=81, end=90),),
        )
        for code, number, segment in product(codes, numbers, segments)
    ]


def test_groups_of_new_pods_set_apart_share_no_pod() -> None:
    encoding = ClusterEncoding(_CLUSTER, Settings())
    assert len(encoding.universe.pod_labels.keys) == 1
    end = encoding.flow.source
    http = list(end.named_ports).index(("http", Protocol.TCP))
    terms = GroupTerms(encoding)
    solver = z3.Solver()
    solver.add(encoding.domain)
    groups = _groups(len(end.named_ports), http)
    apart = 0
    for first, second in product(groups, groups):
        if not first.apart(second):
            continue
        apart += 1
        assert solver.check(terms.term(first, end), terms.term(second, end)) == z3.unsat, (
            first,
            second,
        )
    assert apart > len(groups)
    other = replace(groups[0], namespace="dev")
    assert groups[0].apart(other)
    assert solver.check(terms.term(groups[0], end), terms.term(other, end)) == z3.unsat


@pytest.mark.parametrize("wild", [Wild.ANY, None])
def test_reported_products_apart_by_their_keys_are_left_out(wild: Wild | None) -> None:
    """Two products to new pods of prod with port 80 and 81: a product with port 81 (or
    without the port) meets the second (neither) only; one with any port meets both."""
    reported = Reported(set())
    key = _groups()[0]
    terms = [z3.Bool("eighty"), z3.Bool("eighty-one")]
    for number, term in zip((80, 81), terms, strict=True):
        group = NewPodGroup(key.namespace, key.label_codes, (number,), key.segment)
        reported.add(ADDED_TCP, [ClassGroup(0)], [group], term)
    asked = NewPodGroup(key.namespace, key.label_codes, (wild,), key.segment)
    meeting = reported.meeting(ADDED_TCP, [ClassGroup(0)], [asked])
    assert meeting == (terms if wild is Wild.ANY else [])
    port81 = NewPodGroup(key.namespace, key.label_codes, (81,), key.segment)
    assert reported.meeting(ADDED_TCP, [ClassGroup(0)], [port81]) == terms[1:]
    elsewhere = [ClassGroup(1), ExternalGroup((True,))]
    assert reported.meeting(ADDED_TCP, elsewhere, [asked]) == []
    assert (
        reported.meeting(
            FlowKind(Change.ADDED, Protocol.UDP, same_node=False), [ClassGroup(0)], [asked]
        )
        == []
    )


def test_a_confirmation_round_drops_every_group_meeting_the_reported_product() -> None:
    """A product's odd flow shared with a reported product of a dozen external cells drops
    each cell of that product at once (one round, not one per cell; the rounds would run
    out and leave the witness's groups alone), keeping the witness's and the others."""
    reported = Reported(set())
    key = _groups()[0]
    cells = [ExternalGroup((True, False)), ExternalGroup((True, True))]
    reported.add(ADDED_TCP, cells, [key], z3.Bool("reported"))
    met = reported.met(ADDED_TCP, cells[:1], [key])
    own, other = ClassGroup(0), ClassGroup(1)
    assert len(met) == 1
    sources = [own, *cells, other, ExternalGroup((False, True))]
    assert without_meeting(sources, own, cells[0], met, at_source=True) == [
        own,
        other,
        ExternalGroup((False, True)),
    ]
    assert without_meeting(sources, own, other, [], at_source=True) == [own, *cells, sources[-1]]
