"""Compiler-style text, every command's default: `path:line: error: [kind] name: violated`,
then the flow and the rules, each at its `path:line`."""

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from netverify.model import (
    Explanation,
    FlowDecision,
    InvariantResult,
    Report,
    ServiceExplanation,
    SourceMap,
    Status,
    ViolationFinding,
    Witness,
    short_name,
)
from netverify.model.diff import Change, DiffFinding, DiffReport
from netverify.model.lint import FindingSeverity, LintReport
from netverify.model.matrix import ConnectivityMatrix, MatrixRow
from netverify.report.describe import (
    describe_endpoint,
    describe_flow,
    describe_node_local,
    describe_replicas,
    describe_rule,
    describe_side,
    finding_title,
    findings_summary,
    open_rules_lines,
    other_groups_lines,
    profiles_phrase,
    responsible_rules,
    sources_of,
    unaddressed_note,
    witness_label,
)
from netverify.report.listing import NAMES_SHOWN, names
from netverify.report.locations import explained_places, invariant_where
from netverify.report.tables import matrix_tables

if TYPE_CHECKING:
    # NOTE: only the type: importing the engine would load z3 for every text format.
    from netverify.engine.equivalence import DifferingFlow, Equivalence
    from netverify.engine.summary import ClusterSummary

_LEVEL = {
    Status.HOLDS: "note",
    Status.VIOLATED: "error",
    Status.UNKNOWN: "warning",
    Status.ERROR: "error",
}


def format_validate(summary: "ClusterSummary", every_name: bool = False) -> str:
    """The summary; lists of names stop after `NAMES_SHOWN` unless `every_name` (a 5,000-pod
    cluster would otherwise print thousands of names on one line)."""
    limit = None if every_name else NAMES_SHOWN
    implied = summary.implied_namespaces
    lines = [
        f"namespaces: {summary.namespaces}"
        + (f" ({len(implied)} used but not defined: {', '.join(implied)})" if implied else ""),
        f"pods: {summary.pods}, workloads: {summary.workloads}"
        " (each workload counts as one pod with its template's labels and ports)",
        f"network policies: {summary.policies}",
    ]
    for isolated in summary.isolated:
        lines.append(
            f"isolated for {isolated.direction.value.lower()}: {len(isolated.pods)}"
            + (f" ({names(isolated.pods, limit)})" if isolated.pods else "")
        )
    for tier, policies in summary.admin_tiers:
        lines.append(f"{tier.value.lower()} tier: {len(policies)} ({names(policies, limit)})")
    if summary.nodes:
        lines.append(f"nodes: {summary.nodes}")
    if summary.host_network:
        lines.append(
            "hostNetwork pods (outside NetworkPolicy; their traffic is the node's): "
            + names(summary.host_network, limit)
        )
    if summary.unmodelled:
        lines.append(
            "not modelled (verdicts they may decide are unknown): "
            + ", ".join(str(o) for o in summary.unmodelled)
        )
    if any("... and" in line for line in lines):
        lines.append(f"(lists stop after {NAMES_SHOWN} names; --all-names lists every one)")
    return "\n".join(lines) + "\n"


def format_prove(reports: Sequence[Report]) -> str:
    return "".join(_report_text(report) for report in reports)


def _report_text(report: Report) -> str:
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
    where = invariant_where(result, report)
    lines = [
        f"{where}: {_LEVEL[result.status]}: [{result.kind.value}] {result.name}: "
        f"{result.status.value}"
    ]
    if result.profiles is not None:
        lines.append(f"  {profiles_phrase(result.profiles)}")
    if result.reason:
        lines.append(f"  {result.reason}")
    if result.counterexample is not None:
        lines += _witness_lines(
            witness_label(result.counterexample), result.counterexample, report.sources
        )
    if result.witness is not None:
        lines += _witness_lines("witness", result.witness, report.sources)
    if result.all_findings is not None:
        lines.append(f"  {findings_summary(result.all_findings)}")
        for number, finding in enumerate(result.all_findings.findings, start=1):
            first, *rest = violation_finding_lines(finding, report.sources)
            lines += [f"  [{number}] {first}", *(f"  {line}" for line in rest)]
    lines.append(f"  over: {result.scope}")
    return lines


def violation_finding_lines(finding: ViolationFinding, sources: SourceMap) -> list[str]:
    """A `prove --all` finding as a diff finding reads: its groups and ports, then its
    witness with the rules (or policies) that decide it, each at its file:line."""
    lines = [finding_title(finding), *(f"  {line}" for line in other_groups_lines(finding))]
    lines += [f"  {line}" for line in _witness_lines("witness", finding.witness, sources)]
    return lines + [f"      {line}" for line in open_rules_lines(finding, sources)]


def _witness_lines(label: str, witness: Witness, sources: SourceMap) -> list[str]:
    flow = witness.decision.flow
    lines = [f"  {label}: {describe_flow(flow)}"]
    if witness.source_is_new_pod or witness.destination_is_new_pod:
        lines.append("    (<new pod>: a pod that does not exist yet but could be created)")
    if (replicas := describe_replicas(flow)) is not None:
        lines.append(f"    ({replicas})")
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


def _address_lines(explanation: Explanation, sources: SourceMap) -> list[str]:
    """Last, where an end had no known address and the pod CIDRs gave it some: that the
    verdict is the same at each, or the flow at addresses where it differs, with its
    reasons; without pod CIDRs, that the verdict rests on such an end having none."""
    if not explanation.addresses:
        note = unaddressed_note(explanation)
        return [] if note is None else [f"  note: {note}"]
    cidrs = ", ".join(map(str, explanation.addresses))
    other = explanation.address_dependent
    if other is None:
        return [
            f"  note: a pod without a known address was decided at every address in the pod "
            f"CIDRs {cidrs} that the policies tell apart: the same verdict at each, shown at one"
        ]
    verdict = "allowed" if other.allowed else "blocked"
    return [
        f"  unknown: the verdict depends on pod addresses the manifests do not give (pod "
        f"CIDRs {cidrs}): {verdict} at {describe_flow(other.flow)}",
        *(f"    {line}" for line in decision_lines(other, sources)),
    ]


def format_explain(explanation: Explanation, sources: SourceMap) -> str:
    """`explain`'s answer for one flow; where the ends may share a node, per placement."""
    decision, same_node = explanation.decision, explanation.same_node
    verdict = "allowed" if decision.allowed else "blocked"
    lines = [f"{describe_flow(decision.flow)}: {verdict}"]
    if explanation.may_be_decided_by:
        deciding = explanation.may_be_decided_by
        lines.append(
            f"  unknown: {', '.join(map(str, deciding))} "
            f"{'is' if len(deciding) == 1 else 'are'} not modelled by netverify and may "
            f"{'block' if explanation.allowed else 'allow'} this flow"
        )
    if explanation.doubt is not None:
        lines.append(f"  unknown: {explanation.doubt}")
    if explanation.order_dependent:
        names = " and ".join(short_name(ref) for ref in explanation.order_dependent)
        lines.append(
            f"  note: the verdict depends on the order of {names}, which the API leaves open; "
            "shown in netverify's order (priority, then ClusterNetworkPolicy, then name)"
        )
    if same_node is None:
        lines += [f"  {line}" for line in decision_lines(decision, sources)]
        return "\n".join(lines + _address_lines(explanation, sources)) + "\n"
    if same_node.allowed != decision.allowed:
        placed = "allowed" if same_node.allowed else "blocked"
        lines[0] = (
            f"{describe_flow(decision.flow)}: {placed} on the same node, {verdict} across nodes"
        )
    lines.append("  on the same node:")
    same_node_lines = (
        [describe_node_local(same_node)]
        if same_node.node_local and same_node.allowed
        else decision_lines(same_node, sources)
    )
    lines += [f"    {line}" for line in same_node_lines]
    lines.append("  across nodes:")
    lines += [f"    {line}" for line in decision_lines(decision, sources)]
    return "\n".join(lines + _address_lines(explanation, sources)) + "\n"


def format_service_explain(explanation: ServiceExplanation, sources: SourceMap) -> str:
    """The translation, then each backend's answer as `format_explain` writes it."""
    flows = explanation.flows
    allowed = sum(backend.allowed for backend in explanation.explanations)
    verdict = "reachable" if allowed else "blocked"
    lines = [
        f"{describe_endpoint(flows.source)} -> {flows.describe()}: {verdict} "
        f"({allowed} of {len(explanation.explanations)} backends allowed)"
    ]
    for backend in explanation.explanations:
        lines += [f"  {line}" for line in format_explain(backend, sources).splitlines()]
    return "\n".join(lines) + "\n"


def finding_lines(finding: DiffFinding, report: DiffReport) -> list[str]:
    """The text format's lines for one finding, without its location prefix."""
    verb = "connectivity added" if finding.change is Change.ADDED else "connectivity removed"
    lines = [f"[{finding.change.value}] {verb}: {finding_title(finding)}"]
    lines += [f"  {line}" for line in other_groups_lines(finding)]
    lines.append(f"  witness: {describe_flow(finding.head.flow)}")
    if (replicas := describe_replicas(finding.head.flow)) is not None:
        lines.append(f"    ({replicas})")
    for label, decision, sources in (
        (report.base_label, finding.base, report.base_sources),
        (report.head_label, finding.head, report.head_sources),
    ):
        lines.append(f"  {label}: {'allowed' if decision.allowed else 'blocked'}")
        lines += [f"    {line}" for line in decision_lines(decision, sources)]
        if decision.allowed:
            lines += [f"    {line}" for line in open_rules_lines(finding, sources)]
    rules = responsible_rules(finding)
    if rules:
        sources = sources_of(finding, report)
        lines.append("  responsible: " + "; ".join(describe_rule(r, sources) for r in rules))
    return lines


def format_diff(report: DiffReport) -> str:
    lines: list[str] = []
    for finding in report.findings:
        places = explained_places(finding, report)
        prefix = f"{places[0].span}: " if places else ""
        first, *rest = finding_lines(finding, report)
        lines += [f"{prefix}warning: {first}", *rest]
    added = sum(1 for f in report.findings if f.change is Change.ADDED)
    removed = len(report.findings) - added
    if report.error:
        lines.append(f"error: {report.error}")
    if not report.findings and report.complete and not report.error:
        lines.append(f"{report.base_label} -> {report.head_label}: no connectivity change")
    else:
        lines.append(
            f"{report.base_label} -> {report.head_label}: {added} added, {removed} removed"
            + ("" if report.complete else f" (incomplete: {report.incomplete_reason})")
        )
    lines.append(f"over: {report.scope}")
    lines.append("assumptions:")
    lines += [f"  - {note}" for note in report.assumptions]
    return "\n".join(lines) + "\n"


def format_lint(report: LintReport) -> str:
    lines: list[str] = []
    for found in report.findings:
        where = f"{found.span}: " if found.span else ""
        subject = f"{found.object.namespace}/{found.object.name}: " if found.object else ""
        if found.object is not None and found.object.namespace is None:
            subject = f"{found.object.kind} {found.object.name}: "
        lines.append(
            f"{where}{found.severity.value}: [{found.check}] {found.name}: {subject}{found.message}"
        )
        lines.append(f"  fix: {report.remediation(found)}")
    counts = {severity: 0 for severity in FindingSeverity}
    for found in report.findings:
        counts[found.severity] += 1
    summary = ", ".join(f"{counts[severity]} {severity.value}" for severity in FindingSeverity)
    suffix = f" ({len(report.suppressed)} suppressed)" if report.suppressed else ""
    count = len(report.findings)
    lines.append(f"{count} finding{'' if count == 1 else 's'}: {summary}{suffix}")
    return "\n".join(lines) + "\n"


def format_migrate(
    written: Sequence[str], equivalence: "Equivalence", before: SourceMap, after: SourceMap
) -> str:
    """`migrate`'s answer: the files written, then the proof or each flow that differs with
    the rules that decide it before (v1alpha1) and after (the ClusterNetworkPolicies)."""
    lines = [f"migrate: wrote {path}" for path in written]
    if equivalence.proved:
        lines.append("migrate: equivalent (proved)")
        return "\n".join(lines) + "\n"
    if equivalence.differences:
        lines.append(
            f"migrate: not equivalent: {len(equivalence.differences)} flows decided differently "
            "(one per pair of pod groups)"
        )
    for difference in equivalence.differences:
        lines += _difference_lines(difference, before, after)
    if equivalence.unknown_reason is not None:
        lines.append(f"migrate: not proved: {equivalence.unknown_reason}")
    return "\n".join(lines) + "\n"


def _difference_lines(
    difference: "DifferingFlow", before: SourceMap, after: SourceMap
) -> list[str]:
    lines = [describe_flow(difference.flow)]
    for label, decisions, sources in (
        ("before", difference.before, before),
        ("after", difference.after, after),
    ):
        verdicts = ["allowed" if decision.allowed else "blocked" for decision in decisions]
        if len(decisions) == 1:
            lines.append(f"  {label}: {verdicts[0]}")
            lines += [f"    {line}" for line in decision_lines(decisions[0], sources)]
            continue
        lines.append(f"  {label}: {' or '.join(verdicts)}, by an order the API leaves open")
        for verdict, decision in zip(verdicts, decisions, strict=True):
            lines.append(f"    when {verdict}:")
            lines += [f"      {line}" for line in decision_lines(decision, sources)]
    return lines


def format_matrix(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[str]:
    """One table per port, one line per row of the matrix as it comes."""
    names = [entity.name for entity in matrix.entities]
    width = max([1, *(len(name) for name in names)])
    header = "  ".join(["-".ljust(width), *(name.ljust(width) for name in names)]).rstrip()
    for number, table in enumerate(matrix_tables(matrix, rows)):
        if number:
            yield "\n"
        yield f"{table.label} (X allowed, . blocked; rows: from, columns: to)\n{header}\n"
        for row in table.rows:
            marks = [("X" if allowed else ".").ljust(width) for allowed in row.allowed]
            yield "  ".join([row.source.ljust(width), *marks]).rstrip() + "\n"
    for note in matrix.undecided:
        yield f"note: {note}\n"
