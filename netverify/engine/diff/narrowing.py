"""Narrowing a group of new pods around its witness: which attribute tells an odd pod apart.

A finding about pods that could exist starts from every new pod of the witness's namespace;
each flow the solvers find in it that does not change like the witness (an odd flow) is told
apart from the witness by one attribute of its new pod, a label or a named port, which the
group then excludes. Which attributes is the reference evaluator's word where it can tell:
the fewest whose odd values, given to the witness's pod, make it change otherwise (labels
that only together do so are excluded together). Else the first attribute that differs,
what the policies at hand mention first.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from netverify.encoding.groups import NewPodGroup, Wild
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.model import ContainerPort, Endpoint, PodEndpoint, PortRange, Protocol

MAX_EXCLUDED_VALUES = 3
"""Values a group of new pods excludes for one label before it takes the witness's only."""


@dataclass(frozen=True)
class Attribute:
    """A label key or a named port of a new pod, by its index in the universe's keys or
    (name, protocol) ports."""

    kind: Literal["label", "port"]
    index: int


@dataclass(frozen=True)
class Target:
    """The ports every flow of a group must change on, as the witness did: its `ports`;
    or, where its change follows its destination's named port (`followed`, its index in
    the named ports), that port whatever its number, except where another rule decides
    the flow (a port of the `deciding` ranges)."""

    ports: tuple[PortRange, ...]
    followed: int | None = None
    deciding: tuple[PortRange, ...] = ()

    def taken(self, number: int) -> PortRange:
        """The deciding range that holds the number, else the number alone."""
        return next(
            (r for r in self.deciding if r.start <= number <= r.end),
            PortRange(start=number, end=number),
        )


@dataclass(frozen=True)
class Attributes:
    """The attributes a group of new pods pins or frees, in the encoding's order: it exists
    to build probe pods and orders of attributes without handing the universe around."""

    label_keys: list[str]
    named_ports: list[tuple[str, Protocol]]
    label_codes: list[int]
    """How many codes each label key has (absent, each mentioned value, any other)."""
    other_values: list[str]
    """Per label key, a value no policy mentions."""
    mentioned_values: list[list[str]]
    """Per label key, the values policies mention, in code order (from code 1)."""

    def order(
        self,
        own: NewPodGroup,
        odd: NewPodGroup,
        mentioned: tuple[set[str], set[str]],
        protocol: Protocol,
    ) -> list[Attribute]:
        """The attributes on which the odd pod differs from the witness's: named ports of
        the flow's protocol (a rule names a port of its own protocol only), then labels,
        those the policies at hand mention (`mentioned`: keys, port names) first."""
        keys, names = mentioned
        ports = [
            Attribute("port", index)
            for index in range(len(self.named_ports))
            if odd.named_ports[index] != own.named_ports[index]
            and self.named_ports[index][1] is protocol
        ]
        labels = [
            Attribute("label", index)
            for index in range(len(self.label_keys))
            if odd.label_codes[index] != own.label_codes[index]
        ]
        return [
            *sorted(ports, key=lambda a: self.named_ports[a.index][0] not in names),
            *sorted(labels, key=lambda a: self.label_keys[a.index] not in keys),
        ]

    def culprits(
        self,
        revisions: Revisions,
        witness: ChangedFlow,
        at_source: bool,
        odd: PodEndpoint,
        order: list[Attribute],
        facing: Endpoint | None = None,
    ) -> list[Attribute]:
        """The fewest attributes of `order` (each needed) that, given the odd pod's values,
        make the witness change otherwise (the evaluator's word); none where even all of
        them do not (the odd flow is odd at its other end, or was reported). `facing`: the
        other end of the probes, where not the witness's (the odd flow's, for a flow odd
        only by both its ends together)."""
        taken = list(order)
        if self._changes_like(revisions, witness, at_source, odd, taken, facing):
            return []
        for attribute in order:
            fewer = [a for a in taken if a != attribute]
            if not self._changes_like(revisions, witness, at_source, odd, fewer, facing):
                taken = fewer
        return taken

    def _changes_like(
        self,
        revisions: Revisions,
        witness: ChangedFlow,
        at_source: bool,
        odd: PodEndpoint,
        taken: list[Attribute],
        facing: Endpoint | None,
    ) -> bool:
        """The witness, its pod given the odd pod's values of the `taken` attributes (and
        its other end `facing`, where given), changes like it."""
        own = _pod_end(witness, at_source)
        labels = dict(own.pod.labels)
        ports = list(own.pod.ports)
        for attribute in taken:
            if attribute.kind == "label":
                key = self.label_keys[attribute.index]
                labels.pop(key, None)
                if key in odd.pod.labels:
                    labels[key] = odd.pod.labels[key]
            else:
                named = self.named_ports[attribute.index]
                ports = [p for p in ports if (p.name, p.protocol) != named]
                ports += [p for p in odd.pod.ports if (p.name, p.protocol) == named]
        return self._probe_alike(revisions, witness, at_source, labels, ports, facing)

    def target(self, revisions: Revisions, witness: ChangedFlow, at_source: bool) -> Target:
        """What the group at one end of the witness must change on (`Target`)."""
        if witness.named_port is None or at_source:
            return Target(witness.ports)
        return Target(
            witness.ports,
            self.named_ports.index(witness.named_port),
            tuple(revisions.deciding_ranges(witness.flow)),
        )

    def seeded(
        self, revisions: Revisions, witness: ChangedFlow, at_source: bool, group: NewPodGroup
    ) -> NewPodGroup:
        """The group without the combinations of labels of the policies at hand
        (`label_combinations`) that, given to the witness's pod, make it change otherwise
        (the evaluator's word): each would otherwise cost the narrowing a solver round."""
        own = _pod_end(witness, at_source)
        excluded = list(group.excluded)
        for labels in revisions.label_combinations(witness.flow):
            if not all(
                key in self.label_keys
                and value in self.mentioned_values[self.label_keys.index(key)]
                for key, value in labels.items()
            ):
                continue
            indices = [self.label_keys.index(key) for key in labels]
            combination = tuple(
                (index, self.mentioned_values[index].index(value) + 1)
                for index, value in zip(indices, labels.values(), strict=True)
            )
            if combination in excluded or own.pod.labels.items() >= labels.items():
                continue
            probe = {**own.pod.labels, **labels}
            if not self._probe_alike(revisions, witness, at_source, probe, list(own.pod.ports)):
                excluded.append(combination)
        return replace(group, excluded=tuple(excluded))

    def pins(self, revisions: Revisions, witness: ChangedFlow, at_source: bool, index: int) -> bool:
        """The witness's pod, without the label or with a value no policy mentions,
        changes otherwise both times: the label's other values likely do too (a selector
        that asks for the witness's value), so a group takes the witness's value at once
        rather than excluding the values one odd pod at a time."""
        own = _pod_end(witness, at_source)
        key = self.label_keys[index]
        for value in (None, self.other_values[index]):
            labels = {k: v for k, v in own.pod.labels.items() if k != key}
            if value is not None:
                labels[key] = value
            if self._probe_alike(revisions, witness, at_source, labels, list(own.pod.ports)):
                return False
        return True

    def _probe_alike(
        self,
        revisions: Revisions,
        witness: ChangedFlow,
        at_source: bool,
        labels: dict[str, str],
        ports: list[ContainerPort],
        facing: Endpoint | None = None,
    ) -> bool:
        """The witness, its pod given these labels and ports (and its other end `facing`,
        where given), changes like it."""
        own = _pod_end(witness, at_source)
        pod = own.pod.model_copy(update={"labels": labels, "ports": tuple(ports)})
        end = own.model_copy(update={"pod": pod})
        ends: dict[str, Endpoint] = {"source" if at_source else "destination": end}
        if facing is not None:
            ends["destination" if at_source else "source"] = facing
        probe = witness.flow.model_copy(update=ends)
        expected = revisions.expected_ports(witness, probe)
        if witness.named_port is not None and not at_source:
            # The change follows the destination's named port: so does the probe's port.
            if not expected:
                return not revisions.changed_ports(probe, witness.change)
            probe = probe.model_copy(update={"port": expected[0].start})
        return revisions.changes_alike(witness, probe) and (
            revisions.changed_ports(probe, witness.change) == expected
        )

    def narrowed(
        self,
        group: NewPodGroup,
        own: NewPodGroup,
        odd: NewPodGroup,
        target: Target,
        culprits: list[Attribute],
        order: list[Attribute],
        pins: Callable[[int], bool],
    ) -> NewPodGroup | None:
        """`group` without the odd pod, keeping the witness's pod (`own`). Labels that only
        together make the odd pod's flow change otherwise (`culprits`) are excluded together;
        else the group is told apart by the first attribute, culprits first, that can: the
        named port the target follows, numbered by the odd pod where another rule decides,
        becomes "undefined or outside" that rule's range (and the ranges before); a named
        port the odd pod numbers inside the ports, and the witness's pod not, becomes
        "undefined or outside them"; a label first loses the odd pod's values ("tier not in
        {db}"), then takes the witness's only, at once for a culprit the witness `pins` (its
        index); a named port else takes the witness's number (or none). Else the address
        segment takes the witness's. None when nothing tells them apart."""
        if len(culprits) > 1 and all(a.kind == "label" for a in culprits):
            combination = tuple(
                (a.index, code)
                for a in culprits
                if isinstance(code := odd.label_codes[a.index], int)
            )
            if len(combination) == len(culprits):
                return replace(group, excluded=(*group.excluded, combination))
        numbers, codes = group.named_ports, group.label_codes

        def inside(number: int | Wild | None, ports: tuple[PortRange, ...]) -> bool:
            return isinstance(number, int) and any(r.start <= number <= r.end for r in ports)

        for attribute in (*culprits, *order):
            index = attribute.index
            if attribute.kind == "port":
                if numbers[index] not in (Wild.ANY, Wild.OUTSIDE):
                    continue
                number: int | Wild | None = own.named_ports[index]
                theirs_number = odd.named_ports[index]
                if index == target.followed and isinstance(theirs_number, int):
                    taken = target.taken(theirs_number)
                    if not inside(number, (taken,)):
                        return replace(
                            group,
                            named_ports=(*numbers[:index], Wild.OUTSIDE, *numbers[index + 1 :]),
                            outside=(*group.outside, taken),
                        )
                elif (
                    numbers[index] is Wild.ANY
                    and inside(theirs_number, target.ports)
                    and not inside(number, target.ports)
                ):
                    number = Wild.OUTSIDE
                return replace(group, named_ports=(*numbers[:index], number, *numbers[index + 1 :]))
            code, theirs, mine = codes[index], odd.label_codes[index], own.label_codes[index]
            if not isinstance(theirs, int) or not isinstance(mine, int) or theirs == mine:
                continue
            if attribute in culprits and not isinstance(code, int) and pins(index):
                narrower: int | frozenset[int] = mine
            elif code is None:
                narrower = frozenset({theirs})
            elif isinstance(code, frozenset) and theirs not in code:
                narrower = code | {theirs} if len(code) < MAX_EXCLUDED_VALUES else mine
            else:
                continue
            if isinstance(narrower, frozenset) and len(narrower) == self.label_codes[index] - 1:
                narrower = mine  # all values but the witness's: say which
            return replace(group, label_codes=(*codes[:index], narrower, *codes[index + 1 :]))
        if group.segment is Wild.ANY and odd.segment != own.segment:
            return replace(group, segment=own.segment)
        return None


def _pod_end(witness: ChangedFlow, at_source: bool) -> PodEndpoint:
    """The witness's end that is the group of new pods."""
    own = witness.flow.source if at_source else witness.flow.destination
    assert isinstance(own, PodEndpoint), "a group of new pods is pods"
    return own


def apart(group: NewPodGroup, own: NewPodGroup, reported: NewPodGroup) -> NewPodGroup | None:
    """`group` narrowed so that no pod of it is one of `reported`'s, keeping the witness's
    pod (`own`, every attribute pinned), by the widest step that does: a label the reported
    group pins to another value loses that value ("tier not in {db}"); else a label whose
    value it excludes, or a named port it leaves undefined or numbers outside ranges that
    hold the witness's number, takes the witness's value (a port numbered inside the same
    ranges as the group's: any number inside them, "the flow's port"); else the
    labels of a combination it excludes that the witness's pod has. None when the witness's
    pod is one of `reported`'s too: they cannot be told apart there."""
    codes, numbers = group.label_codes, group.named_ports
    for index, (theirs, mine) in enumerate(zip(reported.label_codes, own.label_codes, strict=True)):
        code = codes[index]
        if (
            isinstance(theirs, int)
            and theirs != mine
            and (code is None or (isinstance(code, frozenset) and theirs not in code))
        ):
            narrower = frozenset({theirs}) if code is None else code | {theirs}
            return replace(group, label_codes=(*codes[:index], narrower, *codes[index + 1 :]))
    for index, (theirs, mine) in enumerate(zip(reported.label_codes, own.label_codes, strict=True)):
        if isinstance(theirs, frozenset) and mine in theirs and not isinstance(codes[index], int):
            return replace(group, label_codes=(*codes[:index], mine, *codes[index + 1 :]))
    for index, (theirs_number, mine_number) in enumerate(
        zip(reported.named_ports, own.named_ports, strict=True)
    ):
        if numbers[index] not in (Wild.ANY, Wild.OUTSIDE) or not isinstance(mine_number, int):
            continue
        if not (
            theirs_number is None
            or (
                theirs_number is Wild.OUTSIDE
                and any(r.start <= mine_number <= r.end for r in reported.outside)
            )
        ):
            continue
        if (
            theirs_number is Wild.OUTSIDE
            and reported.outside == group.outside
            and numbers[index] is Wild.ANY
        ):
            # Inside the ranges the reported group leaves out, whatever the number.
            return replace(
                group, named_ports=(*numbers[:index], Wild.INSIDE, *numbers[index + 1 :])
            )
        return replace(group, named_ports=(*numbers[:index], mine_number, *numbers[index + 1 :]))
    for combination in reported.excluded:
        if all(own.label_codes[index] == code for index, code in combination) and not all(
            codes[index] == code for index, code in combination
        ):
            pinned = dict(combination)
            return replace(
                group,
                label_codes=tuple(pinned.get(i, code) for i, code in enumerate(codes)),
            )
    return None


def pruned(group: NewPodGroup) -> NewPodGroup:
    """The group without the excluded combinations its other terms rule out already
    (seeded before the narrowing pinned a label): they exclude nothing and read as noise."""
    kept: list[tuple[tuple[int, int], ...]] = []
    for combination in group.excluded:
        others = replace(group, excluded=tuple(c for c in group.excluded if c != combination))
        if not others.rules_out(combination):
            kept.append(combination)
    return replace(group, excluded=tuple(kept))
