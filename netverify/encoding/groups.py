"""Groups of endpoints that no policy tells apart, named by plain keys, and their Z3 terms.

The semantic diff reports groups, not pod pairs: every flow between two groups is decided
alike by each revision, so one witness stands for the product. A key is a plain, hashable
value (the diff files what it reported under keys); `GroupTerms` turns a concrete endpoint
into its key and a key into the term "the symbolic endpoint is in this group".
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

import z3

from netverify.encoding.capi import conj, disj, equals, negate
from netverify.encoding.classes import PodClass
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.policies import namespace_is
from netverify.encoding.selectors import in_network
from netverify.encoding.terms import SymbolicEndpoint
from netverify.model import Endpoint, IPAddress, PodEndpoint, PortRange


@dataclass(frozen=True)
class ExternalGroup:
    """External addresses inside exactly the same of the universe's networks."""

    cells: tuple[bool, ...]


class Wild(Enum):
    """A widened attribute of a group of new pods."""

    ANY = "any"
    """Any value (for a named port: any number, or undefined)."""
    OUTSIDE = "outside"
    """A named port undefined or numbered outside the group's `outside` ranges."""
    INSIDE = "inside"
    """A named port numbered inside the group's `outside` ranges (those OUTSIDE leaves
    out)."""


@dataclass(frozen=True)
class NewPodGroup:
    """Pods that could be created in one namespace, like the witness in everything a policy
    can tell apart: the codes of their labels, their named ports, their address segment.
    (All new pods of a namespace would be too coarse: new pods with other labels may change
    on other ports, or not at all.) The diff then frees what a finding does not depend on,
    each step confirmed by the solver."""

    namespace: str
    label_codes: tuple[int | frozenset[int] | None, ...]
    """The code of each of the universe's label keys; a set: any code but those; None: any
    value or none."""
    named_ports: tuple[int | Wild | None, ...]
    """The number of each of the universe's (name, protocol) ports; None: not defined."""
    segment: int | Wild | None
    """The address segment; None: no address."""
    outside: tuple[PortRange, ...] = ()
    """The ranges of `Wild.OUTSIDE` and `Wild.INSIDE`."""
    excluded: tuple[tuple[tuple[int, int], ...], ...] = ()
    """Combinations of labels, each (key index, code), that no pod of the group has all of
    (a policy that selects them decides their flows otherwise)."""

    def covers(self, other: "NewPodGroup") -> bool:
        """Every pod of `other` is one of this group's."""
        return (
            self.namespace == other.namespace
            and all(
                _label_covers(mine, theirs)
                for mine, theirs in zip(self.label_codes, other.label_codes, strict=True)
            )
            and all(
                self._port_covers(mine, theirs, other.outside)
                for mine, theirs in zip(self.named_ports, other.named_ports, strict=True)
            )
            and (self.segment is Wild.ANY or self.segment == other.segment)
            and all(other.rules_out(combination) for combination in self.excluded)
        )

    def apart(self, other: "NewPodGroup") -> bool:
        """No pod is in both groups, as their keys alone tell (False where only a solver
        could: groups apart only by a combination one of them excludes, say)."""
        return (
            self.namespace != other.namespace
            or any(
                _labels_apart(mine, theirs)
                for mine, theirs in zip(self.label_codes, other.label_codes, strict=True)
            )
            or any(
                _pins_apart(mine, theirs)
                for mine, theirs in zip(self.named_ports, other.named_ports, strict=True)
            )
            or _pins_apart(self.segment, other.segment)
        )

    def rules_out(self, combination: tuple[tuple[int, int], ...]) -> bool:
        """No pod of the group has every label of the combination."""
        return combination in self.excluded or any(
            (isinstance(code := self.label_codes[index], int) and code != wanted)
            or (isinstance(code, frozenset) and wanted in code)
            for index, wanted in combination
        )

    def _port_covers(
        self, mine: int | Wild | None, theirs: int | Wild | None, outside: tuple[PortRange, ...]
    ) -> bool:
        """Every number `theirs` (with its group's `outside`) allows, `mine` does."""
        if mine is Wild.ANY:
            return True
        if mine not in (Wild.OUTSIDE, Wild.INSIDE):
            return mine == theirs
        if isinstance(theirs, Wild):
            return theirs is mine and outside == self.outside
        inside = isinstance(theirs, int) and any(r.start <= theirs <= r.end for r in self.outside)
        if mine is Wild.INSIDE:
            return inside
        return not inside


def _label_covers(mine: int | frozenset[int] | None, theirs: int | frozenset[int] | None) -> bool:
    """Every code `theirs` allows, `mine` does."""
    if mine is None:
        return True
    if isinstance(mine, int):
        return mine == theirs
    if isinstance(theirs, int):
        return theirs not in mine
    return theirs is not None and mine <= theirs


@dataclass(frozen=True)
class ClassGroup:
    """The existing pods of one class (at one address segment, when its pods have several
    that ipBlocks may tell apart: dual stack, say)."""

    index: int
    segment: int | None = None


GroupKey = ExternalGroup | NewPodGroup | ClassGroup
"""Names an endpoint group."""


@dataclass(frozen=True)
class Pair:
    """A source group and a destination group: the flows between them."""

    source: GroupKey
    destination: GroupKey


def group_covers(group: GroupKey, other: GroupKey) -> bool:
    """Every endpoint of `other` is one of `group`'s."""
    if isinstance(group, NewPodGroup) and isinstance(other, NewPodGroup):
        return group.covers(other)
    return group == other


def _labels_apart(mine: int | frozenset[int] | None, theirs: int | frozenset[int] | None) -> bool:
    """No code is allowed by both (a code pinned in one and excluded or other in the other)."""
    if isinstance(mine, int) and isinstance(theirs, int):
        return mine != theirs
    if isinstance(mine, int) and isinstance(theirs, frozenset):
        return mine in theirs
    if isinstance(theirs, int) and isinstance(mine, frozenset):
        return theirs in mine
    return False


def _pins_apart(mine: int | Wild | None, theirs: int | Wild | None) -> bool:
    """A named port's number or an address segment pinned differently by each (None, no
    port or no address, is a pin too); a wild one may meet anything."""
    return not isinstance(mine, Wild) and not isinstance(theirs, Wild) and mine != theirs


class GroupTerms:
    """Keys of the groups of one cluster encoding, both ways: a concrete endpoint's key, and
    a key's term over a symbolic endpoint. It exists so that what a key means is written
    once, beside the encoding whose classes, labels and networks it names."""

    def __init__(self, encoding: ClusterEncoding) -> None:
        self.encoding = encoding
        self._network_terms: dict[str, list[z3.BoolRef]] = {}

    def key_of(self, endpoint: Endpoint) -> GroupKey:
        """The group of endpoints no policy of the encoded cluster tells apart from
        `endpoint`."""
        if not isinstance(endpoint, PodEndpoint):
            return self.external(endpoint.ip)
        pod_class = self.class_of(endpoint)
        universe = self.encoding.universe
        if pod_class is None:
            numbers = {(port.name, port.protocol): port.port for port in endpoint.pod.ports}
            return NewPodGroup(
                namespace=endpoint.namespace.name,
                label_codes=universe.pod_labels.codes(endpoint.pod.labels),
                named_ports=tuple(
                    numbers.get(key) for key in self.encoding.flow.source.named_ports
                ),
                segment=None if endpoint.ip is None else universe.segment_of(endpoint.ip),
            )
        segment = None
        if len(pod_class.address_segments or ()) > 1 and endpoint.ip is not None:
            segment = universe.segment_of(endpoint.ip)
        return ClassGroup(pod_class.index, segment)

    def external(self, ip: IPAddress) -> ExternalGroup:
        """The group of external addresses `ip` is one of."""
        return ExternalGroup(tuple(ip in network for network in self.encoding.universe.networks))

    def class_of(self, endpoint: PodEndpoint) -> PodClass | None:
        """The class of an existing pod (that very pod object); None for a pod that could
        exist."""
        return self._classes_by_pod.get(id(endpoint.pod))

    @cached_property
    def _classes_by_pod(self) -> dict[int, PodClass]:
        """Each class by the identity of each of its pods (the classes hold the pods, so
        the identities stay theirs): a search asks for thousands of pods' classes."""
        found: dict[int, PodClass] = {}
        for pod_class in self.encoding.classes:
            for pod in pod_class.pods:
                found.setdefault(id(pod), pod_class)
        return found

    def term(self, key: GroupKey, end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is in the group `key` names."""
        match key:
            case ExternalGroup(cells):
                inside = self._in_networks(end)
                return conj(
                    [
                        negate(end.is_pod),
                        *(
                            term if cell else negate(term)
                            for term, cell in zip(inside, cells, strict=True)
                        ),
                    ]
                )
            case NewPodGroup():
                return self._new_pod_term(key, end)
            case ClassGroup(index, segment):
                terms = [end.is_pod, end.pod_class == index]
                if segment is not None:
                    low, high = self.encoding.universe.segment_interval(segment)
                    terms += [end.ip >= low, end.ip <= high]
                return z3.And(terms)

    def _new_pod_term(self, key: NewPodGroup, end: SymbolicEndpoint) -> z3.BoolRef:
        universe = self.encoding.universe
        terms = [
            end.is_pod,
            end.pod_class == -1,
            namespace_is(universe, end, key.namespace),
            *(
                end.pod_labels[label] == code
                if isinstance(code, int)
                else z3.And([end.pod_labels[label] != other for other in sorted(code)])
                for label, code in zip(universe.pod_labels.keys, key.label_codes, strict=True)
                if code is not None
            ),
            *(
                z3.Not(
                    z3.And(
                        [
                            end.pod_labels[universe.pod_labels.keys[index]] == code
                            for index, code in combination
                        ]
                    )
                )
                for combination in key.excluded
            ),
        ]
        for port, pin in zip(end.named_ports.values(), key.named_ports, strict=True):
            if pin is None:
                terms.append(z3.Not(port.defined))
            elif pin is Wild.OUTSIDE:
                elsewhere = [z3.Or(port.number < r.start, port.number > r.end) for r in key.outside]
                terms.append(z3.Or(z3.Not(port.defined), z3.And(elsewhere)))
            elif pin is Wild.INSIDE:
                within = [z3.And(port.number >= r.start, port.number <= r.end) for r in key.outside]
                terms.append(z3.And(port.defined, z3.Or(within)))
            elif pin is not Wild.ANY:
                terms.append(z3.And(port.defined, port.number == pin))
        if key.segment is None:
            terms.append(z3.Not(end.has_ip))
        elif isinstance(key.segment, int):
            low, high = universe.segment_interval(key.segment)
            terms += [end.has_ip, end.ip >= low, end.ip <= high]
        return z3.And(terms)

    def _in_networks(self, end: SymbolicEndpoint) -> list[z3.BoolRef]:
        """The endpoint's address is in each of the universe's networks (once per end: every
        group of external addresses is a combination of them)."""
        terms = self._network_terms.get(end.role)
        if terms is None:
            networks = self.encoding.universe.networks
            terms = self._network_terms[end.role] = [in_network(end.ip, n) for n in networks]
        return terms

    def any_term(self, keys: Sequence[GroupKey], end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is in one of the groups (whole classes as one test)."""
        whole = {k.index for k in keys if isinstance(k, ClassGroup) and k.segment is None}
        terms = [
            self.term(key, end)
            for key in keys
            if not (isinstance(key, ClassGroup) and key.index in whole)
        ]
        if whole:
            classes = disj([equals(end.pod_class, index) for index in sorted(whole)])
            terms.append(conj([end.is_pod, classes]))
        return disj(terms)
