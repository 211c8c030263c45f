"""Cells of external addresses, and the flows between them and existing pods that the bit
sets answer instead of the solver.

The universe's networks (every ipBlock's CIDR and `except`, the invariant's `ip`, the pod
CIDRs) cut the line of addresses into segments; the external addresses inside exactly the
same of those networks form a cell (`ExternalGroup`), and every NetworkPolicy decides the
addresses of a cell alike, as an ipBlock peer is all it can match them by. So a flow between
a cell and a class of existing pods is decided by one representative address of the cell:
the diff enumerates those flows on bit sets (`CellChanges`) and the solver leaves them out
(`CellRegion.term`).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import z3

from netverify.encoding.capi import conj, disj, equals, negate
from netverify.encoding.classes import PodClass
from netverify.encoding.groups import ClassGroup, ExternalGroup, GroupTerms, Pair
from netverify.encoding.terms import SymbolicEndpoint
from netverify.encoding.universe import (
    IPV4_INTERVAL,
    IPV6_OFFSET,
    ip_from_number,
    network_interval,
)
from netverify.engine.bitsets import BitRule, ClassVerdicts, Probe, port_probes
from netverify.engine.diff.classes import port_ranges
from netverify.engine.podbits import bits_to_indices
from netverify.engine.readable import EXAMPLE_NETWORK
from netverify.model import (
    Cluster,
    Direction,
    EndpointPattern,
    ExternalEndpoint,
    Invariant,
    IPAddress,
    IPNetwork,
    Pod,
    PodEndpoint,
    PortRange,
    Protocol,
)
from netverify.model.diff import Change
from netverify.semantics.matching import port_matches, rule_peers_match
from netverify.semantics.patterns import endpoint_matches


@dataclass(frozen=True)
class Cell:
    """One cell of external addresses and the address standing for it."""

    key: ExternalGroup
    endpoint: ExternalEndpoint
    """An address of the cell outside the pod CIDRs, and no pod's address nor a Service's
    ClusterIP (those are not external): in 203.0.113.0/24 where the cell has one there,
    else the first the cell's segments have."""


def taken_addresses(cluster: Cluster) -> set[IPAddress]:
    """The addresses that are no external host's: every pod's (a hostNetwork pod's is its
    node's) and every Service's ClusterIP, as the encoding's flow domain has it."""
    pods = {ip for pod in cluster.pods for ip in pod.ips}
    return pods | {ip for service in cluster.services for ip in service.cluster_ips}


class ExternalCells:
    """Every cell of external addresses that has an external address the search can find,
    with a representative each: those in 203.0.113.0/24 first, then in the order of the
    line of addresses."""

    def __init__(
        self, groups: GroupTerms, taken: set[IPAddress], pod_cidrs: Iterable[IPNetwork]
    ) -> None:
        universe = groups.encoding.universe
        cidrs = tuple(pod_cidrs)
        self.cells: list[Cell] = []
        keys: set[ExternalGroup] = set()
        self._segments: list[tuple[ExternalGroup, int, int]] = []
        """Each segment with an address of the line's two families: its cell, its ends."""
        for segment in range(len(universe.segment_starts) - 1):
            low, high = universe.segment_interval(segment)
            numbers = [
                number
                for number in (low, high, max(low, IPV6_OFFSET))
                if low <= number <= high
                and (IPV4_INTERVAL[0] <= number <= IPV4_INTERVAL[1] or number >= IPV6_OFFSET)
            ]
            if not numbers:
                continue
            # The segment's addresses are in the same networks, whatever the family.
            key = groups.external(ip_from_number(numbers[0]))
            self._segments.append((key, low, high))
            for number in numbers:
                ip = ip_from_number(number)
                if ip in taken or any(ip in cidr for cidr in cidrs):
                    continue
                if key not in keys:
                    keys.add(key)
                    self.cells.append(Cell(key, ExternalEndpoint(ip=ip)))
                break
        self._prefer_example_addresses(taken, cidrs)
        # A product's witness is its first cell's representative: one in the example network
        # where the product has one.
        self.cells.sort(key=lambda cell: cell.endpoint.ip not in EXAMPLE_NETWORK)

    def _prefer_example_addresses(
        self, taken: set[IPAddress], cidrs: tuple[IPNetwork, ...]
    ) -> None:
        """A cell's representative in 203.0.113.0/24 where it has an address there, as
        `readable_flow` prefers for a solver's witness: it names no real host. (A cell
        whose segments' ends are all taken may get its only representative here.)"""
        example_low, example_high = network_interval(EXAMPLE_NETWORK)
        where = {cell.key: index for index, cell in enumerate(self.cells)}
        for key, low, high in self._segments:
            for number in range(max(low, example_low), min(high, example_high) + 1):
                ip = ip_from_number(number)
                if ip not in taken and not any(ip in cidr for cidr in cidrs):
                    cell = Cell(key, ExternalEndpoint(ip=ip))
                    index = where.setdefault(key, len(self.cells))
                    if index == len(self.cells):
                        self.cells.append(cell)
                    elif self.cells[index].endpoint.ip not in EXAMPLE_NETWORK:
                        self.cells[index] = cell
                    break

    def intervals(self, keys: set[ExternalGroup]) -> list[tuple[int, int]]:
        """The inclusive intervals of the line that the cells of `keys` span (every segment
        of theirs, those without a representative too), adjacent ones merged."""
        merged: list[tuple[int, int]] = []
        for key, low, high in self._segments:
            if key not in keys:
                continue
            if merged and merged[-1][1] + 1 == low:
                merged[-1] = (merged[-1][0], high)
            else:
                merged.append((low, high))
        return merged


class CellRegion:
    """The flows between a cell and a class whose pods the bit sets stand for: from a cell
    of `inward` to a class of `destinations`, and from a class of `sources` to a cell of
    `outward` (cells by their index in `cells`, classes as bit sets of indices)."""

    def __init__(
        self,
        cells: ExternalCells,
        inward: list[int],
        destinations: int,
        outward: list[int],
        sources: int,
    ) -> None:
        self.cells = cells
        self.inward, self.destinations = inward, destinations
        self.outward, self.sources = outward, sources
        self._inward_keys = {cells.cells[index].key for index in inward}
        self._outward_keys = {cells.cells[index].key for index in outward}

    def covers(self, pair: Pair) -> bool:
        """Every flow of the pair of groups is one of the region's."""
        source, destination = pair.source, pair.destination
        if isinstance(source, ExternalGroup) and isinstance(destination, ClassGroup):
            return source in self._inward_keys and _in(destination, self.destinations)
        if isinstance(source, ClassGroup) and isinstance(destination, ExternalGroup):
            return destination in self._outward_keys and _in(source, self.sources)
        return False

    def term(
        self, source: SymbolicEndpoint, destination: SymbolicEndpoint, classes: list[PodClass]
    ) -> z3.BoolRef:
        """The symbolic flow is one of the region's."""

        def in_cells(end: SymbolicEndpoint, keys: set[ExternalGroup]) -> z3.BoolRef:
            inside = [
                z3.And(end.ip >= low, end.ip <= high) for low, high in self.cells.intervals(keys)
            ]
            return conj([negate(end.is_pod), disj(inside)])

        def in_classes(end: SymbolicEndpoint, bits: int) -> z3.BoolRef:
            indices = [c.index for c in classes if (bits >> c.index) & 1]
            return conj([end.is_pod, disj([equals(end.pod_class, index) for index in indices])])

        return disj(
            [
                conj(
                    [
                        in_cells(source, self._inward_keys),
                        in_classes(destination, self.destinations),
                    ]
                ),
                conj([in_classes(source, self.sources), in_cells(destination, self._outward_keys)]),
            ]
        )


def _in(group: ClassGroup, bits: int) -> bool:
    return group.segment is None and bool((bits >> group.index) & 1)


def cell_region(
    cells: ExternalCells,
    classes: list[PodClass],
    endpoint: Callable[[Pod], PodEndpoint],
    within: Invariant | None,
) -> CellRegion:
    """The flows between cells and classes that the bit sets answer: with `within` (`prove
    --all`), only those the invariant's patterns match at both ends, each judged on a
    cell's representative and a class's first pod (a cell is inside the invariant's `ip`
    or outside it, as that network is one of the universe's)."""
    if within is None:
        every = list(range(len(cells.cells)))
        return CellRegion(
            cells,
            every,
            pod_end_classes(classes, None, endpoint),
            every,
            pod_end_classes(classes, None, endpoint),
        )
    return CellRegion(
        cells,
        [k for k, cell in enumerate(cells.cells) if endpoint_matches(within.source, cell.endpoint)],
        pod_end_classes(classes, within.destination, endpoint),
        [
            k
            for k, cell in enumerate(cells.cells)
            if endpoint_matches(within.destination, cell.endpoint)
        ],
        pod_end_classes(classes, within.source, endpoint),
    )


def pod_end_classes(
    classes: list[PodClass], pattern: EndpointPattern | None, endpoint: Callable[[Pod], PodEndpoint]
) -> int:
    """The classes (a bit set) whose flows with external addresses the bit sets answer at
    the end of `pattern` (None: any): those with at most one address segment that the
    pattern matches (at a class's first pod); with an `ip` in the pattern, only classes
    whose pods' addresses are known and in one segment, so that it matches all of a
    class's pods or none."""
    bits = 0
    for pod_class in classes:
        segments = pod_class.address_segments
        if pattern is not None and pattern.ip is not None:
            alike = segments is not None and len(segments) == 1
        else:
            alike = len(segments or ()) <= 1
        if alike and (pattern is None or endpoint_matches(pattern, endpoint(pod_class.pods[0]))):
            bits |= 1 << pod_class.index
    return bits


@dataclass(frozen=True)
class CellProduct:
    """Every flow between a cell of `cells` and a class of `classes` (from the cells to the
    classes; from the classes to the cells where `outward`) on `protocol` changed on
    exactly `ports`, allowed (in the revision that allows it) by the same rules at `port`;
    no other product covers any of them. The witness is the first cell's and class's."""

    protocol: Protocol
    port: int
    ports: tuple[PortRange, ...]
    outward: bool
    cells: tuple[int, ...]
    classes: tuple[int, ...]


class CellChanges:
    """The changed flows of a `CellRegion` between two revisions' bit-set verdicts over the
    same classes (those of the cells' changes), in products of flows changed alike.

    A verdict mirrors the reference evaluator: an external address is no subject of any
    policy, so only the pod's side decides; it allows where no policy of the pod's
    isolates that side, or where a rule of one that does matches the cell by its peers
    (`rule_peers_match` on the cell's representative) and the port by its `ports` (a named
    port resolves on the destination pod, never on an external destination)."""

    def __init__(
        self, head: ClassVerdicts, base: ClassVerdicts, region: CellRegion, focus: int
    ) -> None:
        """`focus`: the classes of the namespaces whose policies or labels changed, where
        every changed flow has its pod (its verdict depends on nothing else)."""
        self.verdicts = {Change.ADDED: head, Change.REMOVED: base}
        self.region, self.focus = region, focus
        self.probes = port_probes([head, base])
        self._matches: dict[tuple[int, int], bool] = {}
        """(id of a rule, cell index) -> the rule's peers match the cell."""
        self._selecting: dict[tuple[int, Direction], list[BitRule]] = {}
        self._matching: dict[tuple[int, Direction, int], list[BitRule]] = {}
        """(id of verdicts, side, cell index) -> the rules of `_rules` whose peers match
        the cell."""

    def products(self, change: Change) -> Iterator[CellProduct]:
        """Products covering every changed flow of the region exactly once, by protocol,
        from cells first, each in the order of its sources."""
        now = self.verdicts[change]
        before = self.verdicts[Change.REMOVED if change is Change.ADDED else Change.ADDED]
        for protocol in Protocol:
            probes = [probe for probe in self.probes if probe.protocol == protocol]
            for outward in (False, True):
                changed: dict[tuple[int, int], int] = {}
                """(source, destination) -> the probes (bits) on which it changed."""
                for k, probe in enumerate(probes):
                    for cell in self.region.outward if outward else self.region.inward:
                        gained = self._allowed(now, outward, cell, probe) & ~self._allowed(
                            before, outward, cell, probe
                        )
                        for other in bits_to_indices(gained):
                            pair = (other, cell) if outward else (cell, other)
                            changed[pair] = changed.get(pair, 0) | 1 << k
                yield from self._products(now, protocol, probes, outward, changed)

    def _allowed(self, verdicts: ClassVerdicts, outward: bool, cell: int, probe: Probe) -> int:
        """The classes (of the region's end, in the focus) whose flows with the cell
        `verdicts` allows at the probe: as destinations, or as sources where `outward`."""
        direction = Direction.EGRESS if outward else Direction.INGRESS
        ends = (self.region.sources if outward else self.region.destinations) & self.focus
        allowed = ends & ~verdicts.isolated[direction]
        for rule in self._matching_cell(verdicts, direction, ends, cell):
            if self._admits(verdicts, rule, cell, probe.protocol, probe.port):
                allowed |= rule.subjects & (
                    verdicts.all
                    if outward
                    else verdicts.port_bits(rule, probe.protocol, probe.port)
                )
        return allowed & ends

    def _rules(self, verdicts: ClassVerdicts, direction: Direction, ends: int) -> list[BitRule]:
        """The rules of one side that select a class of `ends` (a few of thousands)."""
        key = (id(verdicts), direction)
        rules = self._selecting.get(key)
        if rules is None:
            rules = self._selecting[key] = [
                rule
                for rule in verdicts.rules
                if rule.direction is direction and rule.subjects & ends
            ]
        return rules

    def _matching_cell(
        self, verdicts: ClassVerdicts, direction: Direction, ends: int, cell: int
    ) -> list[BitRule]:
        """The rules of `_rules` whose peers match the cell: few of them (an ipBlock, or a
        rule open to every peer), asked at every probe."""
        key = (id(verdicts), direction, cell)
        rules = self._matching.get(key)
        if rules is None:
            rules = self._matching[key] = [
                rule
                for rule in self._rules(verdicts, direction, ends)
                if self._peers_match(verdicts, rule, cell)
            ]
        return rules

    def _peers_match(self, verdicts: ClassVerdicts, rule: BitRule, cell: int) -> bool:
        key = (id(rule), cell)
        matches = self._matches.get(key)
        if matches is None:
            endpoint = self.region.cells.cells[cell].endpoint
            matches = self._matches[key] = rule_peers_match(
                rule.rule, rule.policy.namespace, endpoint, verdicts.settings
            )
        return matches

    def _admits(
        self, verdicts: ClassVerdicts, rule: BitRule, cell: int, protocol: Protocol, port: int
    ) -> bool:
        """The rule's peers match the cell and, for egress to it, its ports the port
        (ingress: `port_bits` says which destinations' ports it admits)."""
        matches = self._peers_match(verdicts, rule, cell)
        if not matches or rule.direction is Direction.INGRESS:
            return matches
        endpoint = self.region.cells.cells[cell].endpoint
        return not rule.rule.ports or any(
            port_matches(entry, protocol, port, endpoint) for entry in rule.rule.ports
        )

    def _products(
        self,
        verdicts: ClassVerdicts,
        protocol: Protocol,
        probes: list[Probe],
        outward: bool,
        changed: dict[tuple[int, int], int],
    ) -> Iterator[CellProduct]:
        """Rectangles of pairs with one key (the probes they changed on, and the rules that
        admit them at the first of those), each the witness pair's: the destinations of its
        source with its key, then every source with that key towards all of them."""
        keys: dict[tuple[int, int], tuple[int, tuple[int, ...]]] = {}
        for (source, destination), signature in changed.items():
            probe = probes[(signature & -signature).bit_length() - 1]
            cell, pod_class = (destination, source) if outward else (source, destination)
            direction = Direction.EGRESS if outward else Direction.INGRESS
            admitting = tuple(
                id(rule)
                for rule in verdicts.rules_of[direction][pod_class]
                if self._admits(verdicts, rule, cell, protocol, probe.port)
                and (outward or (verdicts.port_bits(rule, protocol, probe.port) >> pod_class) & 1)
            )
            keys[(source, destination)] = (signature, admitting)
        by_source: dict[int, list[int]] = {}
        for source, destination in sorted(keys):
            by_source.setdefault(source, []).append(destination)
        covered: set[tuple[int, int]] = set()
        for source, destinations in by_source.items():
            for destination in destinations:
                if (source, destination) in covered:
                    continue
                key = keys[(source, destination)]
                alike = [
                    other
                    for other in destinations
                    if (source, other) not in covered and keys[(source, other)] == key
                ]
                sources = [source] + [
                    other
                    for other in by_source
                    if other != source
                    and all(
                        (other, d) not in covered and keys.get((other, d)) == key for d in alike
                    )
                ]
                covered.update((s, d) for s in sources for d in alike)
                signature = key[0]
                product_probes = [probe for k, probe in enumerate(probes) if (signature >> k) & 1]
                cells, classes = (alike, sources) if outward else (sources, alike)
                yield CellProduct(
                    protocol=protocol,
                    port=product_probes[0].port,
                    ports=port_ranges(s for probe in product_probes for s in probe.segments),
                    outward=outward,
                    cells=tuple(cells),
                    classes=tuple(classes),
                )
