"""Services: a stable address and ports in front of the pods their selector picks.

NetworkPolicy is enforced after a Service's address translation: a flow to a Service port
is, to policies, a flow to one backend pod on the mapped target port. Backends come from the
selector matched against the loaded pods of the Service's namespace, hostNetwork pods
included; a Service without a selector has the pods its EndpointSlices list (by `targetRef`,
else by address), on the ports those slices give.
"""

from collections.abc import Iterable

from netverify.model.base import Frozen
from netverify.model.decision import Explanation
from netverify.model.flow import Endpoint, Flow, PodEndpoint
from netverify.model.objects import ContainerPort, IPAddress, Pod, Protocol


class ServicePort(Frozen):
    """One entry of `spec.ports`: `port` on the Service, `targetPort` on each backend."""

    name: str | None = None
    port: int
    protocol: Protocol = Protocol.TCP
    target_port: int | str
    """A number, or the name of a backend's containerPort (resolved per backend pod);
    defaulted to `port` as the API server does."""

    def target_on(self, pod: Pod) -> int | None:
        """The port this Service port reaches on `pod`; None when a named `targetPort` is
        no containerPort of the pod with this protocol (the pod is then no backend of it)."""
        if isinstance(self.target_port, int):
            return self.target_port
        return next(
            (
                port.port
                for port in pod.ports
                if port.name == self.target_port and port.protocol == self.protocol
            ),
            None,
        )

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol.value}"


SERVICE_NAME_LABEL = "kubernetes.io/service-name"
"""The label that ties an EndpointSlice to its Service."""


class SliceEndpoint(Frozen):
    """One ready endpoint of an EndpointSlice."""

    addresses: tuple[str, ...]
    """IP addresses, or domain names in an `FQDN` slice."""
    pod: tuple[str, str] | None = None
    """Namespace and name of the Pod its `targetRef` names; None without a Pod `targetRef`."""

    def __str__(self) -> str:
        return f"{self.pod[0]}/{self.pod[1]}" if self.pod else ", ".join(self.addresses)


class EndpointSlice(Frozen):
    """A `discovery.k8s.io/v1` EndpointSlice, as far as it names a Service's backends."""

    namespace: str
    name: str
    service_name: str | None = None
    """Its `kubernetes.io/service-name` label."""
    endpoints: tuple[SliceEndpoint, ...] = ()
    """Endpoints whose `conditions.ready` is not false (kube-proxy sends nothing to others)."""
    ports: tuple[ContainerPort, ...] = ()
    """Where its endpoints serve each Service port: an entry named like the Service port (no
    name for an unnamed one), with the port number on the endpoint."""

    def __str__(self) -> str:
        return f"{self.namespace}/EndpointSlice/{self.name}"


class Service(Frozen):
    """A `v1` Service as far as traffic to it goes."""

    namespace: str
    name: str
    type: str = "ClusterIP"
    selector: dict[str, str] | None = None
    """None when the Service has no selector (its endpoints are managed by hand)."""
    ports: tuple[ServicePort, ...] = ()
    cluster_ips: tuple[IPAddress, ...] = ()
    """`clusterIP`/`clusterIPs`; empty for a headless Service or when not written."""
    endpoint_slices: tuple[EndpointSlice, ...] = ()
    """The loaded EndpointSlices labelled with this Service's name, when it has no selector
    (a selector's slices only repeat what the selector says)."""

    def __str__(self) -> str:
        return f"{self.namespace}/Service/{self.name}"

    def backends(self, pods: Iterable[Pod]) -> tuple[Pod, ...]:
        """The pods of the Service's namespace its selector matches (an empty selector
        matches none: the API server manages no endpoints for it); without a selector, the
        loaded bare pods its EndpointSlices list."""
        if self.selector is None:
            return tuple(pod for pod in pods if self._slice_with(pod) is not None)
        if not self.selector:
            return ()
        selector = self.selector
        return tuple(
            pod
            for pod in pods
            if pod.namespace == self.namespace
            and all(pod.labels.get(key) == value for key, value in selector.items())
        )

    def target_on(self, port: ServicePort, pod: Pod) -> int | None:
        """The port `port` reaches on the backend `pod`: its `targetPort` for a selector's
        backend; for an EndpointSlice's, the slice port of the same name and protocol.
        None when the pod serves no such port (it is then no backend of `port`)."""
        if self.selector is not None:
            return port.target_on(pod)
        found = self._slice_with(pod)
        if found is None:
            return None
        return next(
            (
                entry.port
                for entry in found.ports
                if entry.name == port.name and entry.protocol == port.protocol
            ),
            None,
        )

    def unmatched_endpoints(self, pods: Iterable[Pod]) -> tuple[SliceEndpoint, ...]:
        """Endpoints of its EndpointSlices that are no loaded pod: addresses outside the
        cluster's pods (external backends, which netverify does not model) or pods the
        manifests do not have."""
        bare = [pod for pod in pods if pod.kind == "Pod"]
        return tuple(
            endpoint
            for found in self.endpoint_slices
            for endpoint in found.endpoints
            if not any(_lists(endpoint, pod) for pod in bare)
        )

    def _slice_with(self, pod: Pod) -> EndpointSlice | None:
        """The first of its EndpointSlices that lists `pod` (a bare pod of its namespace)."""
        if pod.kind != "Pod":
            return None
        return next(
            (
                found
                for found in self.endpoint_slices
                if any(_lists(endpoint, pod) for endpoint in found.endpoints)
            ),
            None,
        )

    def find_port(self, text: str, protocol: Protocol | None) -> ServicePort | None:
        """A Service port by its number or its name; a number without a protocol is TCP,
        a name is whatever protocol its port has."""
        if protocol is None and text.isdigit():
            protocol = Protocol.TCP
        return next(
            (
                port
                for port in self.ports
                if text in (str(port.port), port.name) and protocol in (None, port.protocol)
            ),
            None,
        )

    def describe_ports(self) -> str:
        """`53/UDP (dns), 53/TCP (dns-tcp)`, for messages."""
        listed = [str(port) + (f" ({port.name})" if port.name else "") for port in self.ports]
        return ", ".join(listed) or "none"


def _lists(endpoint: SliceEndpoint, pod: Pod) -> bool:
    """Whether `endpoint` is `pod`: its `targetRef` names it, or (without one) one of its
    addresses is the pod's."""
    if endpoint.pod is not None:
        return endpoint.pod == (pod.namespace, pod.name)
    return any(str(ip) in endpoint.addresses for ip in pod.ips)


class BackendFlow(Frozen):
    """A flow to a Service port translated to one backend pod on its target port."""

    backend: PodEndpoint
    flow: Flow


class ServiceFlows(Frozen):
    """A flow to a Service port, as the flows to each of its backends."""

    service: Service
    port: ServicePort
    source: Endpoint
    backends: tuple[BackendFlow, ...]
    """Every backend that serves `port`, in pod order; never empty."""

    def describe(self) -> str:
        """`kube-system/Service/kube-dns 53/UDP -> 2 backends on port 53`."""
        targets = sorted({entry.flow.port for entry in self.backends})
        count = len(self.backends)
        noun = "backend" if count == 1 else "backends"
        on = "port" if len(targets) == 1 else "ports"
        return f"{self.service} {self.port} -> {count} {noun} on {on} " + ", ".join(
            str(target) for target in targets
        )


class ServiceExplanation(Frozen):
    """`explain`'s answer for a flow to a Service: the translation and each backend's."""

    flows: ServiceFlows
    explanations: tuple[Explanation, ...]
    """One per backend, in `flows.backends` order."""

    @property
    def allowed(self) -> bool:
        """Some backend is reachable (a client's connection can succeed)."""
        return any(explanation.allowed for explanation in self.explanations)
