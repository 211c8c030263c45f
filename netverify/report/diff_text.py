"""`netverify diff` as compiler-style text: one finding per group, located at the rule."""

from collections import Counter

from netverify.model import PortRange, RuleRef, SourceMap
from netverify.model.diff import Change, DiffFinding, DiffReport, EndpointGroup
from netverify.report.describe import describe_flow, describe_rule
from netverify.report.text import decision_lines


def describe_group(group: EndpointGroup) -> str:
    labels = ",".join(f"{key}={value}" for key, value in sorted(group.labels.items()))
    suffix = f" ({labels})" if labels else ""
    match group.kind:
        case "external":
            return "external addresses"
        case "new-pod":
            return f"{group.namespace}/<new pod>{suffix}"
        case _:
            shown = ", ".join(group.pods[:3]) + (", ..." if len(group.pods) > 3 else "")
            count = f" [{len(group.pods)} pods]" if len(group.pods) > 1 else ""
            return f"{group.namespace}/{{{shown}}}{count}{suffix}"


def describe_ports(ports: tuple[PortRange, ...]) -> str:
    return ",".join(
        str(port.start) if port.start == port.end else f"{port.start}-{port.end}" for port in ports
    )


def responsible_rules(finding: DiffFinding) -> list[RuleRef]:
    """The rules that allow the flow where it is allowed (HEAD for added, BASE for removed)."""
    decision = finding.head if finding.change is Change.ADDED else finding.base
    return [*decision.egress.allowed_by, *decision.ingress.allowed_by]


def sources_of(finding: DiffFinding, report: DiffReport) -> SourceMap:
    return report.head_sources if finding.change is Change.ADDED else report.base_sources


MAX_NAMESPACES_SHOWN = 8


def finding_title(finding: DiffFinding) -> str:
    return (
        f"{describe_group(finding.source)}{_more(finding.other_sources, 'source')} -> "
        f"{describe_group(finding.destination)}{_more(finding.other_destinations, 'destination')} "
        f"{finding.protocol.value}/{describe_ports(finding.ports)}"
    )


def _more(others: tuple[EndpointGroup, ...], end: str) -> str:
    return f" and {_count(len(others), f'more {end} group')}" if others else ""


def other_groups_lines(finding: DiffFinding) -> list[str]:
    """The finding's further source and destination groups, counted per namespace (the
    first few named)."""
    return [
        f"also {word} {_count(len(others), f'more {end} group')} in {_per_namespace(others)}"
        for word, end, others in (
            ("from", "source", finding.other_sources),
            ("to", "destination", finding.other_destinations),
        )
        if others
    ]


def _per_namespace(groups: tuple[EndpointGroup, ...]) -> str:
    counts = Counter(group.namespace or "external addresses" for group in groups)
    shown = ", ".join(
        f"{namespace} ({count})" for namespace, count in counts.most_common(MAX_NAMESPACES_SHOWN)
    )
    rest = len(counts) - MAX_NAMESPACES_SHOWN
    more = f", and {_count(rest, 'more namespace')}" if rest > 0 else ""
    return f"{_count(len(counts), 'namespace')}: {shown}{more}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def finding_lines(finding: DiffFinding, report: DiffReport) -> list[str]:
    """The text format's lines for one finding, without its location prefix."""
    verb = "connectivity added" if finding.change is Change.ADDED else "connectivity removed"
    lines = [f"[{finding.change.value}] {verb}: {finding_title(finding)}"]
    lines += [f"  {line}" for line in other_groups_lines(finding)]
    lines.append(f"  witness: {describe_flow(finding.head.flow)}")
    for label, decision, sources in (
        (report.base_label, finding.base, report.base_sources),
        (report.head_label, finding.head, report.head_sources),
    ):
        lines.append(f"  {label}: {'allowed' if decision.allowed else 'blocked'}")
        lines += [f"    {line}" for line in decision_lines(decision, sources)]
    rules = responsible_rules(finding)
    if rules:
        sources = sources_of(finding, report)
        lines.append("  responsible: " + "; ".join(describe_rule(r, sources) for r in rules))
    return lines


def format_diff(report: DiffReport) -> str:
    lines: list[str] = []
    for finding in report.findings:
        rules = responsible_rules(finding)
        where = sources_of(finding, report).of_rule(rules[0]) if rules else None
        prefix = f"{where}: " if where else ""
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
