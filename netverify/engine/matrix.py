"""The connectivity matrix of the existing pods: who can reach whom, on which ports.

Pods that no policy can tell apart (same namespace, same codes for the labels selectors
mention, same named ports, hostNetwork, same CIDR signature of their first address) form one
class, and verdicts are computed per pair of classes on bit sets (`netverify.engine.bitsets`),
one probe per segment of ports that no rule tells apart.

Every allowed cell that is explained gets a witness flow between two concrete pods, replayed
through the reference evaluator; a disagreement is an internal error, never a verdict.

A hostNetwork pod and a pod that may run on its node reach each other on every port
(node-local traffic), whatever the bit sets say: such pairs are allowed cells too, unless an
admin tier blocks it.

With admin policies, the pairs they may decide are decided by the reference evaluator
instead (`netverify.engine.tierbits`).

The cells are not kept: a 5,000-pod matrix has 25 million. `MatrixComputation` keeps the
verdicts per class and computes each source's row when it is asked for.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from netverify.engine.bitsets import ClassVerdicts
from netverify.engine.replay import ReplayMismatch
from netverify.engine.scope import assumptions
from netverify.engine.tierbits import class_verdicts, tier_assumptions, unordered_policies
from netverify.engine.tiers import domain_policies
from netverify.engine.unmodelled import undecided_cells
from netverify.model import (
    Cluster,
    Flow,
    LoadedCluster,
    Pod,
    Protocol,
    Settings,
    Tier,
    pod_at_first_address,
    short_name,
)
from netverify.model.matrix import (
    ConnectivityMatrix,
    GroupBy,
    MatrixEntity,
    MatrixPort,
    MatrixRow,
    MatrixWitness,
    PodRows,
)
from netverify.semantics.addresses import alike_address, mentioned_networks
from netverify.semantics.evaluator import may_share_node

EXPLAIN_LIMIT = 20_000
"""Matrices with more cells than this carry no witnesses (each costs a replay)."""
DETAIL_LIMIT = 1_500
"""Clusters with more pods than this carry no pod-level detail."""


def pod_name(pod: Pod) -> str:
    """`ns/name` (a workload is named like the pod of its template)."""
    return f"{pod.namespace}/{pod.name}"


@dataclass
class _Entity:
    name: str
    namespace: str
    pods: list[Pod]
    class_bits: int = 0
    has_bare_pod: bool = False
    host_network: bool = False


def _entities(cluster: Cluster, group_by: GroupBy) -> list[_Entity]:
    entities: dict[str, _Entity] = {}
    if group_by is GroupBy.SERVICE:
        for service in cluster.services:
            for pod in service.backends(cluster.pods):
                _add(entities, f"{service.namespace}/Service/{service.name}", pod)
    grouped = {id(pod) for entity in entities.values() for pod in entity.pods}
    workload_names = _workload_names(cluster.pods) if group_by is GroupBy.WORKLOAD else {}
    for pod in cluster.pods:
        match group_by:
            case GroupBy.NAMESPACE:
                name = pod.namespace
            case GroupBy.POD | GroupBy.SERVICE:
                name = pod_name(pod)
            case GroupBy.WORKLOAD:
                name = workload_names[_workload(pod)]
        if id(pod) not in grouped:
            _add(entities, name, pod)
    return [entities[name] for name in sorted(entities)]


def _workload(pod: Pod) -> tuple[str, str, str]:
    """The workload a pod belongs to, as (namespace, kind, name): a workload's template pod
    is its own; a bare Pod belongs to the workload owning it, else to itself."""
    if pod.kind == "Pod" and pod.owner is not None:
        kind, _, name = pod.owner.partition("/")
        return pod.namespace, kind, name
    return pod.namespace, pod.kind, pod.name or ""


def _workload_names(pods: Sequence[Pod]) -> dict[tuple[str, str, str], str]:
    """Each workload's row name as `explain` and specs take it: `ns/name`, or `ns/Kind/name`
    where workloads of different kinds share the name."""
    workloads = {_workload(pod) for pod in pods}
    kinds: dict[tuple[str, str], int] = {}
    for namespace, _, name in workloads:
        kinds[(namespace, name)] = kinds.get((namespace, name), 0) + 1
    return {
        (namespace, kind, name): (
            f"{namespace}/{name}" if kinds[(namespace, name)] == 1 else f"{namespace}/{kind}/{name}"
        )
        for namespace, kind, name in workloads
    }


def _add(entities: dict[str, _Entity], name: str, pod: Pod) -> None:
    entity = entities.setdefault(name, _Entity(name=name, namespace=pod.namespace, pods=[]))
    entity.pods.append(pod)
    entity.has_bare_pod = entity.has_bare_pod or pod.kind == "Pod"
    entity.host_network = entity.host_network or pod.host_network


def _given_addresses(cluster: Cluster, settings: Settings) -> tuple[Cluster, tuple[str, ...]]:
    """The cluster as the bit sets should see it where `podCIDRs` give addresses to pods
    without a known one (not hostNetwork pods: their node's): when the policies' ipBlock
    and networks CIDRs treat every address of the pod CIDRs alike, such pods at one of them
    (exact); when they tell them apart, as they are, at no address, with a note that cells
    with such an end may differ (`explain` decides a flow at every address)."""
    unknown = [pod for pod in cluster.pods if not pod.ips and not pod.host_network]
    networks = mentioned_networks(cluster)
    if not unknown or not any(
        network.version == cidr.version and network.overlaps(cidr)
        for network in networks
        for cidr in settings.pod_cidrs
    ):
        return cluster, ()
    address = alike_address(settings.pod_cidrs, networks)
    if address is not None:
        pods = tuple(
            pod.model_copy(update={"ips": (address,)})
            if not pod.ips and not pod.host_network
            else pod
            for pod in cluster.pods
        )
        return cluster.model_copy(update={"pods": pods}), ()
    cidrs = ", ".join(map(str, settings.pod_cidrs))
    count = len(unknown)
    return cluster, (
        f"cells with an end among the {count} pod{'s' if count > 1 else ''} "
        "without a known address may differ from what is shown: they are shown matching no "
        f"ipBlock or networks peer, but have addresses in the pod CIDRs {cidrs}, which such "
        "peers tell apart (explain decides a flow at every address; status.podIP gives a pod "
        "its own)",
    )


def _domain_notes(cluster: Cluster) -> tuple[str, ...]:
    """One note per admin policy with `domainNames` peers: the cells are computed with them
    matching no address, and a name may resolve to any external address or to a pod's
    (`tiers.ANY_DESTINATION`), whether or not the manifests give it."""
    return tuple(
        f"{short_name(policy.ref)} accepts egress to `domainNames`, which netverify cannot "
        "resolve: a cell from a pod it selects shown blocked may be allowed, to a pod too, "
        "whether or not its address is known (a pod's or a headless Service's DNS name "
        "resolves to pod addresses; explain says unknown where a name's address would decide)"
        for policy in domain_policies(cluster)
    )


ON_OPEN_ORDER = "a cell is allowed when some order allows it"


def _open_order_notes(cluster: Cluster) -> tuple[str, ...]:
    """One note per tier whose policies the API leaves (partly) unordered, naming them: a
    cell they decide differently is shown allowed when some order allows it."""
    notes = []
    for tier in Tier:
        unordered = unordered_policies(cluster.tier(tier))
        if unordered:
            names = ", ".join(short_name(policy.ref) for policy in unordered)
            notes.append(
                f"{tier} tier policies with no defined order against another (equal "
                f"priority, or the other API version): {names}; {ON_OPEN_ORDER} (explain "
                "shows each order)"
            )
    return tuple(notes)


class MatrixComputation:
    """A connectivity matrix being computed: its description (`matrix`) at once, its rows
    one at a time (`rows()`), so that a caller writing them out holds one row, not every
    cell.

    Without `ports` a cell is allowed when some port of some protocol is open; with `ports`
    there is one cell per pair and port. Computing a row raises `ReplayMismatch` on a
    soundness bug.
    """

    def __init__(
        self,
        loaded: LoadedCluster,
        settings: Settings,
        group_by: GroupBy = GroupBy.POD,
        ports: Sequence[MatrixPort] = (),
        explain_limit: int = EXPLAIN_LIMIT,
        detail_limit: int = DETAIL_LIMIT,
    ) -> None:
        cluster, address_notes = _given_addresses(loaded.cluster, settings)
        self._verdicts = verdicts = class_verdicts(cluster, settings)
        self._entities = _entities(cluster, group_by)
        for entity in self._entities:
            for pod in entity.pods:
                entity.class_bits |= 1 << verdicts.class_of[id(pod)]
        self._ports = tuple(ports)
        self._asked: list[list[tuple[Protocol, int]]] = (
            [[(port.protocol, port.port)] for port in ports] if ports else [verdicts.probes()]
        )
        self._row_sets = []
        for port_probes in self._asked:
            rows = [0] * len(verdicts.classes)
            for protocol, number in port_probes:
                for index, row in enumerate(verdicts.rows(protocol, number)):
                    rows[index] |= row
            self._row_sets.append(rows)
        explained = len(self._entities) ** 2 * len(self._asked) <= explain_limit
        self.matrix = ConnectivityMatrix(
            group_by=group_by,
            entities=tuple(
                MatrixEntity(
                    name=entity.name,
                    namespace=entity.namespace,
                    pods=tuple(pod_name(pod) for pod in entity.pods),
                )
                for entity in self._entities
            ),
            ports=self._ports,
            explained=explained,
            pod_rows=(
                _pod_rows(verdicts, self._row_sets, self._asked)
                if len(cluster.pods) <= detail_limit
                else None
            ),
            classes=len(verdicts.classes),
            assumptions=(
                *assumptions(cluster, settings),
                "a pod with several addresses uses its first one",
                *tier_assumptions(cluster, ON_OPEN_ORDER),
            ),
            undecided=(
                *undecided_cells(cluster),
                *_open_order_notes(cluster),
                *_domain_notes(cluster),
                *address_notes,
            ),
            sources=loaded.sources,
        )

    def rows(self) -> Iterator[MatrixRow]:
        """Every row, for each port in `ports` order, then by source; each is computed when
        it is asked for."""
        for port_index in range(len(self._asked)):
            for source_index in range(len(self._entities)):
                yield self.row(port_index, source_index)

    def row(self, port_index: int, source_index: int) -> MatrixRow:
        """The cells of the `source_index`-th entity on the `port_index`-th asked port."""
        verdicts = self._verdicts
        rows = self._row_sets[port_index]
        source = self._entities[source_index]
        reached = verdicts._or(rows[index] for index in verdicts.indices(source.class_bits))
        allowed = [
            (destination is source and source.has_bare_pod)
            or bool(reached & destination.class_bits)
            for destination in self._entities
        ]
        probes = self._asked[port_index]
        node_flows: dict[int, tuple[Pod, Pod, Protocol, int]] = {}
        for index, destination in enumerate(self._entities):
            if not allowed[index] and (source.host_network or destination.host_network):
                node_flow = _node_local_flow(verdicts, source, destination, probes)
                if node_flow is not None:
                    node_flows[index] = node_flow
                    allowed[index] = True
        witnesses: list[MatrixWitness | None] = []
        if self.matrix.explained:
            for index, destination in enumerate(self._entities):
                node_flow = node_flows.get(index)
                if node_flow is not None:
                    witnesses.append(_confirmed(verdicts, *node_flow, same_node=True))
                elif allowed[index]:
                    witnesses.append(_witness(verdicts, rows, source, destination, probes))
                else:
                    witnesses.append(None)
        return MatrixRow(
            source=source.name,
            port=self._ports[port_index] if self._ports else None,
            allowed=tuple(allowed),
            witnesses=tuple(witnesses),
        )


def _witness(
    verdicts: ClassVerdicts,
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
            raise ReplayMismatch(f"no open port found for {pod_name(pod)} -> {pod_name(other)}")
    pod = next(pod for pod in source.pods if pod.kind == "Pod" and source is destination)
    protocol, number = probes[0]
    return _confirmed(verdicts, pod, pod, protocol, number)


def _node_local_flow(
    verdicts: ClassVerdicts,
    source: _Entity,
    destination: _Entity,
    probes: list[tuple[Protocol, int]],
) -> tuple[Pod, Pod, Protocol, int] | None:
    """Two different pods of the entities and a probe on which their traffic, node-local on
    some node, is allowed."""
    return next(
        (
            (first, second, protocol, number)
            for first in source.pods
            for second in destination.pods
            if first is not second
            and (first.host_network or second.host_network)
            and may_share_node(first, second)
            for protocol, number in probes
            if verdicts.node_local_allowed(first, second, protocol, number)
        ),
        None,
    )


def _confirmed(
    verdicts: ClassVerdicts,
    source: Pod,
    destination: Pod,
    protocol: Protocol,
    port: int,
    same_node: bool = False,
) -> MatrixWitness:
    """Replay the flow through the reference evaluator."""
    flow = Flow(
        source=pod_at_first_address(verdicts.namespaces[source.namespace], source),
        destination=pod_at_first_address(verdicts.namespaces[destination.namespace], destination),
        protocol=protocol,
        port=port,
        same_node=same_node,
    )
    decision = verdicts.decide(flow)
    if not decision.allowed:
        raise ReplayMismatch(
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
        node_local=decision.node_local,
        allowed_by=(
            ()
            if decision.self_traffic or decision.node_local
            else tuple(
                rule
                for side in (decision.egress, decision.ingress)
                for rule in (
                    *side.allowed_by,
                    *((side.admin_rule.rule,) if side.admin_rule is not None else ()),
                )
            )
        ),
    )


def _node_local_rows(
    verdicts: ClassVerdicts, pods: list[Pod], probes: list[tuple[Protocol, int]]
) -> list[int]:
    """Per pod, the bits of the other pods it reaches node-locally on some probe."""
    rows = [0] * len(pods)
    hosts = [index for index, pod in enumerate(pods) if pod.host_network]
    for host in hosts:
        for index, pod in enumerate(pods):
            if index != host and may_share_node(pods[host], pod):
                for first, second, bit in ((host, index, 1 << index), (index, host, 1 << host)):
                    if any(
                        verdicts.node_local_allowed(pods[first], pods[second], *probe)
                        for probe in probes
                    ):
                        rows[first] |= bit
    return rows


def _pod_rows(
    verdicts: ClassVerdicts, row_sets: list[list[int]], asked: list[list[tuple[Protocol, int]]]
) -> PodRows:
    pods = sorted(verdicts.cluster.pods, key=pod_name)
    position = {id(pod): index for index, pod in enumerate(pods)}
    class_pods = [0] * len(verdicts.classes)
    for pod in pods:
        class_pods[verdicts.class_of[id(pod)]] |= 1 << position[id(pod)]
    rows = []
    for class_rows, probes in zip(row_sets, asked, strict=True):
        node_local = _node_local_rows(verdicts, pods, probes)
        by_class = [
            verdicts._or(class_pods[d] for d in verdicts.indices(row)) for row in class_rows
        ]
        port_rows = []
        for index, pod in enumerate(pods):
            bits = by_class[verdicts.class_of[id(pod)]] | node_local[index]
            if pod.kind == "Pod":
                bits |= 1 << index
            port_rows.append(format(bits, "x"))
        rows.append(tuple(port_rows))
    return PodRows(
        pods=tuple(pod_name(pod) for pod in pods),
        namespaces=tuple(pod.namespace for pod in pods),
        rows=tuple(rows),
    )
