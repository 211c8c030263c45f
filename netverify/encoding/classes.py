"""Existing pods grouped into classes that no policy or invariant can tell apart.

Two pods are in one class when they share namespace, the codes of their labels, their
named ports, hostNetwork and which elementary address segments (see `Universe`) their
addresses fall in. Pods an
invariant names are kept in classes of their own. Classes of one bare Pod come first, so
"the class is one pod" is a range check on the class index.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from netverify.encoding.universe import Universe
from netverify.model import PROTOCOLS, Pod, Protocol


@dataclass(frozen=True)
class PodClass:
    index: int
    namespace: str
    pods: tuple[Pod, ...]
    label_codes: tuple[int, ...]
    named_ports: tuple[tuple[str, Protocol, tuple[int, ...]], ...]
    """(name, protocol, numbers) for every universe port name the pods define."""
    host_network: bool
    address_segments: tuple[int, ...] | None
    """The segments of the pods' addresses; None when their addresses are unknown (in the
    pod CIDRs, when set); empty for hostNetwork pods without a known address (their
    node's, outside the pod CIDRs)."""
    node_names: frozenset[str] | None
    """The nodes the pods are bound to; None when some pod may run on any node."""


def _node_names(pods: Iterable[Pod]) -> frozenset[str] | None:
    names = {pod.node_name for pod in pods}
    return None if None in names else frozenset(name for name in names if name is not None)


def _named_ports(pod: Pod, universe: Universe) -> tuple[tuple[str, Protocol, tuple[int, ...]], ...]:
    numbers: dict[tuple[str, Protocol], set[int]] = defaultdict(set)
    for port in pod.ports:
        if port.name is not None:
            numbers[(port.name, port.protocol)].add(port.port)
    if not numbers:
        return ()
    return tuple(
        (name, protocol, tuple(sorted(numbers[(name, protocol)])))
        for name in universe.port_names
        for protocol in PROTOCOLS
        if (name, protocol) in numbers
    )


def pod_identity(pod: Pod) -> tuple[str, str, str | None]:
    """What tells two existing pods apart: namespace, kind and name."""
    return pod.identity


class _ClassKey(NamedTuple):
    """What two pods of one class share."""

    namespace: str
    label_codes: tuple[int, ...]
    named_ports: tuple[tuple[str, Protocol, tuple[int, ...]], ...]
    host_network: bool
    address_segments: tuple[int, ...] | None
    pin: tuple[str, str, str | None] | None
    node: str | None
    """A host-network pod's node, when `nodes` peers can tell nodes apart."""


def _address_segments(pod: Pod, universe: Universe) -> tuple[int, ...] | None:
    """The segments of the pod's known addresses; None when unknown (pod CIDRs give it one);
    empty for a hostNetwork pod without one: its address is its node's, outside the pod
    CIDRs, and like every unknown address it matches no ipBlock."""
    if pod.ips:
        return tuple(sorted({universe.segment_of(ip) for ip in pod.ips}))
    return () if pod.host_network else None


def pod_classes(
    pods: Iterable[Pod],
    universe: Universe,
    pinned: set[tuple[str, str, str | None]],
    by_node: bool = False,
) -> list[PodClass]:
    """Group pods; each pinned pod (one an invariant names) gets a class of its own, and with
    `by_node` host-network pods on different nodes are never in one class."""
    groups: dict[_ClassKey, list[Pod]] = defaultdict(list)
    for pod in pods:
        identity = pod_identity(pod)
        key = _ClassKey(
            namespace=pod.namespace,
            label_codes=universe.pod_labels.codes(pod.labels),
            named_ports=_named_ports(pod, universe),
            host_network=pod.host_network,
            address_segments=_address_segments(pod, universe),
            pin=identity if identity in pinned else None,
            node=pod.node_name if by_node and pod.host_network else None,
        )
        groups[key].append(pod)
    ordered = sorted(
        groups.items(), key=lambda item: (not is_single_pod(item[1]), _sort_key(item[1][0]))
    )
    return [
        PodClass(
            index=index,
            namespace=key.namespace,
            pods=tuple(pods),
            label_codes=key.label_codes,
            named_ports=key.named_ports,
            host_network=key.host_network,
            address_segments=key.address_segments,
            node_names=_node_names(pods),
        )
        for index, (key, pods) in enumerate(ordered)
    ]


def is_single_pod(pods: list[Pod] | tuple[Pod, ...]) -> bool:
    """One bare Pod: the only class whose two ends are the same pod (a workload stands for
    its replicas)."""
    return len(pods) == 1 and pods[0].kind == "Pod"


def _sort_key(pod: Pod) -> tuple[str, str]:
    return pod.namespace, pod.name or ""
