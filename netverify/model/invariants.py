"""Invariants as the engine sees them: resolved, normalised spec entries."""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.labels import LabelSelector
from netverify.model.objects import IPNetwork, Protocol, Settings
from netverify.model.policy import PortRange
from netverify.model.refs import SourceSpan


class InvariantKind(StrEnum):
    """What an invariant demands of the flows it matches."""

    FORBID = "forbid"
    """No matching flow is allowed."""
    REQUIRE = "require"
    """Every matching flow is allowed."""
    REACHABLE = "reachable"
    """At least one matching flow is allowed."""


class PodScope(StrEnum):
    """Which pods an invariant quantifies over."""

    ANY = "any"
    """Every pod that could run, with any labels and named ports."""
    EXISTING = "existing"
    """The pods and workloads in the manifests."""


class NamespaceScope(StrEnum):
    """Which namespaces an invariant quantifies over."""

    EXISTING = "existing"
    ANY = "any"
    """Also namespaces that could be created, with any labels."""


class EndpointPattern(Frozen):
    """One side of an invariant; every given field must match, and the empty pattern matches
    every pod and every external address."""

    namespace_name: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_name: str | None = None
    """An existing pod or workload (checked when the spec is loaded)."""
    pod_kind: str | None = None
    """With `pod_name`: the kind, when a Pod and a workload share the name."""
    pod_selector: LabelSelector | None = None
    ip: IPNetwork | None = None
    """Matches external addresses and pod addresses in this CIDR."""
    external: bool = False
    """Only external addresses: never a pod, not even a hostNetwork one (whose traffic is the
    node's), whatever its address; the loader refuses it beside namespace or pod fields."""

    @property
    def pods_only(self) -> bool:
        """Whether only pods can match (a namespace or pod is named)."""
        return any(
            field is not None
            for field in (
                self.namespace_name,
                self.namespace_selector,
                self.pod_name,
                self.pod_selector,
            )
        )


class PortPattern(Frozen):
    """Destination ports an invariant talks about.

    `protocol` None means any protocol (only for named ports, which carry their own).
    Neither a range nor a name means every port of the protocol.
    """

    protocol: Protocol | None = Protocol.TCP
    port_range: PortRange | None = None
    named_port: str | None = None


class ServiceBackend(Frozen):
    """For an invariant about flows through a Service: the Service and the one backend this
    invariant stands for (a spec invariant `to: {service: ...}` becomes one per backend)."""

    service: str
    """`namespace/name` of the Service."""
    backend: str
    """`namespace/name` of the backend pod or workload."""
    ports: str
    """The Service ports and the target ports they map to on this backend, in words."""


class Invariant(Frozen):
    """One named claim about the flows between two endpoint patterns."""

    name: str
    description: str | None = None
    kind: InvariantKind
    source: EndpointPattern = EndpointPattern()
    destination: EndpointPattern = EndpointPattern()
    ports: tuple[PortPattern, ...] = ()
    """Empty means every port of every protocol."""
    pods: PodScope
    namespaces: NamespaceScope = NamespaceScope.EXISTING
    through: ServiceBackend | None = None
    """Set on the per-backend invariants of a spec invariant about a Service; they share its
    `name`, and their verdicts combine into one (forbid, require: every backend's must hold;
    reachable: some backend's)."""

    @property
    def pods_only(self) -> bool:
        """Whether only pods can be at either end (both patterns name a namespace or pod):
        no flow it matches has an external address."""
        return self.source.pods_only and self.destination.pods_only


class Spec(Frozen):
    """A spec file: which manifests, which settings, which invariants."""

    file: str
    manifests: tuple[str, ...]
    """Paths resolved against the spec file's folder."""
    settings: Settings = Settings()
    invariants: tuple[Invariant, ...] = ()


class LoadedSpec(Frozen):
    """A spec with where each invariant was written (by name)."""

    spec: Spec
    locations: dict[str, SourceSpan] = {}
    profile_settings: dict[str, Settings] = {}
    """The spec's settings under each CNI profile, for `prove --all-profiles`: the profile
    replaced, every other settings source kept."""
