"""Changed flows between existing pods, on bit sets: every pair of pod classes whose verdict
differs between two revisions, on which ports, grouped into products of classes that
changed alike.

Between existing pods a diff is a finite question (classes x classes x port segments), and
the bit-set verdicts of both revisions answer it exactly, a few milliseconds per probed port;
a solver search needs a check per finding and a proof that nothing else changed, seconds on
a large cluster. The diff's solver keeps what cannot be enumerated: external addresses, pods
that could exist, pods whose addresses ipBlocks tell apart.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from netverify.encoding.classes import PodClass
from netverify.engine.bitsets import BitRule, ClassVerdicts, Probe, port_probes
from netverify.engine.podbits import bits_to_indices
from netverify.model import Direction, PortRange, Protocol
from netverify.model.diff import Change


def always_node_local(classes: Sequence[PodClass]) -> dict[int, int]:
    """Per class, the classes all of whose flows with it are node-local, as the encoding's
    node domain has them: one of the two is hostNetwork and every pod of both is bound to
    one and the same node. NetworkPolicy never decides such traffic (admin policies do)."""
    together: dict[int, int] = {}
    for host in classes:
        if not host.host_network or host.node_names is None or len(host.node_names) != 1:
            continue
        for other in classes:
            if other.node_names == host.node_names:
                together[host.index] = together.get(host.index, 0) | 1 << other.index
                together[other.index] = together.get(other.index, 0) | 1 << host.index
    return together


@dataclass(frozen=True)
class ClassProduct:
    """Every flow from a class of `sources` to a class of `destinations` (the witness's
    first in both) on `protocol` changed on exactly `ports`, allowed (in the revision that
    allows it) by the same rules at `port`, and no earlier product covers any of them."""

    protocol: Protocol
    port: int
    ports: tuple[PortRange, ...]
    sources: tuple[int, ...]
    destinations: tuple[int, ...]


class ClassChanges:
    """The changed pairs of classes of two revisions that share their classes."""

    def __init__(
        self,
        head: ClassVerdicts,
        base: ClassVerdicts,
        units: int,
        single: int,
        focus: int,
        ends: tuple[int, int] = (-1, -1),
        node_local: dict[int, int] | None = None,
    ) -> None:
        """Bit sets of classes: `units` to compare; `single`, classes of one bare Pod, whose
        pair with themselves is the pod talking to itself, which no policy governs; `focus`,
        the classes of the namespaces whose policies or labels changed: a changed flow has
        an end there (its verdict depends on nothing else); `ends`, the classes a changed
        flow may come from and go to (an invariant's, for `prove --all`); `node_local`, per
        class, the classes whose every flow with it is node-local (`always_node_local`):
        the bit sets decide flows across nodes, which those never are."""
        self.verdicts = {Change.ADDED: head, Change.REMOVED: base}
        self.units = units
        self.probes = port_probes([head, base])
        self.changed: dict[Change, list[dict[int, int]]] = {change: [] for change in Change}
        """Per change and probe: source class -> destination classes it changed for."""
        for probe in self.probes:
            added: dict[int, int] = {}
            removed: dict[int, int] = {}
            now = head.rows(probe.protocol, probe.port, focus)
            before = base.rows(probe.protocol, probe.port, focus)
            for source, (allowed, was_allowed) in enumerate(zip(now, before, strict=True)):
                if allowed == was_allowed or not ((units & ends[0]) >> source) & 1:
                    continue
                others = (units if (focus >> source) & 1 else units & focus) & ends[1]
                if (single >> source) & 1:
                    others &= ~(1 << source)
                others &= ~(node_local or {}).get(source, 0)
                if gained := allowed & ~was_allowed & others:
                    added[source] = gained
                if lost := was_allowed & ~allowed & others:
                    removed[source] = lost
            self.changed[Change.ADDED].append(added)
            self.changed[Change.REMOVED].append(removed)

    def products(self, change: Change) -> Iterator[ClassProduct]:
        """Products covering every changed pair exactly once, in order of source class."""
        for protocol in Protocol:
            indices = [k for k, probe in enumerate(self.probes) if probe.protocol == protocol]
            search = _ProductSearch(
                self.verdicts[change],
                protocol,
                [self.probes[k] for k in indices],
                [self.changed[change][k] for k in indices],
                self.units,
            )
            yield from search.products()


class _ProductSearch:
    """The products of one change on one protocol."""

    def __init__(
        self,
        verdicts: ClassVerdicts,
        protocol: Protocol,
        probes: Sequence[Probe],
        rows: Sequence[dict[int, int]],
        units: int,
    ) -> None:
        self.verdicts = verdicts
        self.protocol = protocol
        self.probes = probes
        self.rows = rows
        self.units = units
        self.covered: dict[int, int] = {}
        """Source class -> destination classes an earlier product covers."""
        self.covering: dict[int, int] = {}
        """Destination class -> source classes an earlier product covers (`covered` the
        other way round)."""
        self.sources = sorted({source for row in rows for source in row})
        self._row_vectors: list[tuple[int, ...]] = []
        self._with_vector: list[int] = []
        """Per row vector (`_row_vector`), the sources that have it."""

    def products(self) -> Iterator[ClassProduct]:
        for source in self.sources:
            while remaining := self._changed(source) & ~self.covered.get(source, 0):
                destination = (remaining & -remaining).bit_length() - 1
                product = self._product(source, destination)
                reached = sum(1 << d for d in product.destinations)
                for covered_source in product.sources:
                    self.covered[covered_source] = self.covered.get(covered_source, 0) | reached
                reaching = sum(1 << s for s in product.sources)
                for covered_destination in product.destinations:
                    covering = self.covering.get(covered_destination, 0)
                    self.covering[covered_destination] = covering | reaching
                yield product

    def _changed(self, source: int) -> int:
        changed = 0
        for row in self.rows:
            changed |= row.get(source, 0)
        return changed

    def _alike(self, source: int, signature: tuple[bool, ...]) -> int:
        """The destinations the source's flows changed for on exactly the probes of
        `signature`, and no earlier product covers."""
        alike = self.units & ~self.covered.get(source, 0)
        for row, changed in zip(self.rows, signature, strict=True):
            alike &= row.get(source, 0) if changed else ~row.get(source, 0)
        return alike

    def _alike_sources(self, signature: tuple[bool, ...], destination: int) -> int:
        """The sources whose flows to `destination` changed on exactly the probes of
        `signature`, and that no earlier product covers there: tested once per row vector
        (the sources' changed destinations on each probe), which most sources share with
        many others, where a test per source took most of a product's time."""
        bit = 1 << destination
        if not self.units & bit:
            return 0
        if not self._with_vector:
            numbers: dict[tuple[int, ...], int] = {}
            for source in self.sources:
                number = numbers.setdefault(
                    tuple(row.get(source, 0) for row in self.rows), len(numbers)
                )
                if number == len(self._with_vector):
                    self._with_vector.append(0)
                self._with_vector[number] |= 1 << source
            self._row_vectors = list(numbers)
        alike = 0
        for vector, having in zip(self._row_vectors, self._with_vector, strict=True):
            if all(
                bool(changed_bits & bit) == changed
                for changed_bits, changed in zip(vector, signature, strict=True)
            ):
                alike |= having
        return alike & ~self.covering.get(destination, 0)

    def _product(self, source: int, destination: int) -> ClassProduct:
        """The witness pair's product: the destinations alike for the witness's source and
        the sources alike for its destination, then sources dropped (never the witness's)
        and destinations dropped until every pair of the product is alike."""
        verdicts, protocol = self.verdicts, self.protocol
        signature = tuple(bool((row.get(source, 0) >> destination) & 1) for row in self.rows)
        probe = self.probes[signature.index(True)]
        port = probe.port
        egress = {id(r) for r in self._admitting(Direction.EGRESS, source, destination, port)}
        ingress = [id(r) for r in self._admitting(Direction.INGRESS, source, destination, port)]
        # Destinations: changed alike, and admitted by the same rules on both sides.
        destinations = self._alike(source, signature) & self._egress_alike(source, egress, port)
        for other in bits_to_indices(destinations):
            admitting = self._admitting(Direction.INGRESS, source, other, port)
            if [id(r) for r in admitting] != ingress:
                destinations &= ~(1 << other)
        # Sources: changed alike towards the witness's destination, by the same rules.
        sources = [source]
        alike = self._alike_sources(signature, destination)
        alike &= self._ingress_alike(destination, set(ingress), port) & ~(1 << source)
        for other in bits_to_indices(alike):
            if (self._egress_alike(other, egress, port) >> destination) & 1:
                sources.append(other)
        # The product: other ingress rules of the destinations must not admit a source.
        extra: dict[int, tuple[BitRule, int]] = {}
        """Other ingress rules of the destinations that admit on the port: the destinations
        they would admit a source to."""
        for other in bits_to_indices(destinations):
            for rule in verdicts.rules_of[Direction.INGRESS][other]:
                ported = (verdicts.port_bits(rule, protocol, port) >> other) & 1
                if ported and id(rule) not in ingress:
                    reached = extra.get(id(rule), (rule, 0))[1]
                    extra[id(rule)] = (rule, reached | 1 << other)
        kept = []
        for other in sources:
            alike = self._alike(other, signature) & self._egress_alike(other, egress, port)
            for rule, reached in extra.values():
                if (rule.peers >> other) & 1:
                    alike &= ~reached
            odd = destinations & ~alike
            if other != source and (odd >> destination) & 1:
                continue
            destinations &= ~odd
            kept.append(other)
        ordered = [destination, *(d for d in bits_to_indices(destinations) if d != destination)]
        return ClassProduct(
            protocol=protocol,
            port=port,
            ports=_ranges(self.probes, signature),
            sources=tuple(kept),
            destinations=tuple(ordered),
        )

    def _admitting(
        self, direction: Direction, source: int, destination: int, port: int
    ) -> list[BitRule]:
        return self.verdicts.admitting(direction, source, destination, self.protocol, port)

    def _ingress_alike(self, destination: int, ingress: set[int], port: int) -> int:
        """The sources the destination's ingress rules admit exactly as the witness's do
        (by the rules of `ingress`, and by no other): `_admitting` of each source in one
        pass over the rules, where asking it per source took most of a product's time."""
        verdicts = self.verdicts
        alike = -1
        for rule in verdicts.rules_of[Direction.INGRESS][destination]:
            if (verdicts.port_bits(rule, self.protocol, port) >> destination) & 1:
                alike &= rule.peers if id(rule) in ingress else ~rule.peers
        return alike

    def _egress_alike(self, source: int, egress: set[int], port: int) -> int:
        """The destinations the source's egress rules admit exactly as the witness's do:
        by the rules of `egress`, and by no other."""
        verdicts = self.verdicts
        rules = verdicts.rules_of[Direction.EGRESS][source]
        if not egress <= {id(rule) for rule in rules}:
            return 0
        alike = self.units
        for rule in rules:
            reached = rule.peers & verdicts.port_bits(rule, self.protocol, port)
            alike &= reached if id(rule) in egress else ~reached
        return alike


def _ranges(probes: Sequence[Probe], signature: tuple[bool, ...]) -> tuple[PortRange, ...]:
    """The ports of the probes the signature marks."""
    return port_ranges(
        segment
        for probe, changed in zip(probes, signature, strict=True)
        if changed
        for segment in probe.segments
    )


def port_ranges(segments: Iterable[tuple[int, int]]) -> tuple[PortRange, ...]:
    """Inclusive port segments as ordered ranges, adjacent ones merged (so one set of ports
    has one spelling, whoever computed it)."""
    ranges: list[PortRange] = []
    for start, end in sorted(segments):
        if ranges and ranges[-1].end == start - 1:
            ranges[-1] = PortRange(start=ranges[-1].start, end=end)
        else:
            ranges.append(PortRange(start=start, end=end))
    return tuple(ranges)
