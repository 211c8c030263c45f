"""Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY` (GitHub-flavoured).

A heading with the verdict, a summary table (statuses per spec, or added/removed counts),
then one collapsible `<details>` section per violated or undecided invariant, or per diff
finding, with the witness flow and the rules and policies responsible, at `file:line`.
"""

import html
import re
from collections.abc import Iterable, Iterator, Sequence

from netverify.model import InvariantResult, Report, Status
from netverify.model.diff import Change, DiffFinding, DiffReport
from netverify.model.matrix import ConnectivityMatrix, MatrixRow
from netverify.report.describe import (
    describe_flow,
    describe_side,
    finding_title,
    other_groups_lines,
    witness_label,
)
from netverify.report.locations import Place, finding_places, invariant_where, result_places
from netverify.report.rules import rule_for_finding, rule_for_result
from netverify.report.tables import matrix_tables
from netverify.report.text import result_lines

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _plain(text: str) -> str:
    """Text with Markdown's special characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _block(lines: Sequence[str]) -> list[str]:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *lines, fence]


def _places(places: Sequence[Place]) -> list[str]:
    return [f"- {_code(str(place.span))}: {_plain(place.label)}" for place in places]


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _counts_phrase(counts: dict[Status, int]) -> str:
    order = (Status.VIOLATED, Status.ERROR, Status.UNKNOWN, Status.HOLDS)
    parts = [f"{counts[status]} {status.value}" for status in order if counts[status]]
    return ", ".join(parts) if parts else "no invariants"


def _invariant_section(result: InvariantResult, report: Report) -> list[str]:
    rule = rule_for_result(result)
    where = invariant_where(result, report)
    summary = (
        f"<b>{html.escape(result.status.value)}</b>: <code>{html.escape(result.name)}</code> "
        f"[{html.escape(result.kind.value)}] at {html.escape(where)}"
        + (f" ({rule.id})" if rule else "")
    )
    body: list[str] = []
    if result.description:
        body += [_plain(" ".join(result.description.split())), ""]
    witness = result.counterexample
    if witness is not None:
        body += [f"{witness_label(witness)}: {_code(describe_flow(witness.decision.flow))}", ""]
    places = result_places(result, report)
    if places:
        body += ["where:", *_places(places), ""]
    body += _block(result_lines(result, report))
    return _details(summary, body)


def format_prove(reports: Sequence[Report]) -> str:
    totals = {status: 0 for status in Status}
    rows = []
    for report in reports:
        counts = {status: 0 for status in Status}
        for result in report.results:
            counts[result.status] += 1
            totals[result.status] += 1
        rows.append(
            f"| {_code(report.spec_file)} | {len(report.results)} | "
            + " | ".join(str(counts[status]) for status in Status)
            + " |"
        )
    lines = [
        f"### netverify prove: {_counts_phrase(totals)}",
        "",
        "| spec | invariants | " + " | ".join(status.value for status in Status) + " |",
        "|---|---:|" + "---:|" * len(Status),
        *rows,
        "",
    ]
    holding: list[str] = []
    for report in reports:
        for result in report.results:
            if result.status is Status.HOLDS:
                where = invariant_where(result, report)
                note = f" ({_plain(result.reason)})" if result.reason else ""
                holding.append(
                    f"- {_code(result.name)} [{result.kind.value}] at {_code(where)}{note}"
                )
            else:
                lines += _invariant_section(result, report)
    if holding:
        lines += _details(f"{len(holding)} holding", holding)
    for report in reports:
        if report.assumptions:
            notes = [f"- {_plain(note)}" for note in report.assumptions]
            lines += _details(f"assumptions of {html.escape(report.spec_file)}", notes)
    return "\n".join(lines).rstrip("\n") + "\n"


def _finding_section(finding: DiffFinding, report: DiffReport) -> list[str]:
    rule = rule_for_finding(finding)
    summary = f"<b>{finding.change.value}</b>: {html.escape(finding_title(finding))} ({rule.id})"
    body = [f"witness: {_code(describe_flow(finding.head.flow))}", ""]
    if others := other_groups_lines(finding):
        body[:0] = [*(f"{_plain(line)}  " for line in others), ""]
    for label, decision, sources in (
        (report.base_label, finding.base, report.base_sources),
        (report.head_label, finding.head, report.head_sources),
    ):
        verdict = "allowed" if decision.allowed else "blocked"
        body.append(f"- {_code(label)}: **{verdict}**")
        body += [
            f"  - {_plain(describe_side(side, decision, sources))}"
            for side in (decision.egress, decision.ingress)
        ]
    places = finding_places(finding, report)
    if places:
        body += ["", "where:", *_places(places)]
    return _details(summary, body)


def format_diff(report: DiffReport) -> str:
    added = sum(1 for finding in report.findings if finding.change is Change.ADDED)
    removed = len(report.findings) - added
    if not report.findings and report.complete and not report.error:
        verdict = "no connectivity change"
    else:
        verdict = f"{added} added, {removed} removed"
    lines = [
        f"### netverify diff: {verdict}",
        "",
        f"{_code(report.base_label)} → {_code(report.head_label)}",
        "",
    ]
    if report.error:
        lines += [f"> **error**: {_plain(report.error)}", ""]
    if not report.complete:
        lines += [
            f"> **incomplete**: the search stopped early ({_plain(report.incomplete_reason or '')})"
            ": more changes may exist",
            "",
        ]
    if report.findings:
        lines += [
            "| change | flow groups |",
            "|---|---:|",
            f"| added | {added} |",
            f"| removed | {removed} |",
            "",
        ]
    for finding in report.findings:
        lines += _finding_section(finding, report)
    notes = [f"- over: {_plain(report.scope)}", *(f"- {_plain(n)}" for n in report.assumptions)]
    lines += _details("scope and assumptions", notes)
    return "\n".join(lines).rstrip("\n") + "\n"


def _escape_pipes(text: str) -> str:
    return text.replace("|", "\\|")


def format_matrix(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[str]:
    """One table per port, one line per row of the matrix as it comes."""
    names = [entity.name for entity in matrix.entities]
    header = "| from \\ to | " + " | ".join(_escape_pipes(name) for name in names) + " |"
    for number, table in enumerate(matrix_tables(matrix, rows)):
        if number:
            yield "\n"
        yield f"**{table.label}** (X allowed, . blocked; rows: from, columns: to)\n\n"
        yield f"{header}\n|---|" + "---|" * len(names) + "\n"
        for row in table.rows:
            marks = ["X" if allowed else "." for allowed in row.allowed]
            yield f"| {_escape_pipes(row.source)} | " + " | ".join(marks) + " |\n"
    for note in matrix.undecided:
        yield f"\n> **Note:** {_plain(note)}\n"
