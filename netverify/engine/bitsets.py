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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from netverify.encoding.universe import build_universe
from netverify.model import (
    Cluster,
    Direction,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    Operator,
    Pod,
    PolicyPeer,
    PolicyRule,
    Protocol,
    Settings,
)
from netverify.semantics import ip_block_contains, selector_matches

MAX_PORT = 65535


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
    peer_indices: list[int] = field(default_factory=list)


def bits_to_indices(bits: int) -> list[int]:
    indices = []
    while bits:
        low = bits & -bits
        indices.append(low.bit_length() - 1)
        bits ^= low
    return indices


def _selector_key(selector: LabelSelector) -> str:
    return selector.model_dump_json()


class ClassVerdicts:
    """Bit sets over the classes of one cluster, and the per-class verdict rows."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        pod_groups: Sequence[Sequence[Pod]] | None = None,
    ) -> None:
        """`pod_groups` are the classes when the caller made them (diff: both revisions must
        share them); by default the cluster's pods are grouped here."""
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
        self.governed = sum(1 << c.index for c in self.classes if c.governed)
        self._index_labels()
        self._selector_cache: dict[str, int] = {}
        self._namespace_cache: dict[str, int] = {}
        self._block_cache: dict[IPBlock, int] = {}
        self._indices_cache: dict[int, list[int]] = {}
        self.rules = self._rules()
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
        """Pods alike in namespace, label codes, named ports, hostNetwork and the networks
        their first address is in."""
        universe = build_universe([self.cluster], (), self.settings.pod_cidrs)
        groups: dict[tuple[object, ...], list[Pod]] = {}
        port_names = set(universe.port_names)
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
            )
            groups.setdefault(key, []).append(pod)
        return list(groups.values())

    def _index_labels(self) -> None:
        self.by_label: dict[tuple[str, str], int] = {}
        self.by_key: dict[str, int] = {}
        self.by_namespace: dict[str, int] = {}
        self.by_port: dict[tuple[str, Protocol, int], int] = {}
        for pod_class in self.classes:
            bit = 1 << pod_class.index
            pod = pod_class.pods[0]
            for key, value in pod.labels.items():
                self.by_label[(key, value)] = self.by_label.get((key, value), 0) | bit
                self.by_key[key] = self.by_key.get(key, 0) | bit
            self.by_namespace[pod.namespace] = self.by_namespace.get(pod.namespace, 0) | bit
            for port in pod.ports:
                if port.name:
                    key3 = (port.name, port.protocol, port.port)
                    self.by_port[key3] = self.by_port.get(key3, 0) | bit

    def indices(self, bits: int) -> list[int]:
        cached = self._indices_cache.get(bits)
        if cached is None:
            cached = self._indices_cache[bits] = bits_to_indices(bits)
        return cached

    @staticmethod
    def _or(parts: Iterable[int]) -> int:
        total = 0
        for part in parts:
            total |= part
        return total

    def pod_selector_bits(self, selector: LabelSelector) -> int:
        """Governed classes whose labels the selector matches."""
        key = _selector_key(selector)
        cached = self._selector_cache.get(key)
        if cached is not None:
            return cached
        bits = self.governed
        for label, value in selector.match_labels.items():
            bits &= self.by_label.get((label, value), 0)
        for requirement in selector.match_expressions:
            with_value = self._or(
                self.by_label.get((requirement.key, v), 0) for v in requirement.values
            )
            match requirement.operator:
                case Operator.IN:
                    bits &= with_value
                case Operator.NOT_IN:
                    bits &= ~with_value
                case Operator.EXISTS:
                    bits &= self.by_key.get(requirement.key, 0)
                case Operator.DOES_NOT_EXIST:
                    bits &= ~self.by_key.get(requirement.key, 0)
        self._selector_cache[key] = bits
        return bits

    def namespace_selector_bits(self, selector: LabelSelector) -> int:
        """Classes in namespaces whose labels the selector matches."""
        key = _selector_key(selector)
        cached = self._namespace_cache.get(key)
        if cached is None:
            cached = self._namespace_cache[key] = self._or(
                self.by_namespace.get(namespace.name, 0)
                for namespace in self.cluster.namespaces
                if selector_matches(selector, namespace.labels)
            )
        return cached

    def _policy_subjects(self, policy: NetworkPolicy) -> int:
        return self.by_namespace.get(policy.namespace, 0) & self.pod_selector_bits(
            policy.pod_selector
        )

    def peer_bits(self, peer: PolicyPeer, policy_namespace: str) -> int:
        if peer.ip_block is not None:
            block = peer.ip_block
            cached = self._block_cache.get(block)
            if cached is None:
                # NOTE: as in `peer_matches`: a pod's address matches only under the
                # upstream profile, and a pod without a known address never does.
                cached = self._block_cache[block] = (
                    sum(
                        1 << c.index
                        for c in self.classes
                        if c.pods[0].ips and ip_block_contains(block, c.pods[0].ips[0])
                    )
                    if self.settings.ip_block_matches_pods
                    else 0
                )
            return cached
        in_namespace = (
            self.by_namespace.get(policy_namespace, 0)
            if peer.namespace_selector is None
            else self.namespace_selector_bits(peer.namespace_selector)
        )
        pods = (
            self.governed
            if peer.pod_selector is None
            else self.pod_selector_bits(peer.pod_selector)
        )
        return in_namespace & pods & self.governed

    def _rules(self) -> list[BitRule]:
        rules = []
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
                            peer_indices=self.indices(peers),
                        )
                    )
        return rules

    # -- ports -------------------------------------------------------------------------------

    def port_bits(self, rule: BitRule, protocol: Protocol, port: int) -> int:
        """The destination classes the rule's `ports` admit on `protocol`/`port`."""
        if not rule.rule.ports:
            return self.all
        bits = 0
        for entry in rule.rule.ports:
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
        probes: list[tuple[Protocol, int]] = []
        ported = [rule for rule in self.rules if rule.rule.ports]
        for protocol in Protocol:
            cuts = {1, MAX_PORT + 1}
            for rule in ported:
                for entry in rule.rule.ports:
                    if entry.protocol == protocol and entry.port_range is not None:
                        cuts |= {entry.port_range.start, entry.port_range.end + 1}
            for _name, port_protocol, number in self.by_port:
                if port_protocol == protocol:
                    cuts |= {number, number + 1}
            seen: set[tuple[int, ...]] = set()
            for start, _ in itertools.pairwise(sorted(cuts)):
                signature = tuple(self.port_bits(rule, protocol, start) for rule in ported)
                if signature not in seen:
                    seen.add(signature)
                    probes.append((protocol, start))
        return probes

    # -- verdict rows ------------------------------------------------------------------------

    def _base_sets(self) -> tuple[list[int], list[int]]:
        """Per source class: destinations egress allows and destinations whose ingress allows
        it, from rules without `ports` and sides no policy isolates."""
        egress = [
            self.all if not (self.isolated[Direction.EGRESS] >> c.index) & 1 else 0
            for c in self.classes
        ]
        ingress = [~self.isolated[Direction.INGRESS] & self.all for _ in self.classes]
        for rule in self.rules:
            if rule.rule.ports:
                continue
            self._add(rule, self.all, egress, ingress)
        return egress, ingress

    def _add(self, rule: BitRule, ports: int, egress: list[int], ingress: list[int]) -> None:
        if rule.direction is Direction.EGRESS:
            reached = rule.peers & ports
            if reached:
                for index in rule.subject_indices:
                    egress[index] |= reached
        else:
            reached = rule.subjects & ports
            if reached:
                for index in rule.peer_indices:
                    ingress[index] |= reached

    def rows(self, protocol: Protocol, port: int) -> list[int]:
        """For each source class, the destination classes it reaches on `protocol`/`port`
        (a class to itself means two different pods of the class)."""
        egress, ingress = list(self._base[0]), list(self._base[1])
        for rule in self.rules:
            if rule.rule.ports:
                self._add(rule, self.port_bits(rule, protocol, port), egress, ingress)
        return [out & into for out, into in zip(egress, ingress, strict=True)]

    def pair_allowed(self, source: int, destination: int, protocol: Protocol, port: int) -> bool:
        """The verdict for one pair of classes, from the rules that select either end."""
        return self._side(Direction.EGRESS, source, destination, destination, protocol, port) and (
            self._side(Direction.INGRESS, destination, source, destination, protocol, port)
        )

    def _side(
        self,
        direction: Direction,
        subject: int,
        peer: int,
        destination: int,
        protocol: Protocol,
        port: int,
    ) -> bool:
        if not (self.isolated[direction] >> subject) & 1:
            return True
        return any(
            (rule.peers >> peer) & 1 and (self.port_bits(rule, protocol, port) >> destination) & 1
            for rule in self.rules_of[direction][subject]
        )

    def namespace_policies(self, *names: str) -> tuple[NetworkPolicy, ...]:
        return tuple(policy for policy in self.cluster.policies if policy.namespace in names)
