"""Witness flows: decoded from the solver at once, and printed on one line."""

import z3

from netverify.encoding.decode import decode_flow
from netverify.engine.lint.context import LintContext
from netverify.engine.replay import ReplayMismatch
from netverify.model import Endpoint, Flow, PodEndpoint


def witness(context: LintContext, *terms: z3.BoolRef) -> Flow | None:
    """A flow that satisfies `terms`, decoded at once, between existing namespaces when one
    is (a readable witness), else anywhere; None when none does (or the solver gave up: no
    finding rests on an unknown)."""
    encoding = context.encoding
    existing = [
        encoding.existing_namespace(end)
        for end in (encoding.flow.source, encoding.flow.destination)
    ]
    solver = context.solver
    for scope in (existing, []):
        solver.push()
        try:
            solver.add(*terms, *scope)
            outcome = solver.check()
            if outcome == z3.sat:
                return decode_flow(encoding, solver.model())
        finally:
            solver.pop()
        if outcome == z3.unknown:
            return None
    return None


def new_pod_text(endpoint: PodEndpoint) -> str:
    """`ns/<new pod> (k=v,...)`."""
    labels = ",".join(f"{key}={value}" for key, value in sorted(endpoint.pod.labels.items()))
    return f"{endpoint.namespace.name}/<new pod>" + (f" ({labels})" if labels else "")


def endpoint_text(endpoint: Endpoint) -> str:
    """`ns/name`, `ns/<new pod> (k=v)` for a pod that could exist, or the address."""
    if isinstance(endpoint, PodEndpoint):
        if endpoint.pod.name is None:
            return new_pod_text(endpoint)
        return f"{endpoint.pod.namespace}/{endpoint.pod.name}"
    return str(endpoint.ip)


def flow_text(flow: Flow) -> str:
    """The flow on one line: `source -> destination PROTOCOL/port`."""
    return (
        f"{endpoint_text(flow.source)} -> {endpoint_text(flow.destination)} "
        f"{flow.protocol.value}/{flow.port}"
    )


def replay_mismatch(check: str, flow: Flow) -> ReplayMismatch:
    """The error for a witness the reference evaluator does not confirm."""
    return ReplayMismatch(
        f"lint {check}: the reference evaluator disagrees with the solver on {flow_text(flow)} "
        "(a soundness bug; please report it)"
    )
