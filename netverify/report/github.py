"""GitHub Actions workflow commands: annotations on the lines responsible, without SARIF.

One line per violated or undecided invariant (and per `prove --all` finding), or per diff
finding:
`::error file=F,line=L,title=T::message` (the level is the SARIF rule's: error, warning, or
notice for note), at the same primary location as the SARIF result; then one `::notice` line
with the summary. The message keeps its line breaks, escaped as GitHub's toolkit does.
See https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from collections.abc import Sequence

from netverify.model import InvariantResult, Report, Status
from netverify.model.diff import Change, DiffFinding, DiffReport
from netverify.report.describe import result_message
from netverify.report.locations import (
    Place,
    finding_places,
    result_places,
    violation_finding_places,
)
from netverify.report.rules import Rule, rule_for_finding, rule_for_result
from netverify.report.text import decision_lines, finding_lines, violation_finding_lines

_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """A command's message: `%`, CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: as a message, and `:` and `,` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """`::name key=value,...::message`, properties in the order given."""
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + rendered if rendered else ''}::{escape_data(message)}"


def _annotation(rule: Rule, title: str, message: str, place: Place | None, file: str) -> str:
    properties = {"file": place.span.file if place else file}
    if place is not None:
        properties["line"] = str(place.span.line)
    properties["title"] = title
    return command(_COMMANDS[rule.level], message, **properties)


def _result_line(result: InvariantResult, report: Report) -> str | None:
    rule = rule_for_result(result)
    if rule is None:
        return None
    lines = [result_message(result)]
    if result.counterexample is not None:
        lines += [
            f"  {line}" for line in decision_lines(result.counterexample.decision, report.sources)
        ]
    if result.location is not None:
        lines.append(f"  invariant: {result.location}")
    places = result_places(result, report)
    title = f"netverify {rule.id} [{result.kind.value}] {result.name}: {result.status.value}"
    return _annotation(
        rule, title, "\n".join(lines), places[0] if places else None, report.spec_file
    )


def _finding_lines(result: InvariantResult, report: Report) -> list[str]:
    """`prove --all`: an annotation per finding, at the rule or policy that decides it."""
    rule = rule_for_result(result)
    if rule is None or result.all_findings is None:
        return []
    title = f"netverify {rule.id} [{result.kind.value}] {result.name}: finding"
    annotations = []
    for finding in result.all_findings.findings:
        places = violation_finding_places(finding, result, report)
        message = "\n".join(violation_finding_lines(finding, report.sources))
        place = places[0] if places else None
        annotations.append(_annotation(rule, title, message, place, report.spec_file))
    return annotations


def format_prove(reports: Sequence[Report]) -> str:
    lines = []
    counts = {status: 0 for status in Status}
    for report in reports:
        for result in report.results:
            counts[result.status] += 1
            line = _result_line(result, report)
            if line is not None:
                lines.append(line)
            lines += _finding_lines(result, report)
    total = sum(counts.values())
    summary = f"{total} invariants: " + ", ".join(
        f"{counts[status]} {status.value}" for status in Status
    )
    lines.append(command("notice", summary, title="netverify prove"))
    return "\n".join(lines) + "\n"


def _finding_line(finding: DiffFinding, report: DiffReport) -> str:
    rule = rule_for_finding(finding)
    places = finding_places(finding, report)
    place = places[0] if places else None
    verb = "connectivity added" if finding.change is Change.ADDED else "connectivity removed"
    message = "\n".join(finding_lines(finding, report))
    return _annotation(rule, f"netverify {rule.id} {verb}", message, place, report.head_label)


def format_diff(report: DiffReport) -> str:
    lines = [_finding_line(finding, report) for finding in report.findings]
    title = "netverify diff"
    if report.error:
        lines.append(command("error", report.error, title=title))
    if not report.complete:
        reason = f"the search stopped early ({report.incomplete_reason}): more changes may exist"
        lines.append(command("warning", reason, title=title))
    added = sum(1 for finding in report.findings if finding.change is Change.ADDED)
    removed = len(report.findings) - added
    changes = (
        "no connectivity change"
        if not report.findings and report.complete and not report.error
        else f"{added} added, {removed} removed"
    )
    lines.append(
        command("notice", f"{report.base_label} -> {report.head_label}: {changes}", title=title)
    )
    return "\n".join(lines) + "\n"
