"""Namespaces and pods: the endpoints that policies select and that flows connect."""

from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from netverify.model.base import Frozen

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every namespace, with the namespace's name as value."""


class Protocol(StrEnum):
    """The protocols a NetworkPolicy port can name (case matters in the API)."""

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


PROTOCOLS: tuple[Protocol, ...] = tuple(Protocol)
"""Every protocol, in the order the encoding numbers them and messages list them."""

MAX_PORT = 65535
"""The highest port number (0 is no port a policy or container can name)."""


class ContainerPort(Frozen):
    """A `containerPort` of a pod; only named ones matter to policies, but all are kept."""

    name: str | None = None
    port: int
    protocol: Protocol = Protocol.TCP


class Namespace(Frozen):
    """A namespace with its labels, including `kubernetes.io/metadata.name`."""

    name: str
    labels: dict[str, str] = {}
    defined: bool = True
    """False when no Namespace object was loaded and the namespace exists only because
    something in it was."""
    exists: bool = True
    """False for a namespace that could be created: a witness's stand-in, whose name is
    only one such namespace could have."""


class Pod(Frozen):
    """A pod, or one representative pod of a workload's template."""

    namespace: str
    name: str | None
    """None for a pod that is not in the manifests but could be created."""
    kind: str = "Pod"
    """`Pod`, or the workload kind (`Deployment`, ...) whose template this pod stands for, or
    the custom resource kind (`Prometheus`, ...) whose operator-rendered pods it stands for."""
    labels: dict[str, str] = {}
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[IPAddress, ...] = ()
    """Known addresses (`status.podIP`/`podIPs`); empty when the manifests do not say."""
    host_network: bool = False
    """`hostNetwork: true` pods are outside NetworkPolicy: never selected, never matched by a
    pod or namespace selector; their traffic is the node's."""
    node_name: str | None = None
    """`spec.nodeName`: the node the pod is bound to; None when the manifests do not say, and
    then the pod may share a node with any other pod."""
    owner: str | None = None
    """The workload that owns a bare Pod (its controller `ownerReference`), as `Kind/name`;
    a ReplicaSet with the pod's `pod-template-hash` stands for its Deployment."""
    replicas: int | None = None
    """How many pods a workload runs (`spec.replicas`, 1 when not written); None for a bare
    Pod and for a workload whose manifest does not fix it (DaemonSet, Job, CronJob)."""

    @property
    def identity(self) -> tuple[str, str, str | None]:
        """What tells two existing pods apart: namespace, kind and name."""
        return self.namespace, self.kind, self.name


class Settings(Frozen):
    """Choices about semantics that Kubernetes leaves to the network plugin."""

    ip_block_matches_pods: bool = True
    """Whether `ipBlock` peers match pod IPs (upstream conformance: yes; Cilium: no)."""
    pod_cidrs: tuple[IPNetwork, ...] = ()
    """Where pods without a known IP get their addresses; empty means such pods never match
    an `ipBlock`."""
    admin_priority_max: int | None = None
    """The highest AdminNetworkPolicy priority the plugin enforces (OVN-Kubernetes: 99);
    None: every priority the API allows. Only a profile sets it."""


class ForeignObject(Frozen):
    """An object of a kind netverify reads no further than its identity."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name} ({self.api_version})"


class UnmodelledObject(ForeignObject):
    """An object that carries network policy netverify does not model (Calico, ANP, ...)."""

    digest: str = ""
    """A hash of its `spec` as read: two revisions of the object differ where it differs
    (`diff` cannot say how, only that connectivity may have changed)."""


class SkippedObject(ForeignObject):
    """A custom resource netverify does not turn into pods, though its controller may create
    some (an operator's `ThanosRuler`, ...)."""
