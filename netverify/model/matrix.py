"""What `netverify matrix` produces: who can reach whom among the existing pods.

A matrix has one row and one column per entity (a namespace, a workload or a pod, as asked)
and one cell per ordered pair of entities and per asked port (or one "some port" cell per
pair). The engine describes it (`ConnectivityMatrix`) and then yields its rows one at a time
(`MatrixRow`); each format's `format_matrix` (`netverify.report`) writes the rows as they
come, so that memory does not grow with the number of cells.
"""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.objects import Protocol
from netverify.model.refs import RuleRef, SourceMap


class GroupBy(StrEnum):
    """What one row (and column) of the matrix stands for."""

    NAMESPACE = "namespace"
    WORKLOAD = "workload"
    """Pods of one namespace sharing an `app.kubernetes.io/name`, `app` or `k8s-app` label
    (a pod without one is its own workload)."""
    POD = "pod"
    """Each loaded Pod, and each workload as the one pod of its template."""
    SERVICE = "service"
    """Each Service with backends, as its backends (`ns/Service/name`; a pod may back
    several), and each pod that backs no Service as itself (`ns/name`), so that clients
    still appear. Cells are pod to pod: the ports are target ports, not Service ports."""


class MatrixPort(Frozen):
    """One destination port the matrix was asked about."""

    protocol: Protocol
    port: int

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol.value}"


class MatrixEntity(Frozen):
    """A row and a column: a namespace, a workload, a Service or a pod."""

    name: str
    """`ns` for a namespace, `ns/name` for a workload or a pod, `ns/Service/name` for a
    Service."""
    namespace: str
    pods: tuple[str, ...]
    """The pods it stands for, as `ns/name`."""


class MatrixWitness(Frozen):
    """One allowed flow behind an allowed cell, confirmed by the reference evaluator."""

    source: str
    """The source pod, `ns/name`."""
    destination: str
    protocol: Protocol
    port: int
    self_traffic: bool = False
    """A pod's traffic to itself (always allowed)."""
    node_local: bool = False
    """Traffic between a node (a hostNetwork pod) and a pod on it (always allowed)."""
    allowed_by: tuple[RuleRef, ...] = ()
    """The egress and ingress rules that admit the flow (none on a side no policy isolates)."""


class MatrixRow(Frozen):
    """The cells of one source entity for one asked port (or for "some port"): one per
    destination entity, in the order of `ConnectivityMatrix.entities`."""

    source: str
    port: MatrixPort | None = None
    """The asked port; None means "on some port of some protocol"."""
    allowed: tuple[bool, ...]
    """Per destination: whether some pod of `source` can reach some pod of it."""
    witnesses: tuple[MatrixWitness | None, ...] = ()
    """Per destination, a witness of an allowed cell; empty when the matrix is too large to
    explain every cell."""

    def witness(self, destination: int) -> MatrixWitness | None:
        """The witness of the cell to the `destination`-th entity, if any."""
        return self.witnesses[destination] if self.witnesses else None


class PodRows(Frozen):
    """Pod-level verdicts in compact form, for drill-down in interactive formats.

    `rows[k][i]` is a hexadecimal bit set over `pods`: bit j set means pod i reaches pod j on
    `ports[k]` (on some port when no ports were asked).
    """

    pods: tuple[str, ...]
    namespaces: tuple[str, ...]
    """The namespace of each pod, in the same order."""
    rows: tuple[tuple[str, ...], ...]


class ConnectivityMatrix(Frozen):
    """The reachability matrix of the existing pods under the loaded policies, but for its
    cells: those come as `MatrixRow`s, for each port in `ports` order, then by source."""

    group_by: GroupBy
    entities: tuple[MatrixEntity, ...]
    ports: tuple[MatrixPort, ...] = ()
    """The asked ports; empty means each cell says whether some port is open."""
    explained: bool
    """Whether allowed cells carry a witness (skipped for very large matrices)."""
    pod_rows: PodRows | None = None
    """Pod-level detail, when the cluster is small enough to embed it."""
    classes: int = 0
    """How many groups of pods no policy can tell apart the verdicts were computed over."""
    assumptions: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    """Cells that policy objects netverify does not model may decide otherwise than shown,
    in words (one note per namespace, or every cell); admin policies whose order the API
    leaves open (a cell shown allowed may be blocked in another order) and those with
    `domainNames` peers; and cells with an end among pods without a known address that an
    ipBlock or networks peer may match at the addresses `podCIDRs` give them."""
    sources: SourceMap = SourceMap()

    @property
    def cell_count(self) -> int:
        """Every ordered pair of entities, for each asked port (or once)."""
        return len(self.entities) ** 2 * max(1, len(self.ports))
