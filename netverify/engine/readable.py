"""Readable witnesses: of all flows a satisfiable query allows, pick one people can read.

Preferences are tried greedily, each kept only if the query stays satisfiable with it:
existing pods (by name) over pods that could exist, (for prove) a port the destination
declares, TCP, external addresses in IPv4 and,
where possible, in 203.0.113.0/24 (TEST-NET-3, so no real host is named), new pods without
labels, or at least without invented label values, then each remaining label of a new pod
dropped if it does not matter.
"""

from collections.abc import Sequence
from ipaddress import IPv4Network

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.decode import decode_flow
from netverify.encoding.selectors import in_network
from netverify.encoding.terms import protocol_code
from netverify.encoding.universe import ABSENT
from netverify.model import Endpoint, Flow, PodEndpoint, Protocol

EXAMPLE_NETWORK = IPv4Network("203.0.113.0/24")


def is_new_pod(endpoint: Endpoint) -> bool:
    """A pod that is not in the manifests but could be created."""
    return isinstance(endpoint, PodEndpoint) and endpoint.pod.name is None


def readable_flow(
    solver: z3.Solver,
    encoding: ClusterEncoding,
    prefer_existing: bool,
    tidy_labels: bool = True,
    prefer_tcp: bool = True,
    check_satisfied: bool = False,
    prefer_declared_port: bool = False,
    tidy_ports: bool = False,
    prefer_addresses: bool = True,
    assumptions: Sequence[z3.BoolRef] = (),
) -> Flow:
    """Call right after a `sat` check on the `assumptions`, which every later check assumes
    too; leaves the solver's frames as it found them.

    `tidy_labels` False skips the label preferences (a check each), for callers that decode
    many witnesses between existing pods, such as diff. `prefer_tcp` False keeps the
    model's protocol: for diff, whose findings are per protocol anyway, and where proving
    that a UDP-only change has no TCP flow can cost seconds. A preference the model at hand
    already satisfies is kept without a check, unless `check_satisfied`: a check can move
    the solver to another model and leaves it in another state for later queries, so a
    caller whose witnesses must not change (prove) checks every preference.
    `prefer_declared_port` prefers, before TCP, a port the destination pod declares (a
    containerPort) when the query leaves the port free. `tidy_ports` then leaves each
    named port of a pod that could exist undefined where it can (a check each): a witness
    whose pod numbers ports it need not is one whose group splits by those numbers.
    `prefer_addresses` False skips `address_preferences`, for a caller that assumed them
    in its own check (where satisfiable) and passes them on in `assumptions`."""
    frames = 0
    model = solver.model()
    flow = decode_flow(encoding, model)
    try:
        preferences = _preferences(
            encoding,
            prefer_existing,
            tidy_labels,
            prefer_tcp,
            prefer_declared_port,
            prefer_addresses,
        )
        for preference in preferences:
            if not check_satisfied and z3.is_true(model.eval(preference, model_completion=True)):
                # Kept without a check: the model at hand satisfies it already.
                solver.push()
                solver.add(preference)
                frames += 1
            elif _still_satisfiable(solver, assumptions, preference):
                frames += 1
                model = solver.model()
                flow = decode_flow(encoding, model)
        for label in _labels_of_new_pods(encoding, flow) if tidy_labels else ():
            if _still_satisfiable(solver, assumptions, label == ABSENT):
                frames += 1
                flow = decode_flow(encoding, solver.model())
        if tidy_ports and _named_ports_of_new_pods(encoding, flow):
            # None at all first; else one at a time, as each check may define others.
            if _still_satisfiable(
                solver, assumptions, z3.Not(z3.Or(_every_named_port(encoding, flow)))
            ):
                frames += 1
                flow = decode_flow(encoding, solver.model())
            while defined := _named_ports_of_new_pods(encoding, flow):
                if not any(
                    _still_satisfiable(solver, assumptions, z3.Not(term)) for term in defined
                ):
                    break
                frames += 1
                flow = decode_flow(encoding, solver.model())
        return flow
    finally:
        if frames:
            solver.pop(frames)


def _still_satisfiable(
    solver: z3.Solver, assumptions: Sequence[z3.BoolRef], preference: z3.BoolRef
) -> bool:
    """Add the preference in a new frame if the assertions stay satisfiable with it, on
    the assumptions."""
    solver.push()
    solver.add(preference)
    if solver.check(*assumptions) == z3.sat:
        return True
    solver.pop()
    return False


def _labels_of_new_pods(encoding: ClusterEncoding, flow: Flow) -> list[z3.ArithRef]:
    symbolic = (encoding.flow.source, encoding.flow.destination)
    return [
        terms.pod_labels[key]
        for endpoint, terms in zip((flow.source, flow.destination), symbolic, strict=True)
        if isinstance(endpoint, PodEndpoint) and endpoint.pod.name is None
        for key in sorted(endpoint.pod.labels)
    ]


def _every_named_port(encoding: ClusterEncoding, flow: Flow) -> list[z3.BoolRef]:
    """Each named port of each end of the flow that is a pod that could exist is defined."""
    symbolic = (encoding.flow.source, encoding.flow.destination)
    return [
        port.defined
        for endpoint, terms in zip((flow.source, flow.destination), symbolic, strict=True)
        if is_new_pod(endpoint)
        for port in terms.named_ports.values()
    ]


def _named_ports_of_new_pods(encoding: ClusterEncoding, flow: Flow) -> list[z3.BoolRef]:
    symbolic = (encoding.flow.source, encoding.flow.destination)
    return [
        terms.named_ports[key].defined
        for endpoint, terms in zip((flow.source, flow.destination), symbolic, strict=True)
        if isinstance(endpoint, PodEndpoint) and endpoint.pod.name is None
        for key in sorted({(p.name, p.protocol) for p in endpoint.pod.ports if p.name})
        if key in terms.named_ports
    ]


def address_preferences(encoding: ClusterEncoding) -> list[z3.BoolRef]:
    """`readable_flow`'s preferences for the ends that are external addresses, in its order:
    IPv4, then 203.0.113.0/24. Vacuous for pods."""
    ends = (encoding.flow.source, encoding.flow.destination)
    return [
        z3.And([z3.Implies(z3.Not(end.is_pod), in_network(end.ip, network)) for end in ends])
        for network in (IPv4Network("0.0.0.0/0"), EXAMPLE_NETWORK)
    ]


def _preferences(
    encoding: ClusterEncoding,
    prefer_existing: bool,
    tidy_labels: bool,
    prefer_tcp: bool,
    prefer_declared_port: bool,
    prefer_addresses: bool,
) -> list[z3.BoolRef]:
    ends = (encoding.flow.source, encoding.flow.destination)
    preferences = []
    if prefer_existing:
        preferences.append(z3.And([encoding.existing_pod(end) for end in ends]))
        preferences += [encoding.existing_pod(end) for end in ends]
    declared = encoding.declared_port if prefer_declared_port else None
    if declared is not None:
        preferences.append(declared)
    if prefer_tcp:
        preferences.append(encoding.flow.protocol == protocol_code(Protocol.TCP))
    if prefer_addresses:
        preferences += address_preferences(encoding)
    if not tidy_labels:
        return preferences
    new_pod_labels = [(end, key, label) for end in ends for key, label in end.pod_labels.items()]
    preferences.append(
        z3.And(
            [z3.Implies(end.pod_class == -1, label == ABSENT) for end, _, label in new_pod_labels]
        )
    )
    other = encoding.universe.pod_labels.other
    preferences.append(
        z3.And(
            [
                z3.Implies(end.pod_class == -1, label != other(key))
                for end, key, label in new_pod_labels
            ]
        )
    )
    return preferences
