"""The products earlier findings of a diff search reported: a pair of groups is reported
once, and a finding never takes in a pair an earlier one did (`grouping`). Their groups are
filed by their keys to tell quickly whether a product may share a flow with one (only the
solver can tell exactly)."""

from collections.abc import Callable
from dataclasses import dataclass

import z3

from netverify.encoding.groups import (
    ClassGroup,
    ExternalGroup,
    GroupKey,
    NewPodGroup,
    Pair,
    group_covers,
)
from netverify.engine.diff.cells import CellRegion
from netverify.engine.diff.revisions import FlowKind
from netverify.model.diff import Change


class Reported:
    """The pairs of groups earlier findings cover, per change and protocol: a pair is
    reported once, and a finding never takes in a pair an earlier one did."""

    def __init__(self, units: set[int], cells: CellRegion | None = None) -> None:
        """`units` and `cells`: the flows the bit sets report (`SymbolicDiff`'s)."""
        self.units = units
        self.cells = cells
        self.pairs: dict[FlowKind, set[Pair]] = {}
        """Every (source group, destination group) a finding covers, per kind of flow."""
        self.new_pods: dict[FlowKind, dict[GroupKey | None, list[Pair]]] = {}
        """The pairs of `pairs` with a group of new pods (a widened one covers other pairs
        than itself), filed by `_filing`."""
        self.products: dict[FlowKind, list[ReportedProduct]] = {}
        """The products with a group of new pods, per kind of flow: where a widened
        group may overlap an earlier one, which only the solver can tell exactly."""

    def add(
        self,
        kind: FlowKind,
        sources: list[GroupKey],
        destinations: list[GroupKey],
        term: z3.BoolRef,
    ) -> None:
        """A finding's product, of the kind, and `term`, the symbolic flow is in
        it."""
        pairs = self.pairs.setdefault(kind, set())
        filed = self.new_pods.setdefault(kind, {})
        for source in sources:
            for destination in destinations:
                pair = Pair(source, destination)
                pairs.add(pair)
                if isinstance(source, NewPodGroup) or isinstance(destination, NewPodGroup):
                    filed.setdefault(_filing(pair), []).append(pair)
        if any(isinstance(key, NewPodGroup) for key in (*sources, *destinations)):
            reported = ReportedProduct(_Ends(sources), _Ends(destinations), term)
            self.products.setdefault(kind, []).append(reported)

    def meeting(
        self, kind: FlowKind, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> list[z3.BoolRef]:
        """The terms of the `products` that may share a flow with the product of `sources`
        and `destinations` (those their keys alone set apart left out: a solver check
        spared, and a shorter disjunction for the others)."""
        return [product.term for product in self.met(kind, sources, destinations)]

    def met(
        self, kind: FlowKind, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> list["ReportedProduct"]:
        """The `products` of the kind that may share a flow with the product of
        `sources` and `destinations`, by their keys."""
        reported = self.products.get(kind, [])
        if not reported:
            return []
        ends = _Ends(sources), _Ends(destinations)
        return [
            product
            for product in reported
            if product.sources.meets(ends[0]) and product.destinations.meets(ends[1])
        ]

    def forget(self, change: Change) -> None:
        """Drop the findings of one change (added or removed): its search starts over."""
        self.pairs = {key: v for key, v in self.pairs.items() if key[0] is not change}
        self.new_pods = {key: v for key, v in self.new_pods.items() if key[0] is not change}
        self.products = {key: v for key, v in self.products.items() if key[0] is not change}

    def covering(self, kind: FlowKind) -> Callable[[Pair], bool]:
        """Whether a finding of the kind covers a pair already: a solver
        finding's, or the bit sets' (which cover every changed flow between `units`
        classes, and every flow of the `cells` region). What it looks in is found once:
        `_alike` asks of every candidate group."""
        units, cells = self.units, self.cells
        pairs = self.pairs.setdefault(kind, set())
        filed = self.new_pods.setdefault(kind, {})

        def covered(pair: Pair) -> bool:
            source, destination = pair.source, pair.destination
            if (
                isinstance(source, ClassGroup)
                and isinstance(destination, ClassGroup)
                and source.index in units
                and destination.index in units
            ):
                return True
            if cells is not None and cells.covers(pair):
                return True
            return pair in pairs or _wide_pair_covering(filed, pair) is not None

        return covered

    def wide_pair_covering(self, kind: FlowKind, pair: Pair) -> Pair | None:
        """The reported pair of the kind with a group of new pods that covers the
        pair; None when none does."""
        return _wide_pair_covering(self.new_pods.get(kind, {}), pair)


def _wide_pair_covering(filed: dict[GroupKey | None, list[Pair]], pair: Pair) -> Pair | None:
    """Of the pairs with a group of new pods filed by `_filing`, the first that covers the
    pair; None when none does."""
    return next(
        (
            wide
            for wide in filed.get(_filing(pair), ())
            if group_covers(wide.source, pair.source)
            and group_covers(wide.destination, pair.destination)
        ),
        None,
    )


class _Ends:
    """The groups at one end of a product, filed to tell quickly whether they may meet
    another product's: by class, by cell of external addresses, new pods by namespace."""

    def __init__(self, keys: list[GroupKey]) -> None:
        self.classes = {key.index for key in keys if isinstance(key, ClassGroup)}
        self.external = {key for key in keys if isinstance(key, ExternalGroup)}
        self.new_pods: dict[str, list[NewPodGroup]] = {}
        for key in keys:
            if isinstance(key, NewPodGroup):
                self.new_pods.setdefault(key.namespace, []).append(key)

    def meets(self, other: "_Ends") -> bool:
        """Some endpoint may be in a group of each (a class's segments are not told apart:
        a shared class is taken to meet)."""
        return bool(
            self.classes & other.classes
            or self.external & other.external
            or any(
                not mine.apart(theirs)
                for namespace in self.new_pods.keys() & other.new_pods.keys()
                for mine in self.new_pods[namespace]
                for theirs in other.new_pods[namespace]
            )
        )


@dataclass(frozen=True)
class ReportedProduct:
    """A reported product's ends and its term (the symbolic flow is in it)."""

    sources: _Ends
    destinations: _Ends
    term: z3.BoolRef


def _filing(pair: Pair) -> GroupKey | None:
    """Where `Reported` files a pair with a group of new pods: under its first end that is
    no group of new pods (a pair with a group of new pods covers, or is covered by, only
    pairs with that same end), else under None."""
    for key in (pair.source, pair.destination):
        if not isinstance(key, NewPodGroup):
            return key
    return None


def without_meeting(
    keys: list[GroupKey],
    own: GroupKey,
    odd: GroupKey,
    met: list[ReportedProduct],
    at_source: bool,
) -> list[GroupKey]:
    """The groups of one end of a product without the odd flow's, and without every group
    (but the witness's) that may meet a reported product the odd flow's pair may meet at
    that end: a product that takes in a reported finding's groups one by one would spend
    a round on each (a dozen external cells an earlier finding from them took in)."""
    ends = [product.sources if at_source else product.destinations for product in met]
    return [
        key
        for key in keys
        if key == own or (key != odd and not any(_Ends([key]).meets(end) for end in ends))
    ]
