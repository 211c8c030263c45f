"""Port numbers of a flow's destination pod: the number a pod gives a named port, the flow
with the pod giving it another, and port ranges with numbers cut out. The diff's named-port
templates (`namedports`) and the replay of witnesses (`revisions`) both ask them.
"""

from netverify.engine.diff.classes import port_ranges
from netverify.model import ContainerPort, Endpoint, Flow, PodEndpoint, PortRange, Protocol


def named_number(endpoint: Endpoint, named: tuple[str, Protocol]) -> int | None:
    """The endpoint's number for a named port; None where it does not define it."""
    if not isinstance(endpoint, PodEndpoint):
        return None
    return next(
        (p.port for p in endpoint.pod.ports if (p.name, p.protocol) == named),
        None,
    )


def with_named(flow: Flow, named: tuple[str, Protocol], number: int) -> Flow:
    """The flow with its destination, a pod, defining the named port at the number."""
    destination = flow.destination
    assert isinstance(destination, PodEndpoint)
    port = ContainerPort(name=named[0], port=number, protocol=named[1])
    pod = destination.pod.model_copy(update={"ports": (*destination.pod.ports, port)})
    return flow.model_copy(update={"destination": destination.model_copy(update={"pod": pod})})


def ports_but(ranges: tuple[PortRange, ...], numbers: set[int]) -> tuple[PortRange, ...]:
    """The ports of the ranges but the numbers."""
    if not numbers:
        return ranges
    segments = []
    for port_range in ranges:
        start = port_range.start
        for number in sorted(n for n in numbers if port_range.start <= n <= port_range.end):
            if start < number:
                segments.append((start, number - 1))
            start = number + 1
        if start <= port_range.end:
            segments.append((start, port_range.end))
    return port_ranges(segments)
