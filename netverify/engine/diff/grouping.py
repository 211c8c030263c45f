"""Which groups a solver witness's finding takes in, so that the report lists groups.

A witness of a change names one source group and one destination group. Each group of new
pods is first widened (pods that could exist differ in endless ways); then every candidate
group that, put at one end with the other kept, changes like the witness is collected (one
representative of each replayed through the evaluator), and the product of sources and
destinations is confirmed by the solver, dropping groups until every flow of it changes on
exactly the witness's ports and none was reported before.
"""

from dataclasses import replace
from functools import cached_property

from netverify.encoding.groups import (
    ClassGroup,
    ExternalGroup,
    GroupKey,
    NewPodGroup,
    Pair,
    Wild,
    group_covers,
)
from netverify.encoding.universe import IPV4_INTERVAL, IPV6_OFFSET, ip_from_number
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.engine.diff.symbolic import SymbolicDiff, Undecided
from netverify.model import Endpoint, ExternalEndpoint, PodEndpoint, PortRange, Protocol
from netverify.model.diff import Change
from netverify.semantics.evaluator import is_self_traffic

MAX_GROUPING_ROUNDS = 12
"""Rounds of solver checks spent, per finding, dropping groups that do not change alike."""


class Reported:
    """The pairs of groups earlier findings cover, per change and protocol: a pair is
    reported once, and a finding never takes in a pair an earlier one did."""

    def __init__(self, units: set[int]) -> None:
        self.units = units
        self.pairs: set[tuple[Change, Protocol, Pair]] = set()
        """Every (change, protocol, source group, destination group) a finding covers."""
        self.new_pods: dict[tuple[Change, Protocol, GroupKey | None], list[Pair]] = {}
        """The pairs of `pairs` with a group of new pods (a widened one covers other pairs
        than itself), filed by `_filing`."""

    def add(self, change: Change, protocol: Protocol, pair: Pair) -> None:
        self.pairs.add((change, protocol, pair))
        if any(isinstance(key, NewPodGroup) for key in (pair.source, pair.destination)):
            self.new_pods.setdefault((change, protocol, _filing(pair)), []).append(pair)

    def covers(self, change: Change, protocol: Protocol, pair: Pair) -> bool:
        """A finding covers the pair already: a solver finding's, or the bit sets' (which
        cover every changed flow between `units` classes)."""
        if all(
            isinstance(key, ClassGroup) and key.index in self.units
            for key in (pair.source, pair.destination)
        ):
            return True
        return (change, protocol, pair) in self.pairs or any(
            group_covers(wide.source, pair.source)
            and group_covers(wide.destination, pair.destination)
            for wide in self.new_pods.get((change, protocol, _filing(pair)), ())
        )

    def taken_in_by(self, change: Change, protocol: Protocol, pair: Pair) -> bool:
        """The pair (with a widened group) takes in a pair a finding reported already."""
        return any(
            group_covers(pair.source, old.source)
            and group_covers(pair.destination, old.destination)
            for old in self.new_pods.get((change, protocol, _filing(pair)), ())
        )


class Grouping:
    """The groups a solver witness's finding takes in: it exists to keep the widening, the
    candidates and the confirmation rounds (and what they cost) out of the search loop."""

    def __init__(self, symbolic: SymbolicDiff) -> None:
        self.symbolic = symbolic
        self.revisions: Revisions = symbolic.revisions
        self.reported = Reported(symbolic.units)

    def groups(self, witness: ChangedFlow) -> tuple[list[GroupKey], list[GroupKey]]:
        """The sources and destinations of the witness's finding, the witness's first, now
        reported."""
        keys = self.symbolic.groups
        flow = witness.flow
        pair = self._widened(witness, Pair(keys.key_of(flow.source), keys.key_of(flow.destination)))
        sources = [pair.source, *self._alike(witness, pair, at_source=True)]
        destinations = [pair.destination, *self._alike(witness, pair, at_source=False)]
        sources, destinations = self._confirmed(witness, sources, destinations)
        for source in sources:
            for destination in destinations:
                self.reported.add(witness.change, witness.protocol, Pair(source, destination))
        return sources, destinations

    @cached_property
    def candidates(self) -> list[tuple[GroupKey, Endpoint]]:
        """One representative endpoint per group a finding may take in: each existing class
        whose pods have at most one address segment, and each cell of external addresses
        (an address of it that is outside the pod CIDRs and no pod's)."""
        encoding = self.symbolic.encoding
        found: list[tuple[GroupKey, Endpoint]] = []
        for pod_class in encoding.classes:
            if len(pod_class.address_segments or ()) > 1:
                continue
            found.append((ClassGroup(pod_class.index), self.revisions.endpoint(pod_class.pods[0])))
        pod_addresses = {ip for pod in self.revisions.merged.pods for ip in pod.ips}
        cells: set[ExternalGroup] = set()
        universe = encoding.universe
        for segment in range(len(universe.segment_starts) - 1):
            low, high = universe.segment_interval(segment)
            for number in (low, high, max(low, IPV6_OFFSET)):
                if not (
                    low <= number <= high
                    and (IPV4_INTERVAL[0] <= number <= IPV4_INTERVAL[1] or number >= IPV6_OFFSET)
                ):
                    continue
                ip = ip_from_number(number)
                pod_cidrs = self.revisions.settings.pod_cidrs
                if ip in pod_addresses or any(ip in cidr for cidr in pod_cidrs):
                    continue
                key = self.symbolic.groups.external(ip)
                if key not in cells:
                    cells.add(key)
                    found.append((key, ExternalEndpoint(ip=ip)))
                break
        return found

    def _new_pods_elsewhere(
        self, endpoint: PodEndpoint, key: NewPodGroup
    ) -> list[tuple[GroupKey, Endpoint]]:
        """The same new pod in each other existing namespace: the candidates to group with a
        witness that is a pod that could exist."""
        return [
            (
                replace(key, namespace=namespace.name),
                PodEndpoint(
                    namespace=namespace,
                    pod=endpoint.pod.model_copy(update={"namespace": namespace.name}),
                    ip=endpoint.ip,
                ),
            )
            for namespace in self.revisions.merged.namespaces
            if namespace.name != key.namespace
        ]

    def _widened(self, witness: ChangedFlow, pair: Pair) -> Pair:
        """The witness's groups, each group of new pods widened to the first of a few wider
        groups whose every flow (with the other end's group) still changes on exactly the
        witness's ports: pods that could exist differ in endless ways, and a finding per way
        would be noise. Named ports and address first (`_port_widenings`), then labels: any,
        or else only the keys the policies of the flow's namespaces mention pinned."""
        encoding = self.symbolic.encoding
        keys, names = self.revisions.mentioned(witness.flow)
        named = [name in names for name, _ in encoding.flow.source.named_ports]
        labelled = [key in keys for key in encoding.universe.pod_labels.keys]
        for at_source in (True, False):
            key = pair.source if at_source else pair.destination
            if not isinstance(key, NewPodGroup):
                continue
            end = "source" if at_source else "destination"
            widest = self._first_alike(
                witness, pair, end, _port_widenings(key, witness.ports, named)
            )
            pinned = tuple(c if m else None for c, m in zip(key.label_codes, labelled, strict=True))
            labels = [replace(widest, label_codes=c) for c in ((None,) * len(pinned), pinned)]
            pair = replace(pair, **{end: widest})
            pair = replace(pair, **{end: self._first_alike(witness, pair, end, labels)})
        return pair

    def _first_alike(
        self, witness: ChangedFlow, pair: Pair, end: str, groups: list[NewPodGroup]
    ) -> NewPodGroup:
        """The first of `groups` that, at the pair's `end` (a group of new pods), changes
        like the witness; else the pair's own group there."""
        for group in groups:
            trial = replace(pair, **{end: group})
            if self.reported.taken_in_by(witness.change, witness.protocol, trial):
                continue  # its flows there changed on other ports too, or were reported
            if self.symbolic.odd_flow(witness, [trial.source], [trial.destination]) is None:
                return group
        own = pair.source if end == "source" else pair.destination
        assert isinstance(own, NewPodGroup)
        return own

    def _alike(self, witness: ChangedFlow, pair: Pair, at_source: bool) -> list[GroupKey]:
        """Groups that, put at one end of the witness (`at_source`: its source) with the
        other end kept, change like it: on its ports, allowed by the same rules at its port.

        One representative of each group is replayed through the evaluator (a group's
        endpoints are decided alike), after a cheap necessary test on the rules; whether
        they change on other ports too, and whether the whole product of sources and
        destinations changes, is `_confirmed`'s question.
        """
        flow = witness.flow
        kept = flow.destination if at_source else flow.source
        kept_key = pair.destination if at_source else pair.source
        replaced = flow.source if at_source else flow.destination
        replaced_key = pair.source if at_source else pair.destination
        candidates = (
            self._new_pods_elsewhere(replaced, replaced_key)
            if isinstance(replaced, PodEndpoint) and isinstance(replaced_key, NewPodGroup)
            else self.candidates
        )
        could_allow = self.revisions.rule_test(witness, at_source)
        alike: list[GroupKey] = []
        for key, endpoint in candidates:
            trial = Pair(key, kept_key) if at_source else Pair(kept_key, key)
            if (
                key == replaced_key
                or self.reported.covers(witness.change, witness.protocol, trial)
                or not (isinstance(endpoint, PodEndpoint) or isinstance(kept, PodEndpoint))
                or is_self_traffic(endpoint, kept)
                or not could_allow(endpoint)
            ):
                continue
            probe = flow.model_copy(update={"source" if at_source else "destination": endpoint})
            if self.revisions.changes_alike(witness, probe):
                alike.append(key)
        return alike

    def _confirmed(
        self, witness: ChangedFlow, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> tuple[list[GroupKey], list[GroupKey]]:
        """The largest product of the groups found by dropping groups (never the witness's)
        until every flow between them on the protocol changes on exactly the witness's
        ports, and none was reported before. Asked of the solvers, as the evaluator would
        need a probe per pair and port segment; after a few rounds, or on a solver limit,
        the witness's groups alone (which only makes the report longer)."""
        own = Pair(sources[0], destinations[0])
        for _ in range(MAX_GROUPING_ROUNDS):
            sources, destinations = self._unreported(witness, sources, destinations)
            if len(sources) == 1 and len(destinations) == 1:
                return sources, destinations
            odd = self.symbolic.odd_flow(witness, sources, destinations)
            if odd is None:
                return sources, destinations
            if odd is Undecided.UNDECIDED or odd == own:
                break
            if odd.destination != own.destination:
                destinations = [key for key in destinations if key != odd.destination]
            else:
                sources = [key for key in sources if key != odd.source]
        return [own.source], [own.destination]

    def _unreported(
        self, witness: ChangedFlow, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> tuple[list[GroupKey], list[GroupKey]]:
        """Drop groups until no pair of the product was reported by an earlier finding."""
        for source in list(sources):
            for destination in list(destinations):
                pair = Pair(source, destination)
                if not self.reported.covers(witness.change, witness.protocol, pair):
                    continue
                if destination != destinations[0]:
                    destinations.remove(destination)
                elif source != sources[0] and source in sources:
                    sources.remove(source)
        return sources, destinations


def _port_widenings(
    key: NewPodGroup, ports: tuple[PortRange, ...], mentioned: list[bool]
) -> list[NewPodGroup]:
    """Wider groups of new pods, widest first: any named ports and address; any named ports
    but those the policies at hand mention (`mentioned`, per universe port), which must be
    undefined or outside `ports` (or anything, where the witness's is inside them: the
    witness is in every group), at any address, then at the witness's; those pinned as the
    witness's, the others any."""
    inside = [
        isinstance(pin, int) and any(r.start <= pin <= r.end for r in ports)
        for pin in key.named_ports
    ]
    outside = tuple(
        Wild.OUTSIDE if named and not hit else Wild.ANY
        for named, hit in zip(mentioned, inside, strict=True)
    )
    pinned = tuple(
        pin if named else Wild.ANY for pin, named in zip(key.named_ports, mentioned, strict=True)
    )
    return [
        replace(key, named_ports=(Wild.ANY,) * len(key.named_ports), segment=Wild.ANY),
        replace(key, named_ports=outside, segment=Wild.ANY, outside=ports),
        replace(key, named_ports=outside, outside=ports),
        replace(key, named_ports=pinned),
    ]


def _filing(pair: Pair) -> GroupKey | None:
    """Where `Reported` files a pair with a group of new pods: under its first end that is
    no group of new pods (a pair with a group of new pods covers, or is covered by, only
    pairs with that same end), else under None."""
    for key in (pair.source, pair.destination):
        if not isinstance(key, NewPodGroup):
            return key
    return None
