"""The connectivity matrix of the existing pods: who can reach whom, on which ports.

Pods that no policy can tell apart (same namespace, same codes for the labels selectors
mention, same named ports, hostNetwork, same CIDR signature of their first address) form one
class, and verdicts are computed per pair of classes with bit sets (Python ints, bit i for
class i): the classes each policy selects, each rule's peers and, per probed port, the
destinations a rule's `ports` admit. A verdict only changes where a policy's port range starts
or ends or where a pod's named port lies, so one probe per segment between those points stands
for the whole segment, and segments that no rule tells apart are probed once.

Every allowed cell that is explained gets a witness flow between two concrete pods, replayed
through the reference evaluator; a disagreement is an internal error, never a verdict.
"""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from netverify.encoding.universe import Universe, build_universe
from netverify.engine.scope import assumptions
from netverify.model import (
    Cluster,
    Diagnostic,
    Direction,
    Flow,
    InputError,
    IPBlock,
    LabelSelector,
    LoadedCluster,
    Namespace,
    NetworkPolicy,
    Operator,
    Pod,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
    Protocol,
    Settings,
    Severity,
)
from netverify.model.matrix import (
    ConnectivityMatrix,
    GroupBy,
    MatrixCell,
    MatrixEntity,
    MatrixPort,
    MatrixWitness,
    PodRows,
)
from netverify.semantics import evaluate, ip_block_contains, selector_matches

MAX_PORT = 65535
EXPLAIN_LIMIT = 20_000
"""Matrices with more cells than this carry no witnesses (each costs a replay)."""
DETAIL_LIMIT = 1_500
"""Clusters with more pods than this carry no pod-level detail."""
WORKLOAD_LABELS = ("app.kubernetes.io/name", "app", "k8s-app")
"""Labels that name a workload, in order of preference (`--group-by workload`)."""


class MatrixError(Exception):
    """The bit-set computation and the reference evaluator disagree: a soundness bug."""


def pod_name(pod: Pod) -> str:
    """`ns/name` (a workload is named like the pod of its template)."""
    return f"{pod.namespace}/{pod.name}"


@dataclass
class _Class:
    index: int
    namespace: Namespace
    pods: list[Pod]
    governed: bool

    @property
    def endpoint(self) -> PodEndpoint:
        return _endpoint(self.namespace, self.pods[0])


def _endpoint(namespace: Namespace, pod: Pod) -> PodEndpoint:
    """A pod as a flow endpoint, at its first known address."""
    return PodEndpoint(namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None)


@dataclass
class _Rule:
    policy: NetworkPolicy
    direction: Direction
    index: int
    rule: PolicyRule
    subjects: int
    peers: int
    subject_indices: list[int] = field(default_factory=list)
    peer_indices: list[int] = field(default_factory=list)


def _bits_to_indices(bits: int) -> list[int]:
    indices = []
    while bits:
        low = bits & -bits
        indices.append(low.bit_length() - 1)
        bits ^= low
    return indices


def _selector_key(selector: LabelSelector) -> str:
    return selector.model_dump_json()


class _Verdicts:
    """Bit sets over the classes of one cluster, and the per-class verdict rows."""

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self.cluster = cluster
        self.settings = settings
        self.universe: Universe = build_universe([cluster], (), settings.pod_cidrs)
        self.namespaces = {namespace.name: namespace for namespace in cluster.namespaces}
        self.classes = self._group()
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
        self.rules_of: dict[Direction, list[list[_Rule]]] = {
            direction: [[] for _ in self.classes] for direction in Direction
        }
        for rule in self.rules:
            for index in rule.subject_indices:
                self.rules_of[rule.direction][index].append(rule)
        self._base = self._base_sets()

    # -- classes and bit sets ------------------------------------------------------------

    def _group(self) -> list[_Class]:
        groups: dict[tuple[object, ...], list[Pod]] = {}
        port_names = set(self.universe.port_names)
        for pod in self.cluster.pods:
            first_ip = pod.ips[0] if pod.ips else None
            key = (
                pod.namespace,
                self.universe.pod_labels.codes(pod.labels),
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
                else (first_ip.version, tuple(first_ip in n for n in self.universe.networks)),
            )
            groups.setdefault(key, []).append(pod)
        return [
            _Class(
                index=index,
                namespace=self.namespaces[pods[0].namespace],
                pods=pods,
                governed=not pods[0].host_network,
            )
            for index, pods in enumerate(groups.values())
        ]

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
            cached = self._indices_cache[bits] = _bits_to_indices(bits)
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

    def _rules(self) -> list[_Rule]:
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
                        _Rule(
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

    def port_bits(self, rule: _Rule, protocol: Protocol, port: int) -> int:
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

    def _add(self, rule: _Rule, ports: int, egress: list[int], ingress: list[int]) -> None:
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


@dataclass
class _Entity:
    name: str
    namespace: str
    pods: list[Pod]
    class_bits: int = 0
    has_bare_pod: bool = False


def _entities(cluster: Cluster, group_by: GroupBy) -> list[_Entity]:
    entities: dict[str, _Entity] = {}
    for pod in cluster.pods:
        match group_by:
            case GroupBy.NAMESPACE:
                name = pod.namespace
            case GroupBy.POD:
                name = pod_name(pod)
            case GroupBy.WORKLOAD:
                label = next((pod.labels[k] for k in WORKLOAD_LABELS if k in pod.labels), None)
                name = f"{pod.namespace}/{label if label is not None else pod.name}"
        entity = entities.setdefault(name, _Entity(name=name, namespace=pod.namespace, pods=[]))
        entity.pods.append(pod)
        entity.has_bare_pod = entity.has_bare_pod or pod.kind == "Pod"
    return [entities[name] for name in sorted(entities)]


def connectivity_matrix(
    loaded: LoadedCluster,
    settings: Settings,
    group_by: GroupBy = GroupBy.POD,
    ports: Sequence[MatrixPort] = (),
    explain_limit: int = EXPLAIN_LIMIT,
    detail_limit: int = DETAIL_LIMIT,
) -> ConnectivityMatrix:
    """Who reaches whom among the existing pods, grouped as asked.

    Without `ports` a cell is allowed when some port of some protocol is open; with `ports`
    there is one cell per pair and port. Raises `MatrixError` on a soundness bug.
    """
    cluster = loaded.cluster
    verdicts = _Verdicts(cluster, settings)
    entities = _entities(cluster, group_by)
    for entity in entities:
        for pod in entity.pods:
            entity.class_bits |= 1 << verdicts.class_of[id(pod)]
    probes = verdicts.probes()
    asked: list[list[tuple[Protocol, int]]] = (
        [[(port.protocol, port.port)] for port in ports] if ports else [probes]
    )
    row_sets = []
    for port_probes in asked:
        rows = [0] * len(verdicts.classes)
        for protocol, number in port_probes:
            for index, row in enumerate(verdicts.rows(protocol, number)):
                rows[index] |= row
        row_sets.append(rows)
    explained = len(entities) ** 2 * len(asked) <= explain_limit
    cells: list[MatrixCell] = []
    for port_index, rows in enumerate(row_sets):
        port = ports[port_index] if ports else None
        for source in entities:
            for destination in entities:
                allowed = (source is destination and source.has_bare_pod) or any(
                    rows[index] & destination.class_bits
                    for index in verdicts.indices(source.class_bits)
                )
                witness = None
                if allowed and explained:
                    witness = _witness(verdicts, rows, source, destination, asked[port_index])
                cells.append(
                    MatrixCell(
                        source=source.name,
                        destination=destination.name,
                        protocol=None if port is None else port.protocol,
                        port=None if port is None else port.port,
                        allowed=allowed,
                        witness=witness,
                    )
                )
    return ConnectivityMatrix(
        group_by=group_by,
        entities=tuple(
            MatrixEntity(
                name=entity.name,
                namespace=entity.namespace,
                pods=tuple(pod_name(pod) for pod in entity.pods),
            )
            for entity in entities
        ),
        ports=tuple(ports),
        cells=tuple(cells),
        explained=explained,
        pod_rows=(_pod_rows(verdicts, row_sets) if len(cluster.pods) <= detail_limit else None),
        classes=len(verdicts.classes),
        assumptions=(
            *assumptions(cluster, settings),
            "a pod with several addresses uses its first one",
        ),
        sources=loaded.sources,
    )


def _witness(
    verdicts: _Verdicts,
    rows: list[int],
    source: _Entity,
    destination: _Entity,
    probes: list[tuple[Protocol, int]],
) -> MatrixWitness:
    """A confirmed allowed flow between a pod of `source` and a pod of `destination`."""
    for pod in source.pods:
        source_class = verdicts.class_of[id(pod)]
        reached = rows[source_class] & destination.class_bits
        if not reached:
            continue
        for other in destination.pods:
            destination_class = verdicts.class_of[id(other)]
            if (other is pod and pod.kind == "Pod") or not (reached >> destination_class) & 1:
                continue
            for protocol, number in probes:
                if verdicts.pair_allowed(source_class, destination_class, protocol, number):
                    return _confirmed(verdicts, pod, other, protocol, number)
            raise MatrixError(f"no open port found for {pod_name(pod)} -> {pod_name(other)}")
    pod = next(pod for pod in source.pods if pod.kind == "Pod" and source is destination)
    protocol, number = probes[0]
    return _confirmed(verdicts, pod, pod, protocol, number)


def _confirmed(
    verdicts: _Verdicts, source: Pod, destination: Pod, protocol: Protocol, port: int
) -> MatrixWitness:
    """Replay the flow through the reference evaluator (with the two namespaces' policies,
    the only ones that can select either end)."""
    flow = Flow(
        source=_endpoint(verdicts.namespaces[source.namespace], source),
        destination=_endpoint(verdicts.namespaces[destination.namespace], destination),
        protocol=protocol,
        port=port,
    )
    policies = verdicts.namespace_policies(source.namespace, destination.namespace)
    decision = evaluate(Cluster.model_construct(policies=policies), flow, verdicts.settings)
    if not decision.allowed:
        raise MatrixError(
            f"the flow {pod_name(source)} -> {pod_name(destination)} {protocol.value}/{port} is "
            "allowed by the matrix but blocked by the reference evaluator (a soundness bug; "
            "please report it)"
        )
    return MatrixWitness(
        source=pod_name(source),
        destination=pod_name(destination),
        protocol=protocol,
        port=port,
        self_traffic=decision.self_traffic,
        allowed_by=(
            ()
            if decision.self_traffic
            else (*decision.egress.allowed_by, *decision.ingress.allowed_by)
        ),
    )


def _pod_rows(verdicts: _Verdicts, row_sets: list[list[int]]) -> PodRows:
    pods = sorted(verdicts.cluster.pods, key=pod_name)
    position = {id(pod): index for index, pod in enumerate(pods)}
    class_pods = [0] * len(verdicts.classes)
    for pod in pods:
        class_pods[verdicts.class_of[id(pod)]] |= 1 << position[id(pod)]
    rows = []
    for class_rows in row_sets:
        by_class = [
            verdicts._or(class_pods[d] for d in verdicts.indices(row)) for row in class_rows
        ]
        port_rows = []
        for index, pod in enumerate(pods):
            bits = by_class[verdicts.class_of[id(pod)]]
            if pod.kind == "Pod":
                bits |= 1 << index
            port_rows.append(format(bits, "x"))
        rows.append(tuple(port_rows))
    return PodRows(
        pods=tuple(pod_name(pod) for pod in pods),
        namespaces=tuple(pod.namespace for pod in pods),
        rows=tuple(rows),
    )


def parse_matrix_port(text: str) -> MatrixPort:
    """`80`, `80/TCP`, `53/UDP`; raises `InputError` otherwise."""
    number, _, protocol = text.partition("/")
    protocol = protocol or Protocol.TCP.value
    if (
        not number.isdigit()
        or not 1 <= int(number) <= MAX_PORT
        or protocol not in {p.value for p in Protocol}
    ):
        raise InputError(
            [
                Diagnostic(
                    severity=Severity.ERROR,
                    message=f"--port {text!r}: expected PORT[/PROTOCOL], e.g. 80/TCP or 53/UDP "
                    "(a number from 1 to 65535; TCP, UDP or SCTP in capitals)",
                )
            ]
        )
    return MatrixPort(protocol=Protocol(protocol), port=int(number))
