"""Verdicts over classes of existing pods, on bit sets (Python ints, bit i for class i).

Pods that no policy can tell apart form one class, so a verdict computed for one pod of a
class holds for all of them: the classes each policy selects, each rule's peers and, per
probed port, the destinations a rule's `ports` admit are bit sets, and a verdict row (the
destinations one source class reaches) is a few bitwise operations. A verdict only changes
where a policy's port range starts or ends or where a pod's named port lies, so one probe per
segment between those points stands for the whole segment.

Used by `matrix` (who reaches whom) and `diff` (which pairs of classes changed); both
replay what they report through the reference evaluator.
"""

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from netverify.encoding.universe import build_universe, ip_number, network_interval
from netverify.engine.podbits import PodBits, bits_to_indices, union
from netverify.model import (
    Cluster,
    Direction,
    Flow,
    FlowDecision,
    IPBlock,
    IPNetwork,
    NetworkPolicy,
    Pod,
    PodEndpoint,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Protocol,
    Settings,
    pod_at_first_address,
)
from netverify.semantics import evaluate, port_cuts
from netverify.semantics.admin import has_nodes_peers, node_of


@dataclass
class BitClass:
    index: int
    pods: Sequence[Pod]
    governed: bool


@dataclass
class BitRule:
    policy: NetworkPolicy
    direction: Direction
    index: int
    rule: PolicyRule
    subjects: int
    peers: int
    subject_indices: list[int] = field(default_factory=list)
    port_set: int = -1
    """The index of the rule's `ports` among the verdicts' `port_sets`; -1: every port."""


class ClassVerdicts:
    """Bit sets over the classes of one cluster, and the per-class verdict rows."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        pod_groups: Sequence[Sequence[Pod]] | None = None,
        like: "ClassVerdicts | None" = None,
    ) -> None:
        """`pod_groups` are the classes when the caller made them (diff: both revisions must
        share them); by default the cluster's pods are grouped here. `like`: verdicts over
        the very same `pod_groups` (another revision's), whose bit sets of pods and of
        selectors are reused (only the namespaces' labels may differ)."""
        self.cluster = cluster
        self.settings = settings
        self.namespaces = {namespace.name: namespace for namespace in cluster.namespaces}
        self.classes = [
            BitClass(index=index, pods=pods, governed=not pods[0].host_network)
            for index, pods in enumerate(self._group() if pod_groups is None else pod_groups)
        ]
        self.class_of: dict[int, int] = {
            id(pod): pod_class.index for pod_class in self.classes for pod in pod_class.pods
        }
        self.all = (1 << len(self.classes)) - 1
        assert like is None or [c.pods[0] for c in like.classes] == [
            c.pods[0] for c in self.classes
        ], "`like` is over other classes"
        self.labels: PodBits = (
            PodBits([c.pods[0] for c in self.classes], cluster.namespaces)
            if like is None
            else like.labels.with_namespaces(cluster.namespaces)
        )
        """Bit sets over the classes, one pod standing for each."""
        self.governed = self.labels.governed
        self.by_port = self.labels.by_port
        self._block_cache: dict[IPBlock, int] = {}
        self._indices_cache: dict[int, list[int]] = {} if like is None else like._indices_cache
        self._positions: dict[str, list[int]] | None = None
        """Where each namespace's policies are in the cluster's list, once asked."""
        self.rules = self._rules()
        self.admin_port_sets = list(
            dict.fromkeys(
                rule.ports
                for policy in cluster.admin_policies
                for rule in (*policy.ingress, *policy.egress)
                if rule.ports
            )
        )
        """The distinct `ports` of the admin rules: probes are cut where they change too."""
        self.ported: list[list[BitRule]] = [[] for _ in self.port_sets]
        """The rules of each of the `port_sets`."""
        for rule in self.rules:
            if rule.port_set >= 0:
                self.ported[rule.port_set].append(rule)
        self.isolated = {
            direction: self._or(
                self._policy_subjects(policy)
                for policy in cluster.policies
                if direction in policy.policy_types
            )
            for direction in Direction
        }
        self.rules_of: dict[Direction, list[list[BitRule]]] = {
            direction: [[] for _ in self.classes] for direction in Direction
        }
        for rule in self.rules:
            for index in rule.subject_indices:
                self.rules_of[rule.direction][index].append(rule)
        self._base = self._base_sets()

    # -- classes and bit sets ------------------------------------------------------------

    def _group(self) -> list[list[Pod]]:
        """Pods alike in namespace, label codes, named ports, hostNetwork, the networks
        their first address is in and, when a `nodes` peer can tell nodes apart, the node of
        a hostNetwork pod."""
        universe = build_universe([self.cluster], (), self.settings.pod_cidrs)
        groups: dict[tuple[object, ...], list[Pod]] = {}
        port_names = set(universe.port_names)
        nodes_matter = has_nodes_peers(self.cluster)
        for pod in self.cluster.pods:
            first_ip = pod.ips[0] if pod.ips else None
            key = (
                pod.namespace,
                universe.pod_labels.codes(pod.labels),
                tuple(
                    sorted(
                        (port.name, port.protocol.value, port.port)
                        for port in pod.ports
                        if port.name in port_names
                    )
                ),
                pod.host_network,
                None
                if first_ip is None
                else (first_ip.version, tuple(first_ip in n for n in universe.networks)),
                self._node_name(pod) if nodes_matter else None,
            )
            groups.setdefault(key, []).append(pod)
        return list(groups.values())

    def _node_name(self, pod: Pod) -> str | None:
        node = node_of(self.cluster, pod_at_first_address(self.namespaces[pod.namespace], pod))
        return None if node is None else node.name

    def indices(self, bits: int) -> list[int]:
        cached = self._indices_cache.get(bits)
        if cached is None:
            cached = self._indices_cache[bits] = bits_to_indices(bits)
        return cached

    @staticmethod
    def _or(parts: Iterable[int]) -> int:
        return union(parts)

    def _policy_subjects(self, policy: NetworkPolicy) -> int:
        return self.labels.policy_bits(policy.namespace, policy.pod_selector)

    def peer_bits(self, peer: PolicyPeer, policy_namespace: str) -> int:
        if peer.ip_block is not None:
            block = peer.ip_block
            cached = self._block_cache.get(block)
            if cached is None:
                # NOTE: as in `peer_matches`: a pod's address matches only under the
                # upstream profile, and a pod without a known address never does.
                cached = self._block_cache[block] = (
                    self._addressed(block.cidr)
                    & ~self._or(self._addressed(excepted) for excepted in block.excepts)
                    if self.settings.ip_block_matches_pods
                    else 0
                )
            return cached
        return self.labels.peer_bits(peer, policy_namespace)

    def _addressed(self, network: IPNetwork) -> int:
        """The classes whose first address is in the network."""
        numbers, prefix = self._address_line
        low, high = network_interval(network)
        return prefix[bisect_right(numbers, high)] - prefix[bisect_left(numbers, low)]

    @cached_property
    def _address_line(self) -> tuple[list[int], list[int]]:
        """The classes' first addresses in order on the line of addresses, and the sums of
        their bits up to each position (the bits are distinct: a difference of two sums is
        the classes between the two positions)."""
        points = sorted(
            (ip_number(c.pods[0].ips[0]), 1 << c.index) for c in self.classes if c.pods[0].ips
        )
        prefix = [0]
        for _, bit in points:
            prefix.append(prefix[-1] + bit)
        return [number for number, _ in points], prefix

    def _rules(self) -> list[BitRule]:
        rules = []
        port_sets: dict[tuple[PolicyPort, ...], int] = {}
        for policy in self.cluster.policies:
            subjects = self._policy_subjects(policy)
            if not subjects:
                continue
            for direction in policy.policy_types:
                for index, rule in enumerate(policy.rules(direction)):
                    peers = (
                        self._or(self.peer_bits(peer, policy.namespace) for peer in rule.peers)
                        if rule.peers
                        else self.all
                    )
                    rules.append(
                        BitRule(
                            policy=policy,
                            direction=direction,
                            index=index,
                            rule=rule,
                            subjects=subjects,
                            peers=peers,
                            subject_indices=self.indices(subjects),
                            port_set=(
                                port_sets.setdefault(rule.ports, len(port_sets))
                                if rule.ports
                                else -1
                            ),
                        )
                    )
        self.port_sets = list(port_sets)
        """The distinct `ports` of the rules: thousands of rules repeat a few dozen."""
        return rules

    # -- ports -------------------------------------------------------------------------------

    def port_bits(self, rule: BitRule, protocol: Protocol, port: int) -> int:
        """The destination classes the rule's `ports` admit on `protocol`/`port`."""
        if rule.port_set < 0:
            return self.all
        return self._entries_bits(self.port_sets[rule.port_set], protocol, port)

    def port_set_bits(self, protocol: Protocol, port: int) -> list[int]:
        """`port_bits` of each of the `port_sets`."""
        return [self._entries_bits(entries, protocol, port) for entries in self.port_sets]

    def probe_signature(self, protocol: Protocol, port: int) -> tuple[int, ...]:
        """What every rule's `ports` (admin rules' included) admit on `protocol`/`port`: ports
        with one signature are decided alike."""
        return (
            *self.port_set_bits(protocol, port),
            *(self._entries_bits(entries, protocol, port) for entries in self.admin_port_sets),
        )

    def _entries_bits(self, entries: tuple[PolicyPort, ...], protocol: Protocol, port: int) -> int:
        bits = 0
        for entry in entries:
            if entry.protocol != protocol:
                continue
            if entry.port_range is not None:
                if entry.port_range.start <= port <= entry.port_range.end:
                    return self.all
            elif entry.named_port is not None:
                bits |= self.by_port.get((entry.named_port, protocol, port), 0)
            else:
                return self.all
        return bits

    def probes(self) -> list[tuple[Protocol, int]]:
        """One port per segment no rule tells apart, for every protocol."""
        return [(probe.protocol, probe.port) for probe in port_probes([self])]

    # -- verdict rows ------------------------------------------------------------------------

    def _base_sets(self) -> tuple[list[int], list[int]]:
        """Per source class: destinations egress allows and destinations whose ingress allows
        it, from rules without `ports` and sides no policy isolates."""
        egress = [
            self.all if not (self.isolated[Direction.EGRESS] >> c.index) & 1 else 0
            for c in self.classes
        ]
        ingress = [~self.isolated[Direction.INGRESS] & self.all for _ in self.classes]
        reach = _Reach()
        for rule in self.rules:
            if rule.port_set < 0:
                reach.add(rule, self.all, self.all)
        self._spread(reach, egress, ingress)
        return egress, ingress

    def _spread(self, reach: "_Reach", egress: list[int], ingress: list[int]) -> None:
        """Add what `reach` gathered to the rows: each source class of a gathered set once."""
        for rows, gathered in ((egress, reach.egress), (ingress, reach.ingress)):
            for sources, reached in gathered.items():
                for index in self.indices(sources):
                    rows[index] |= reached

    def rows(self, protocol: Protocol, port: int, focus: int | None = None) -> list[int]:
        """For each source class, the destination classes it reaches on `protocol`/`port`
        (a class to itself means two different pods of the class).

        With `focus` (classes), only what flows from or to them need be right: the rows of
        the focus, and the focus's bits of the other rows (the others may be wrong); rules
        that cannot reach into the focus are skipped, which is most of them when the focus
        is the few namespaces a change touched."""
        focus = self.all if focus is None else focus
        egress, ingress = list(self._base[0]), list(self._base[1])
        reach = _Reach()
        for ports, rules in zip(self.port_set_bits(protocol, port), self.ported, strict=True):
            if ports:
                for rule in rules:
                    reach.add(rule, ports, focus)
        self._spread(reach, egress, ingress)
        return [out & into for out, into in zip(egress, ingress, strict=True)]

    def pair_allowed(self, source: int, destination: int, protocol: Protocol, port: int) -> bool:
        """The verdict for one pair of classes, from the rules that select either end."""
        return all(
            not (self.isolated[direction] >> subject) & 1
            or self.admitting(direction, source, destination, protocol, port)
            for direction, subject in ((Direction.EGRESS, source), (Direction.INGRESS, destination))
        )

    def admitting(
        self, direction: Direction, source: int, destination: int, protocol: Protocol, port: int
    ) -> list[BitRule]:
        """The rules of one side (egress: the source's; ingress: the destination's) that admit
        the flow, in the reference evaluator's order."""
        subject, peer = (
            (source, destination) if direction is Direction.EGRESS else (destination, source)
        )
        return [
            rule
            for rule in self.rules_of[direction][subject]
            if (rule.peers >> peer) & 1
            and (self.port_bits(rule, protocol, port) >> destination) & 1
        ]

    def node_local_allowed(
        self, source: Pod, destination: Pod, protocol: Protocol, port: int
    ) -> bool:
        """Whether node-local traffic between two pods that may share a node is allowed:
        NetworkPolicy never blocks it."""
        return True

    def decide(self, flow: Flow) -> FlowDecision:
        """The reference evaluator's decision on a flow between pods of the cluster, with
        the two namespaces' policies (the only ones that can select either end)."""
        assert isinstance(flow.source, PodEndpoint) and isinstance(flow.destination, PodEndpoint)
        policies = self.namespace_policies(
            flow.source.pod.namespace, flow.destination.pod.namespace
        )
        return evaluate(Cluster.model_construct(policies=policies), flow, self.settings)

    def namespace_policies(self, *names: str) -> tuple[NetworkPolicy, ...]:
        """The policies of these namespaces, in the cluster's order (a matrix by namespace
        asks once per pair of namespaces: a scan of every policy each time was most of it)."""
        positions = sorted({index for name in names for index in self._policy_positions(name)})
        return tuple(self.cluster.policies[index] for index in positions)

    def _policy_positions(self, namespace: str) -> list[int]:
        if self._positions is None:
            self._positions = {}
            for index, policy in enumerate(self.cluster.policies):
                self._positions.setdefault(policy.namespace, []).append(index)
        return self._positions.get(namespace, [])


class _Reach:
    """What rules add to the verdict rows, gathered by the source classes they add it to:
    a row is an OR, and thousands of rules share a few hundred subject and peer sets, so
    each source's row is widened once per set rather than once per rule (most of `rows`'s
    time was those per-rule, per-class ORs of long bit sets)."""

    def __init__(self) -> None:
        self.egress: dict[int, int] = {}
        """Source classes (a rule's subjects) -> the destinations their egress allows."""
        self.ingress: dict[int, int] = {}
        """Source classes (a rule's peers) -> the destinations whose ingress admits them."""

    def add(self, rule: BitRule, ports: int, focus: int) -> None:
        """The rule, admitting destinations `ports`; with `focus`, a rule's sources and
        destinations outside it are left out where the rows' contract allows (`rows`)."""
        if rule.direction is Direction.EGRESS:
            reached = rule.peers & ports
            if not rule.subjects & focus:
                reached &= focus
            if reached:
                self.egress[rule.subjects] = self.egress.get(rule.subjects, 0) | reached
        else:
            reached = rule.subjects & ports
            if reached:
                sources = rule.peers if reached & focus else rule.peers & focus
                self.ingress[sources] = self.ingress.get(sources, 0) | reached


@dataclass(frozen=True)
class Probe:
    """One port standing for every segment of ports that no rule tells apart from it."""

    protocol: Protocol
    port: int
    """The first port of the first segment."""
    segments: tuple[tuple[int, int], ...]
    """Inclusive port ranges, in order."""


def port_probes(revisions: Sequence[ClassVerdicts]) -> list[Probe]:
    """The probes of every protocol, cut where a rule of any of `revisions` (sharing their
    classes) starts or ends a port range or a pod's named port lies."""
    probes: list[Probe] = []
    for protocol in Protocol:
        cuts = port_cuts(
            (
                entry.port_range
                for verdicts in revisions
                for entries in (*verdicts.port_sets, *verdicts.admin_port_sets)
                for entry in entries
                if entry.protocol == protocol and entry.port_range is not None
            ),
            (
                number
                for verdicts in revisions
                for _name, port_protocol, number in verdicts.by_port
                if port_protocol == protocol
            ),
        )
        segments: dict[tuple[tuple[int, ...], ...], list[tuple[int, int]]] = {}
        for start, end in itertools.pairwise(cuts):
            signature = tuple(v.probe_signature(protocol, start) for v in revisions)
            segments.setdefault(signature, []).append((start, end - 1))
        probes += [Probe(protocol, alike[0][0], tuple(alike)) for alike in segments.values()]
    return probes
