"""Which groups a solver witness's finding takes in, so that the report lists groups.

A witness of a change names one source group and one destination group. Each group of new
pods is first widened (pods that could exist differ in endless ways): from every new pod of
its namespace, narrowed around the witness by the pods of the flows that do not change like
it, each told apart by a label or a named port (`narrowing`); then every candidate
group that, put at one end with the other kept, changes like the witness is collected (one
representative of each replayed through the evaluator), and the product of sources and
destinations is confirmed by the solver, dropping groups until every flow of it changes on
exactly the witness's ports and none was reported before. A source that is an existing pod
then brings the new pods like it, widened the same way, where the solver confirms them.
"""

from dataclasses import replace
from functools import cached_property

import z3

from netverify.encoding.groups import (
    ClassGroup,
    GroupKey,
    NewPodGroup,
    Pair,
    Wild,
    group_covers,
)
from netverify.engine.diff.narrowing import Attribute, Attributes, apart, pruned
from netverify.engine.diff.reported import Reported, without_meeting
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.engine.diff.symbolic import SymbolicDiff, Undecided
from netverify.model import (
    Endpoint,
    Flow,
    Pod,
    PodEndpoint,
    PodScope,
)
from netverify.semantics.evaluator import is_self_traffic
from netverify.semantics.matching import governed_pod

MAX_GROUPING_ROUNDS = 12
"""Rounds of solver checks spent, per finding, dropping groups that do not change alike."""
MAX_WIDENING_ROUNDS = 6
"""Rounds of solver checks spent, per group of new pods, narrowing it from every new pod of
its namespace to those that change like the witness."""


class Grouping:
    """The groups a solver witness's finding takes in: it exists to keep the widening, the
    candidates and the confirmation rounds (and what they cost) out of the search loop."""

    def __init__(self, symbolic: SymbolicDiff) -> None:
        self.symbolic = symbolic
        self.revisions: Revisions = symbolic.revisions
        self.reported = Reported(symbolic.units, symbolic.cells)

    def groups(self, witness: ChangedFlow) -> tuple[list[GroupKey], list[GroupKey]]:
        """The sources and destinations of the witness's finding, the witness's first (to
        be `reported`)."""
        keys = self.symbolic.groups
        flow = witness.flow
        owns = Pair(keys.key_of(flow.source), keys.key_of(flow.destination))
        pair = self._widened(witness, owns)
        sources = [pair.source, *self._alike(witness, pair, at_source=True)]
        destinations = [pair.destination, *self._alike(witness, pair, at_source=False)]
        sources, destinations = self._confirmed(witness, sources, destinations)
        # Tried after the confirmation, which it would cost a round of.
        twin = self._new_twin(witness, pair, owns)
        if twin is not None and self._odd_flow(witness, [twin], destinations) is None:
            sources.append(twin)
        return sources, destinations

    def _new_twin(self, witness: ChangedFlow, pair: Pair, owns: Pair) -> GroupKey | None:
        """Where the witness's source is an existing pod and pods that could exist are
        searched: the group of new pods like it (its labels and named ports, in its
        namespace), widened as a witness of its own would be; None where the widening
        fails. A finding from existing pods found first would otherwise leave the same
        rule's new pods to findings of their own (one per destination). Not at the
        destination: the new pods like a destination found from external addresses first
        narrow to the ports those admit, and the destination's other new pods then split
        the later findings (106 flow groups on the CI PR where 95 with sources only)."""
        source = witness.flow.source
        if not (
            self.symbolic.pods is PodScope.ANY
            and isinstance(owns.source, ClassGroup)
            and isinstance(source, PodEndpoint)
            and not source.pod.host_network
        ):
            return None
        pod = source.pod
        twin = source.model_copy(
            update={
                "pod": Pod(namespace=pod.namespace, name=None, labels=pod.labels, ports=pod.ports),
                "ip": None,
            }
        )
        probe = witness.flow.model_copy(update={"source": twin})
        if not self.revisions.changes_alike(witness, probe):
            return None
        key = self.symbolic.groups.key_of(twin)
        widened = self._widest_or_none(
            self.revisions.replayed(witness.change, probe),
            replace(pair, source=key),
            "source",
            replace(owns, source=key),
        )
        return None if widened is None else widened.source

    @cached_property
    def candidates(self) -> list[tuple[GroupKey, Endpoint]]:
        """One representative endpoint per group a finding may take in: each existing class
        whose pods have at most one address segment, and each cell of external addresses
        (`ExternalCells`)."""
        encoding = self.symbolic.encoding
        found: list[tuple[GroupKey, Endpoint]] = []
        for pod_class in encoding.classes:
            if len(pod_class.address_segments or ()) > 1:
                continue
            found.append((ClassGroup(pod_class.index), self.revisions.endpoint(pod_class.pods[0])))
        found += [(cell.key, cell.endpoint) for cell in self.symbolic.external_cells.cells]
        return found

    @cached_property
    def _candidates_in(self) -> dict[str, list[tuple[GroupKey, Endpoint]]]:
        """`candidates` that a NetworkPolicy can select, by namespace, in their order."""
        found: dict[str, list[tuple[GroupKey, Endpoint]]] = {}
        for key, endpoint in self.candidates:
            pod = governed_pod(endpoint)
            if pod is not None:
                found.setdefault(pod.namespace.name, []).append((key, endpoint))
        return found

    def _new_pods_elsewhere(
        self, endpoint: PodEndpoint, key: NewPodGroup
    ) -> list[tuple[GroupKey, Endpoint]]:
        """The same new pod in each other existing namespace: with the `candidates`, those
        to group with a witness that is a pod that could exist (the existing pods a rule
        treats like it are one finding with it)."""
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
        """The witness's groups, each group of new pods widened (`_widest`): pods that
        could exist differ in endless ways, and a finding per way would be noise."""
        owns = pair
        for end in ("source", "destination"):
            if isinstance(getattr(pair, end), NewPodGroup):
                pair = self._widest(witness, pair, end, owns)
        return pair

    def _widest(self, witness: ChangedFlow, pair: Pair, end: str, owns: Pair) -> Pair:
        """The pair with the widest group of new pods at its `end` (`_widest_or_none`), or
        the witness's own group there where none is found."""
        widened = self._widest_or_none(witness, pair, end, owns)
        return replace(pair, **{end: getattr(owns, end)}) if widened is None else widened

    def _widest_or_none(
        self, witness: ChangedFlow, pair: Pair, end: str, owns: Pair
    ) -> Pair | None:
        """The pair with the group of new pods at its `end` found by narrowing every new
        pod of its namespace until every flow of the pair changes on exactly the witness's
        ports and none was reported before: each flow the solvers find that does not is
        told apart from the witness by one of its pod's attributes (`narrowing`), which
        the group then excludes; where the evaluator tells it apart at the other end only
        (a group of new pods widened before), that group excludes it. None after a few
        rounds, or on a solver limit."""
        own = getattr(owns, end)
        assert isinstance(own, NewPodGroup)
        target = self.attributes.target(self.revisions, witness, end == "source")
        every = replace(
            own,
            label_codes=(None,) * len(own.label_codes),
            named_ports=(Wild.ANY,) * len(own.named_ports),
            segment=Wild.ANY,
            outside=witness.ports if target.followed is None else (),
        )
        if target.followed is not None and witness.named_within:
            # The change follows the port inside those numbers only: so do the group's pods.
            every = replace(
                every,
                named_ports=tuple(
                    Wild.INSIDE if index == target.followed else number
                    for index, number in enumerate(every.named_ports)
                ),
                outside=witness.named_within,
            )
        seeded = self.attributes.seeded(self.revisions, witness, end == "source", every)
        trial = replace(pair, **{end: seeded})
        for _ in range(MAX_WIDENING_ROUNDS):
            odd = self._odd_flow(witness, [trial.source], [trial.destination])
            if odd is None:
                group = getattr(trial, end)
                assert isinstance(group, NewPodGroup)
                return replace(trial, **{end: pruned(group)})
            if odd is Undecided.UNDECIDED:
                break
            narrower = self._apart_from_reported(witness, trial, end, owns, odd)
            if narrower is None:
                narrower = self._narrower(witness, trial, end, owns, odd)
            if narrower is None:
                break
            trial = narrower
        return None

    def _apart_from_reported(
        self, witness: ChangedFlow, trial: Pair, end: str, owns: Pair, odd: Flow
    ) -> Pair | None:
        """The pair without the flows of the reported pair the odd flow is one of, where
        its group of new pods at `end` (else at the other end) can be told apart from the
        witness's pod there (`apart`): the evaluator blames no attribute for a flow that
        changes like the witness, and the first attribute that differs would pin a named
        port's number or a label's value that has nothing to do with the earlier finding
        (one finding per number). None where the odd flow was not reported."""
        keys = self.symbolic.groups
        odd_pair = Pair(keys.key_of(odd.source), keys.key_of(odd.destination))
        wide = self.reported.wide_pair_covering(witness.kind, odd_pair)
        if wide is None:
            return None
        other = "destination" if end == "source" else "source"
        for side in (end, other):
            group, own, theirs = getattr(trial, side), getattr(owns, side), getattr(wide, side)
            if not all(isinstance(g, NewPodGroup) for g in (group, own, theirs)):
                continue
            narrower = apart(group, own, theirs)
            if narrower is not None:
                return replace(trial, **{side: narrower})
        return None

    def _narrower(
        self, witness: ChangedFlow, trial: Pair, end: str, owns: Pair, odd: Flow
    ) -> Pair | None:
        """The pair without the odd flow: its group at `end` narrowed by the attributes
        the evaluator blames there; where it blames none there but some at the other end,
        a group of new pods, that group; else the group at `end` by the first attribute
        that differs. Where it blames neither end alone (the odd flow is odd by both its
        ends together), the group at `end` by the attributes it blames there facing the odd
        flow's other end, unless it blames named ports there and labels only at the other
        end, a group of new pods, facing the odd flow's end here: then that group by them;
        else the first attribute that differs, which may have nothing to do with the flow
        (one group per number of an unrelated named port). None when nothing tells the odd
        flow apart."""
        other = "destination" if end == "source" else "source"
        mine = self._culprits(witness, trial, end, owns, odd)
        if mine is None:
            return None
        if not mine[1]:
            theirs = self._culprits(witness, trial, other, owns, odd)
            if theirs is not None and theirs[1]:
                return self._narrowed(witness, trial, other, owns, odd, *theirs)
            together = self._culprits(witness, trial, end, owns, odd, facing_odd=True)
            if together is not None and together[1]:
                mine = together
                if all(attribute.kind == "port" for attribute in together[1]):
                    # Who the other end is (its labels) over the numbers a pod here gives
                    # its named ports: a group of new pods at `end` stays whole.
                    facing = self._culprits(witness, trial, other, owns, odd, facing_odd=True)
                    if (
                        facing is not None
                        and facing[1]
                        and all(attribute.kind == "label" for attribute in facing[1])
                    ):
                        return self._narrowed(witness, trial, other, owns, odd, *facing)
        return self._narrowed(witness, trial, end, owns, odd, *mine)

    def _culprits(
        self,
        witness: ChangedFlow,
        trial: Pair,
        side: str,
        owns: Pair,
        odd: Flow,
        facing_odd: bool = False,
    ) -> tuple[list[Attribute], list[Attribute]] | None:
        """The attributes on which the odd flow's pod at `side` differs from the
        witness's, and those the evaluator blames (`Attributes.culprits`; `facing_odd`:
        with the odd flow's other end, not the witness's); None where `side` is no group
        of new pods."""
        own, odd_end = getattr(owns, side), getattr(odd, side)
        if not (
            isinstance(getattr(trial, side), NewPodGroup)
            and isinstance(own, NewPodGroup)
            and isinstance(odd_end, PodEndpoint)
            and isinstance(odd_key := self.symbolic.groups.key_of(odd_end), NewPodGroup)
        ):
            return None
        mentioned = self.revisions.mentioned(witness.flow)
        order = self.attributes.order(own, odd_key, mentioned, witness.protocol)
        at_source = side == "source"
        facing = getattr(odd, "destination" if at_source else "source") if facing_odd else None
        culprits = self.attributes.culprits(
            self.revisions, witness, at_source, odd_end, order, facing
        )
        return order, culprits

    def _narrowed(
        self,
        witness: ChangedFlow,
        trial: Pair,
        side: str,
        owns: Pair,
        odd: Flow,
        order: list[Attribute],
        culprits: list[Attribute],
    ) -> Pair | None:
        group, own = getattr(trial, side), getattr(owns, side)
        odd_key = self.symbolic.groups.key_of(getattr(odd, side))
        assert isinstance(group, NewPodGroup) and isinstance(own, NewPodGroup)
        assert isinstance(odd_key, NewPodGroup)
        at_source = side == "source"
        narrower = self.attributes.narrowed(
            group,
            own,
            odd_key,
            self.attributes.target(self.revisions, witness, at_source),
            culprits,
            order,
            lambda index: self.attributes.pins(self.revisions, witness, at_source, index),
        )
        return None if narrower is None else replace(trial, **{side: narrower})

    @cached_property
    def attributes(self) -> Attributes:
        """The labels and named ports of new pods, as the encoding orders them."""
        encoding = self.symbolic.encoding
        labels = encoding.universe.pod_labels
        return Attributes(
            labels.keys,
            list(encoding.flow.source.named_ports),
            [labels.other(key) + 1 for key in labels.keys],
            [labels.value(key, labels.other(key)) or "" for key in labels.keys],
            [labels.values[key] for key in labels.keys],
        )

    def _odd_flow(
        self, witness: ChangedFlow, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> Flow | Undecided | None:
        """A flow of the product that does not change on exactly the witness's ports
        (`odd_flow`) or that a finding with new pods reported already; None when there is
        none."""
        odd = self.symbolic.odd_flow(witness, sources, destinations)
        if odd is not None:
            return odd
        reported = self.reported.meeting(witness.kind, sources, destinations)
        if not reported:
            return None
        return self.symbolic.shared_flow(witness, sources, destinations, z3.Or(reported))

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
        namespaces = self.revisions.selecting_namespaces(witness, at_source)
        if len(namespaces) == 1:
            # Only the pods of the namespace of the policies that allowed the witness there
            # can pass `could_allow`: thousands of classes, a few dozen in it.
            existing = self._candidates_in.get(namespaces.pop(), [])
        else:
            existing = self.candidates
        candidates = (
            [*self._new_pods_elsewhere(replaced, replaced_key), *existing]
            if isinstance(replaced, PodEndpoint) and isinstance(replaced_key, NewPodGroup)
            else existing
        )
        could_allow = self.revisions.rule_test(witness, at_source)
        covered = self.reported.covering(witness.kind)
        alike: list[GroupKey] = []
        for key, endpoint in candidates:
            # NOTE: the rule test first: it turns away all but a few candidates, and the
            # tests are pure, so their order changes only the time.
            if (
                key == replaced_key
                or not (isinstance(endpoint, PodEndpoint) or isinstance(kept, PodEndpoint))
                or not could_allow(endpoint)
                or is_self_traffic(endpoint, kept)
                or covered(Pair(key, kept_key) if at_source else Pair(kept_key, key))
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
            flow = self._odd_flow(witness, sources, destinations)
            if flow is None:
                return sources, destinations
            if flow is Undecided.UNDECIDED:
                break
            keys = self.symbolic.groups
            # The groups the odd flow is in (a group of new pods holds the flow's pod).
            odd_source = _holding(sources, keys.key_of(flow.source))
            odd_destination = _holding(destinations, keys.key_of(flow.destination))
            if odd_source is None or odd_destination is None:
                break
            if Pair(odd_source, odd_destination) == own:
                break
            met = self.reported.met(witness.kind, [odd_source], [odd_destination])
            if odd_destination != own.destination:
                destinations = without_meeting(
                    destinations, own.destination, odd_destination, met, False
                )
            else:
                sources = without_meeting(sources, own.source, odd_source, met, True)
        return [own.source], [own.destination]

    def _unreported(
        self, witness: ChangedFlow, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> tuple[list[GroupKey], list[GroupKey]]:
        """Drop groups until no pair of the product was reported by an earlier finding."""
        covered = self.reported.covering(witness.kind)
        for source in list(sources):
            for destination in list(destinations):
                if not covered(Pair(source, destination)):
                    continue
                if destination != destinations[0]:
                    destinations.remove(destination)
                elif source != sources[0] and source in sources:
                    sources.remove(source)
        return sources, destinations


def _holding(groups: list[GroupKey], key: GroupKey) -> GroupKey | None:
    """The first of the groups that holds the endpoints of `key`; None when none does."""
    return next((group for group in groups if group_covers(group, key)), None)
