"""Verdicts over classes of existing pods when the cluster has admin policy tiers.

The bit sets of `ClassVerdicts` know NetworkPolicy only. A pair of classes that no admin
policy can decide (the source is no subject of an egress rule, the destination none of an
ingress rule) keeps their verdict; every other pair is decided by the reference evaluator on
one pod of each class. That is exact: the classes are cut by everything admin subjects and
peers can tell apart (labels and namespaces their selectors mention, the `networks` their
first address is in, the node of a hostNetwork pod), and the probes by the admin rules'
ports (`ClassVerdicts.probe_signature`).

Where the API leaves the order of admin policies open (equal priorities, or policies of both
API versions in one tier), a pair is allowed when some order allows it: a matrix says who
*can* reach whom.
"""

import itertools
from collections.abc import Sequence

from netverify.engine.bitsets import ClassVerdicts
from netverify.engine.tiers import domain_policies
from netverify.model import (
    AdminPolicy,
    AdminSubject,
    Cluster,
    Direction,
    Flow,
    FlowDecision,
    Pod,
    Protocol,
    Settings,
    pod_at_first_address,
)
from netverify.semantics.admin import has_nodes_peers, node_is_unknown
from netverify.semantics.evaluator import possible_verdicts


class TieredVerdicts(ClassVerdicts):
    """`ClassVerdicts` with the Admin and Baseline tiers on top (see the module)."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        pod_groups: Sequence[Sequence[Pod]] | None = None,
    ) -> None:
        super().__init__(cluster, settings, pod_groups)
        self.admin_subjects = {
            direction: self._or(
                self._subject_bits(policy.subject)
                for policy in cluster.admin_policies
                if policy.rules(direction)
            )
            for direction in Direction
        }
        """Per direction, the classes some admin policy has a rule of that direction for."""
        self._verdicts: dict[tuple[int, int, Protocol, int, bool], bool] = {}

    def _subject_bits(self, subject: AdminSubject) -> int:
        if subject.namespaces is not None:
            return self.labels.namespace_selector_bits(subject.namespaces) & self.governed
        assert subject.pods is not None
        return self.labels.namespace_selector_bits(
            subject.pods.namespace_selector
        ) & self.labels.pod_selector_bits(subject.pods.pod_selector)

    def _tiered(self, source: int) -> int:
        """The destination classes whose verdict from class `source` an admin policy may
        decide."""
        if (self.admin_subjects[Direction.EGRESS] >> source) & 1:
            return self.all
        return self.admin_subjects[Direction.INGRESS]

    def rows(self, protocol: Protocol, port: int, focus: int | None = None) -> list[int]:
        rows = super().rows(protocol, port, focus)
        for source, row in enumerate(rows):
            tiered = self._tiered(source)
            if tiered:
                rows[source] = (row & ~tiered) | self._or(
                    1 << destination
                    for destination in self.indices(tiered)
                    if self._class_pair_allowed(source, destination, protocol, port)
                )
        return rows

    def pair_allowed(self, source: int, destination: int, protocol: Protocol, port: int) -> bool:
        if (self._tiered(source) >> destination) & 1:
            return self._class_pair_allowed(source, destination, protocol, port)
        return super().pair_allowed(source, destination, protocol, port)

    def node_local_allowed(
        self, source: Pod, destination: Pod, protocol: Protocol, port: int
    ) -> bool:
        source_class, destination_class = self.class_of[id(source)], self.class_of[id(destination)]
        if not (self._tiered(source_class) >> destination_class) & 1:
            return True
        key = (source_class, destination_class, protocol, port, True)
        cached = self._verdicts.get(key)
        if cached is None:
            # NOTE: the two pods themselves, not their classes' first pods: whether they may
            # share a node (`spec.nodeName`) is no part of the classes.
            cached = self._verdicts[key] = self._can_reach(
                source, destination, protocol, port, same_node=True
            )
        return cached

    def decide(self, flow: Flow) -> FlowDecision:
        """A decision that allows the flow under some order of the admin policies the API
        leaves open, when one does."""
        verdicts = possible_verdicts(self.cluster, flow, self.settings)
        return verdicts.get(True) or verdicts[False]

    def _class_pair_allowed(
        self, source: int, destination: int, protocol: Protocol, port: int
    ) -> bool:
        key = (source, destination, protocol, port, False)
        cached = self._verdicts.get(key)
        if cached is None:
            first, *others = self.classes[source].pods
            # NOTE: a class to itself means two different pods of it: a single bare Pod
            # stands for a twin of itself (its traffic to itself is always allowed).
            second = (
                (others or [first.model_copy(update={"name": f"{first.name}-twin"})])[0]
                if source == destination
                else self.classes[destination].pods[0]
            )
            cached = self._verdicts[key] = self._can_reach(first, second, protocol, port)
        return cached

    def _can_reach(
        self, source: Pod, destination: Pod, protocol: Protocol, port: int, same_node: bool = False
    ) -> bool:
        flow = Flow(
            source=pod_at_first_address(self.namespaces[source.namespace], source),
            destination=pod_at_first_address(self.namespaces[destination.namespace], destination),
            protocol=protocol,
            port=port,
            same_node=same_node,
        )
        return True in possible_verdicts(self.cluster, flow, self.settings)


def class_verdicts(cluster: Cluster, settings: Settings) -> ClassVerdicts:
    """The verdicts of the cluster's classes, tier-aware when it has admin policies."""
    return (
        TieredVerdicts(cluster, settings)
        if cluster.admin_policies
        else ClassVerdicts(cluster, settings)
    )


def _unordered(first: AdminPolicy, second: AdminPolicy) -> bool:
    return first.tier is second.tier and not first.precedes(second) and not second.precedes(first)


def order_open(policies: Sequence[AdminPolicy]) -> bool:
    """Whether two policies of one tier have no order the API defines."""
    return any(_unordered(first, second) for first, second in itertools.combinations(policies, 2))


def unordered_policies(policies: Sequence[AdminPolicy]) -> list[AdminPolicy]:
    """The policies that have no order the API defines with some other policy of their tier,
    in the order given."""
    return [
        policy
        for policy in policies
        if any(other is not policy and _unordered(policy, other) for other in policies)
    ]


def tier_assumptions(cluster: Cluster, on_open_order: str) -> tuple[str, ...]:
    """What a command takes for granted about the admin tiers of the cluster;
    `on_open_order` says what it does where the order of admin policies is left open."""
    notes = []
    if order_open(cluster.admin_policies):
        notes.append(
            "where the API leaves the order of admin policies open (equal priorities, or both "
            f"API versions in one tier), {on_open_order}"
        )
    if domain_policies(cluster):
        notes.append("domainNames peers match no address (netverify does not resolve names)")
    namespaces = {namespace.name: namespace for namespace in cluster.namespaces}
    if has_nodes_peers(cluster, selective=True) and any(
        node_is_unknown(cluster, pod_at_first_address(namespaces[pod.namespace], pod))
        for pod in cluster.pods
    ):
        notes.append(
            "a hostNetwork pod on no loaded node (by spec.nodeName or address) is matched by "
            "no `nodes` peer"
        )
    return tuple(notes)
