"""Concrete flows: one source, one destination, one protocol and port."""

from typing import Literal

from netverify.model.base import Frozen
from netverify.model.objects import IPAddress, Namespace, Pod, Protocol


class PodEndpoint(Frozen):
    """A pod (existing or one that could exist) in a namespace, using address `ip`."""

    kind: Literal["pod"] = "pod"
    namespace: Namespace
    pod: Pod
    ip: IPAddress | None = None
    """The address this flow uses; None when the pod's address is unknown."""


class ExternalEndpoint(Frozen):
    """An address outside the cluster's pods."""

    kind: Literal["external"] = "external"
    ip: IPAddress


Endpoint = PodEndpoint | ExternalEndpoint


class Flow(Frozen):
    """A connection attempt from `source` to `destination` on `protocol`/`port`."""

    source: Endpoint
    destination: Endpoint
    protocol: Protocol
    port: int
    same_node: bool = False
    """Both ends are pods on the same node, one of them a hostNetwork pod: node-local
    traffic, which NetworkPolicy never blocks (see `FlowDecision.node_local`)."""


def pod_at_first_address(namespace: Namespace, pod: Pod) -> PodEndpoint:
    """An existing pod as a flow endpoint at its first address (None when it has none): a
    pod with several addresses is reached at its first one wherever pods are enumerated."""
    # Valid parts make a valid endpoint: skip validating thousands of pods again.
    return PodEndpoint.model_construct(
        namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None
    )
