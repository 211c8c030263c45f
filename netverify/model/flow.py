"""Concrete flows: one source, one destination, one protocol and port."""

from typing import Literal

from netverify.model.base import Frozen
from netverify.model.cluster import IPAddress, Namespace, Pod, Protocol


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
