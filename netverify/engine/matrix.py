"""The connectivity matrix of the existing pods: who can reach whom, on which ports.

Pods that no policy can tell apart (same namespace, same codes for the labels selectors
mention, same named ports, hostNetwork, same CIDR signature of their first address) form one
class, and verdicts are computed per pair of classes on bit sets (`netverify.engine.bitsets`),
one probe per segment of ports that no rule tells apart.

Every allowed cell that is explained gets a witness flow between two concrete pods, replayed
through the reference evaluator; a disagreement is an internal error, never a verdict.

A hostNetwork pod and a pod that may run on its node reach each other on every port
(node-local traffic), whatever the bit sets say: such pairs are allowed cells too.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from netverify.engine.bitsets import ClassVerdicts
from netverify.engine.replay import ReplayMismatch
from netverify.engine.scope import assumptions
from netverify.model import (
    Cluster,
    Flow,
    LoadedCluster,
    Pod,
    Protocol,
    Settings,
    pod_at_first_address,
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
from netverify.semantics import evaluate
from netverify.semantics.evaluator import may_share_node

EXPLAIN_LIMIT = 20_000
"""Matrices with more cells than this carry no witnesses (each costs a replay)."""
DETAIL_LIMIT = 1_500
"""Clusters with more pods than this carry no pod-level detail."""
WORKLOAD_LABELS = ("app.kubernetes.io/name", "app", "k8s-app")
"""Labels that name a workload, in order of preference (`--group-by workload`)."""


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


def _entities(cluster: Cluster, group_by: GroupBy) -> list[_Entity]:
    entities: dict[str, _Entity] = {}
    if group_by is GroupBy.SERVICE:
        for service in cluster.services:
            for pod in service.backends(cluster.pods):
                _add(entities, f"{service.namespace}/Service/{service.name}", pod)
    grouped = {id(pod) for entity in entities.values() for pod in entity.pods}
    for pod in cluster.pods:
        match group_by:
            case GroupBy.NAMESPACE:
                name = pod.namespace
            case GroupBy.POD | GroupBy.SERVICE:
                name = pod_name(pod)
            case GroupBy.WORKLOAD:
                label = next((pod.labels[k] for k in WORKLOAD_LABELS if k in pod.labels), None)
                name = f"{pod.namespace}/{label if label is not None else pod.name}"
        if id(pod) not in grouped:
            _add(entities, name, pod)
    return [entities[name] for name in sorted(entities)]


def _add(entities: dict[str, _Entity], name: str, pod: Pod) -> None:
    entity = entities.setdefault(name, _Entity(name=name, namespace=pod.namespace, pods=[]))
    entity.pods.append(pod)
    entity.has_bare_pod = entity.has_bare_pod or pod.kind == "Pod"


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
    there is one cell per pair and port. Raises `ReplayMismatch` on a soundness bug.
    """
    cluster = loaded.cluster
    verdicts = ClassVerdicts(cluster, settings)
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
                by_policy = (source is destination and source.has_bare_pod) or any(
                    rows[index] & destination.class_bits
                    for index in verdicts.indices(source.class_bits)
                )
                node_pair = None if by_policy else _node_local_pair(source, destination)
                allowed = by_policy or node_pair is not None
                witness = None
                if node_pair is not None and explained:
                    protocol, number = asked[port_index][0]
                    witness = _confirmed(verdicts, *node_pair, protocol, number, same_node=True)
                elif allowed and explained:
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


def _node_local_pair(source: _Entity, destination: _Entity) -> tuple[Pod, Pod] | None:
    """Two different pods of the entities whose traffic is node-local on some node."""
    if not any(pod.host_network for pod in (*source.pods, *destination.pods)):
        return None
    return next(
        (
            (first, second)
            for first in source.pods
            for second in destination.pods
            if first is not second
            and (first.host_network or second.host_network)
            and may_share_node(first, second)
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
    """Replay the flow through the reference evaluator (with the two namespaces' policies,
    the only ones that can select either end)."""
    flow = Flow(
        source=pod_at_first_address(verdicts.namespaces[source.namespace], source),
        destination=pod_at_first_address(verdicts.namespaces[destination.namespace], destination),
        protocol=protocol,
        port=port,
        same_node=same_node,
    )
    policies = verdicts.namespace_policies(source.namespace, destination.namespace)
    decision = evaluate(Cluster.model_construct(policies=policies), flow, verdicts.settings)
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
            else (*decision.egress.allowed_by, *decision.ingress.allowed_by)
        ),
    )


def _node_local_rows(pods: list[Pod]) -> list[int]:
    """Per pod, the bits of the other pods it reaches node-locally (on every port)."""
    rows = [0] * len(pods)
    hosts = [index for index, pod in enumerate(pods) if pod.host_network]
    for host in hosts:
        for index, pod in enumerate(pods):
            if index != host and may_share_node(pods[host], pod):
                rows[host] |= 1 << index
                rows[index] |= 1 << host
    return rows


def _pod_rows(verdicts: ClassVerdicts, row_sets: list[list[int]]) -> PodRows:
    pods = sorted(verdicts.cluster.pods, key=pod_name)
    position = {id(pod): index for index, pod in enumerate(pods)}
    class_pods = [0] * len(verdicts.classes)
    for pod in pods:
        class_pods[verdicts.class_of[id(pod)]] |= 1 << position[id(pod)]
    node_local = _node_local_rows(pods)
    rows = []
    for class_rows in row_sets:
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
