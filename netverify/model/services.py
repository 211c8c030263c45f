"""Services: a stable address and ports in front of the pods their selector picks.

NetworkPolicy is enforced after a Service's address translation: a flow to a Service port
is, to policies, a flow to one backend pod on the mapped target port. Backends come from the
selector matched against the loaded pods of the Service's namespace (EndpointSlices are not
read), hostNetwork pods included.
"""

from collections.abc import Iterable

from netverify.model.base import Frozen
from netverify.model.decision import Explanation
from netverify.model.flow import Endpoint, Flow, PodEndpoint
from netverify.model.objects import IPAddress, Pod, Protocol


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

    def __str__(self) -> str:
        return f"{self.namespace}/Service/{self.name}"

    def backends(self, pods: Iterable[Pod]) -> tuple[Pod, ...]:
        """The pods of the Service's namespace its selector matches (an empty selector
        matches none: the API server manages no endpoints for it)."""
        if not self.selector:
            return ()
        selector = self.selector
        return tuple(
            pod
            for pod in pods
            if pod.namespace == self.namespace
            and all(pod.labels.get(key) == value for key, value in selector.items())
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
