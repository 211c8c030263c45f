"""Existing pods grouped into classes that no policy or invariant can tell apart.

Two pods are in one class when they share namespace, the codes of their labels, their
named ports, hostNetwork and which elementary address segments (see `Universe`) their
addresses fall in. Pods an
invariant names are kept in classes of their own. Classes of one bare Pod come first, so
"the class is one pod" is a range check on the class index.
"""

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import is_
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


class _Traits(NamedTuple):
    """What a pod's class key reads of the universe."""

    label_codes: tuple[int, ...]
    named_ports: tuple[tuple[str, Protocol, tuple[int, ...]], ...]
    address_segments: tuple[int, ...] | None


def _traits(pod: Pod, universe: Universe) -> _Traits:
    return _Traits(
        label_codes=universe.pod_labels.codes(pod.labels),
        named_ports=_named_ports(pod, universe),
        address_segments=_address_segments(pod, universe),
    )


class _LastClassing(NamedTuple):
    pods: tuple[Pod, ...]
    classes: tuple[PodClass, ...]


@dataclass
class _Classed:
    """What `pod_classes` remembers of universes with the same mentions
    (`Universe.mentions`): `fix` encodes one slice of each candidate after another, the same
    few thousand pods, and a candidate seldom changes what its universe mentions. Pods are
    known by id and kept, so that an id is not reused; a universe that mentions anything
    else has a `_Classed` of its own, so a changed policy's mentions never reuse a stale
    entry."""

    traits: dict[int, tuple[Pod, _Traits]] = field(default_factory=dict)
    """Each pod's traits: most of the work of classing it."""
    last: dict[tuple[frozenset[tuple[str, str, str | None]], bool], _LastClassing] = field(
        default_factory=dict
    )
    """Per (pinned, by_node), the pods last classed and their classes: a candidate's slice
    is most often the same pods as the one before, and grouping and ordering them is the
    rest of the work."""


REMEMBERED_UNIVERSES = 4
"""How many universes' `_Classed` are kept, the most recently used."""

_CLASSED: "OrderedDict[tuple[object, ...], _Classed]" = OrderedDict()


def _classed(universe: Universe) -> _Classed:
    key = universe.mentions()
    classed = _CLASSED.get(key)
    if classed is None:
        classed = _CLASSED[key] = _Classed()
        while len(_CLASSED) > REMEMBERED_UNIVERSES:
            _CLASSED.popitem(last=False)
    else:
        _CLASSED.move_to_end(key)
    return classed


def pod_classes(
    pods: Iterable[Pod],
    universe: Universe,
    pinned: set[tuple[str, str, str | None]],
    by_node: bool = False,
) -> list[PodClass]:
    """Group pods; each pinned pod (one an invariant names) gets a class of its own, and with
    `by_node` host-network pods on different nodes are never in one class. The classes of
    the same pods (the same objects) under the same universe mentions are remembered
    (`_Classed`)."""
    pods = tuple(pods)
    classed = _classed(universe)
    settings = (frozenset(pinned), by_node)
    last = classed.last.get(settings)
    if last is None or len(last.pods) != len(pods) or not all(map(is_, last.pods, pods)):
        last = classed.last[settings] = _LastClassing(
            pods, tuple(_grouped(pods, universe, classed.traits, pinned, by_node))
        )
    return list(last.classes)


def _grouped(
    pods: tuple[Pod, ...],
    universe: Universe,
    traits: dict[int, tuple[Pod, _Traits]],
    pinned: set[tuple[str, str, str | None]],
    by_node: bool,
) -> list[PodClass]:
    """`pod_classes`, with each pod's traits taken from `traits` or added to it."""
    groups: dict[_ClassKey, list[Pod]] = defaultdict(list)
    for pod in pods:
        known = traits.get(id(pod))
        if known is not None and known[0] is pod:
            pod_traits = known[1]
        else:
            pod_traits = _traits(pod, universe)
            traits[id(pod)] = (pod, pod_traits)
        identity = pod_identity(pod)
        key = _ClassKey(
            namespace=pod.namespace,
            label_codes=pod_traits.label_codes,
            named_ports=pod_traits.named_ports,
            host_network=pod.host_network,
            address_segments=pod_traits.address_segments,
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
