"""Changes that follow a named port of a pod that could exist, whatever its number.

A pod that could exist numbers its named ports in endless ways, and a change between it and
a peer often depends on the number only as a rule on the named port says: the change is on
exactly that port (`on_named_port`, inside the range a rule opened where it is one), or on a
range but that port (`on_excepted_ports`). A witness that says so stands for every number:
one group of new pods, not one per number. The evaluator proposes; the solver confirms.
"""

import itertools
from collections.abc import Sequence
from dataclasses import replace

from netverify.engine.diff.classes import port_ranges
from netverify.engine.diff.flowports import ports_but, with_named
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.model import ContainerPort, Flow, PodEndpoint, PortRange, Protocol
from netverify.model.diff import Change
from netverify.semantics import port_cuts


def on_named_port(revisions: Revisions, witness: ChangedFlow) -> ChangedFlow:
    """The witness with the `named_port` its change follows, where its destination has
    one numbered as its only changed port that, renumbered to a port no rule names,
    moves the change with it; else that, renumbered inside the ranges of rules that
    hold its number, moves the change with it there (`named_within`). The evaluator's
    word; the solver confirms the group."""
    destination = witness.flow.destination
    if not isinstance(destination, PodEndpoint) or len(witness.ports) != 1:
        return witness
    changed = witness.ports[0]
    if changed.start != changed.end:
        return witness
    deciding = revisions.deciding_ranges(witness.flow)
    spare = _spare_port(witness.flow, deciding)
    if spare is None:
        return witness
    candidates = [
        (name, named)
        for named in destination.pod.ports
        if (name := named.name)
        and named.port == changed.start
        and named.protocol is witness.protocol
    ]
    for name, named in candidates:
        if _follows(revisions, witness, named, spare):
            return replace(witness, named_port=(name, named.protocol))
    for name, named in candidates:
        if within := _numbers_followed(revisions, witness, named, deciding):
            return replace(witness, named_port=(name, named.protocol), named_within=within)
    return witness


def _follows(revisions: Revisions, witness: ChangedFlow, named: ContainerPort, number: int) -> bool:
    """The witness's change moves with its destination's named port renumbered."""
    destination = witness.flow.destination
    assert isinstance(destination, PodEndpoint)
    pod = destination.pod.model_copy(
        update={
            "ports": tuple(
                p.model_copy(update={"port": number}) if p is named else p
                for p in destination.pod.ports
            )
        }
    )
    probe = witness.flow.model_copy(
        update={"destination": destination.model_copy(update={"pod": pod}), "port": number}
    )
    return revisions.changed_ports(probe, witness.change) == (PortRange(start=number, end=number),)


def _numbers_followed(
    revisions: Revisions, witness: ChangedFlow, named: ContainerPort, deciding: list[PortRange]
) -> tuple[PortRange, ...]:
    """The numbers of the deciding ranges that hold the named port's number to which
    the change moves with the port (one number per segment between the cuts of the
    deciding ranges and the pod's other ports stands for the segment); none unless the
    witness's own number's segment is one."""
    holding = [r for r in deciding if r.start <= named.port <= r.end]
    if not holding:
        return ()
    low, high = min(r.start for r in holding), max(r.end for r in holding)
    destination = witness.flow.destination
    assert isinstance(destination, PodEndpoint)
    others = [p.port for p in destination.pod.ports if p is not named]
    followed = [
        (start, end - 1)
        for start, end in itertools.pairwise(port_cuts(deciding, others))
        if low <= start and end - 1 <= high and _follows(revisions, witness, named, start)
    ]
    if not any(start <= named.port <= end for start, end in followed):
        return ()
    return port_ranges(followed)


def on_excepted_ports(revisions: Revisions, witness: ChangedFlow) -> ChangedFlow:
    """The witness with the named ports its change leaves out (`excepted`), where its
    destination is a pod that could exist: of the port names in the rules that could
    admit it, on its protocol, each that, numbered at a port of the change (one per
    segment between cuts) of a destination that defines none of them, takes that port
    out of the change and nothing else. Its `ports` are then that change's: one group
    whatever the numbers, not one per number. The evaluator's word; the solver
    confirms the group."""
    flow = witness.flow
    if witness.named_port is not None or not isinstance(flow.destination, PodEndpoint):
        return witness
    names = [(name, witness.protocol) for name in sorted(revisions.mentioned(flow)[1])]
    bare = _without_named(flow, names)
    ports = revisions.changed_ports(bare, witness.change)
    excepted = tuple(
        named for named in names if _excepts(revisions, witness.change, bare, named, ports)
    )
    if not excepted:
        return witness
    wider = replace(witness, ports=ports, excepted=excepted)
    # The witness's own change is the wider one's but its numbers for those ports.
    return wider if revisions.expected_ports(wider, flow) == witness.ports else witness


def _excepts(
    revisions: Revisions,
    change: Change,
    bare: Flow,
    named: tuple[str, Protocol],
    ports: tuple[PortRange, ...],
) -> bool:
    """The flow's destination (which does not define the named port), given the port
    numbered at any port of `ports`, changes on `ports` but that number."""
    destination = bare.destination
    assert isinstance(destination, PodEndpoint)
    numbers = [p.port for p in destination.pod.ports]
    inside = [
        start
        for start, end in itertools.pairwise(port_cuts(revisions.deciding_ranges(bare), numbers))
        if any(r.start <= start and end - 1 <= r.end for r in ports)
    ]
    for number in inside:
        probe = with_named(bare, named, number)
        if revisions.changed_ports(probe, change) != ports_but(ports, {number}):
            return False
    return bool(inside)


def _without_named(flow: Flow, named: Sequence[tuple[str, Protocol]]) -> Flow:
    """The flow with its destination, a pod, defining none of the named ports."""
    destination = flow.destination
    assert isinstance(destination, PodEndpoint)
    ports = tuple(p for p in destination.pod.ports if (p.name, p.protocol) not in named)
    pod = destination.pod.model_copy(update={"ports": ports})
    return flow.model_copy(update={"destination": destination.model_copy(update={"pod": pod})})


def _spare_port(flow: Flow, ranges: list[PortRange]) -> int | None:
    """A port no deciding range and no port of the destination holds (None: none is
    left), from the top of the port space down: where a named port can be moved to show
    that a change follows it."""
    taken = list(ranges)
    if isinstance(flow.destination, PodEndpoint):
        taken += [PortRange(start=p.port, end=p.port) for p in flow.destination.pod.ports]
    number = 65535
    for taken_range in sorted(taken, key=lambda r: r.end, reverse=True):
        if taken_range.end < number:
            return number
        number = min(number, taken_range.start - 1)
    return number if number >= 1 else None
