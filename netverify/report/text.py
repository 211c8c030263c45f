"""Compiler-style text: `path:line: error: [kind] name: violated`, then the flow and rules."""

from netverify.model import (
    Explanation,
    FlowDecision,
    InvariantResult,
    Report,
    SourceMap,
    Status,
    Witness,
)
from netverify.report.describe import describe_flow, describe_node_local, describe_side

_LEVEL = {
    Status.HOLDS: "note",
    Status.VIOLATED: "error",
    Status.UNKNOWN: "warning",
    Status.ERROR: "error",
}


def format_report(report: Report) -> str:
    lines: list[str] = []
    for result in report.results:
        lines += result_lines(result, report)
    counts = {status: 0 for status in Status}
    for result in report.results:
        counts[result.status] += 1
    lines.append(
        f"{report.spec_file}: {len(report.results)} invariants: "
        + ", ".join(f"{counts[status]} {status.value}" for status in Status)
    )
    lines.append("assumptions:")
    lines += [f"  - {note}" for note in report.assumptions]
    return "\n".join(lines) + "\n"


def result_lines(result: InvariantResult, report: Report) -> list[str]:
    where = str(result.location) if result.location else report.spec_file
    lines = [
        f"{where}: {_LEVEL[result.status]}: [{result.kind.value}] {result.name}: "
        f"{result.status.value}"
    ]
    if result.reason:
        lines.append(f"  {result.reason}")
    if result.counterexample is not None:
        label = "an allowed flow" if result.counterexample.decision.allowed else "a blocked flow"
        lines += _witness_lines(label, result.counterexample, report.sources)
    if result.witness is not None:
        lines += _witness_lines("witness", result.witness, report.sources)
    lines.append(f"  over: {result.scope}")
    return lines


def _witness_lines(label: str, witness: Witness, sources: SourceMap) -> list[str]:
    lines = [f"  {label}: {describe_flow(witness.decision.flow)}"]
    if witness.source_is_new_pod or witness.destination_is_new_pod:
        lines.append("    (<new pod>: a pod that does not exist yet but could be created)")
    lines += [f"    {line}" for line in decision_lines(witness.decision, sources)]
    return lines


def decision_lines(decision: FlowDecision, sources: SourceMap) -> list[str]:
    """The reasons on both sides, egress first (the order packets meet them); node-local
    traffic first says why the sides do not matter."""
    sides = [
        describe_side(decision.egress, decision, sources),
        describe_side(decision.ingress, decision, sources),
    ]
    return [describe_node_local(decision), *sides] if decision.node_local else sides


def format_explanation(explanation: Explanation, sources: SourceMap) -> str:
    """`explain`'s answer for one flow; where the ends may share a node, per placement."""
    decision, same_node = explanation.decision, explanation.same_node
    verdict = "allowed" if decision.allowed else "blocked"
    lines = [f"{describe_flow(decision.flow)}: {verdict}"]
    if same_node is None:
        lines += [f"  {line}" for line in decision_lines(decision, sources)]
        return "\n".join(lines) + "\n"
    if same_node.allowed != decision.allowed:
        placed = "allowed" if same_node.allowed else "blocked"
        lines[0] = (
            f"{describe_flow(decision.flow)}: {placed} on the same node, {verdict} across nodes"
        )
    lines.append("  on the same node:")
    same_node_lines = (
        [describe_node_local(same_node)]
        if same_node.node_local
        else decision_lines(same_node, sources)
    )
    lines += [f"    {line}" for line in same_node_lines]
    lines.append("  across nodes:")
    lines += [f"    {line}" for line in decision_lines(decision, sources)]
    return "\n".join(lines) + "\n"
