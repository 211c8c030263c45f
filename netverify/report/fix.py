"""`netverify fix` reports in three formats: text (what changes, why, where, the proof),
a unified diff of the manifests (`patch`, for `git apply`) and JSON.

Kept apart from `text` and `json`, which are already large: a fix report shares nothing with
the other results but the `path:line` form of its locations.
"""

from collections.abc import Sequence
from typing import assert_never

from netverify.model.fix import ChangeKind, FixReport, InvariantFix, PolicyEdit, ProvedFix
from netverify.report.describe import counted
from netverify.report.formats import FixFormat
from netverify.report.json import JsonObject, dumps


def format_fix(reports: Sequence[FixReport], output_format: FixFormat) -> str:
    match output_format:
        case FixFormat.TEXT:
            return "".join(_text(report) for report in reports)
        case FixFormat.JSON:
            return dumps({"specs": [_json(report) for report in reports]})
        case FixFormat.PATCH:
            return _patch(reports)
        case _:
            assert_never(output_format)


def _patch(reports: Sequence[FixReport]) -> str:
    """The smallest fixes of each spec together, after a comment saying whether they were
    proved together (`git apply` skips text before the first `diff --git`)."""
    chunks = []
    for report in reports:
        if not report.patches:
            if any(entry.fixes for entry in report.invariants):
                chunks.append(
                    f"# {report.spec_file}: no patch: the proved fixes have no manifest file to "
                    "go to (objects read from a cluster or a JSON file, or no file holds "
                    "policies); the text output shows them\n"
                )
            continue
        verdict = "every invariant holds" if report.together_holds else "NOT every invariant holds"
        chunks.append(f"# {report.spec_file}: with these changes together, {verdict} (proved)\n")
        chunks += [
            f"# {name}: its fix edits a policy another fix edits; left out\n"
            for name in report.left_out
        ]
        chunks += [patch.diff for patch in report.patches]
    return "".join(chunks)


def proof_line(entry: InvariantFix) -> str:
    return f"proved: {entry.invariant} now holds; other invariants unchanged"


def _flows(fix: ProvedFix) -> str:
    at_least = "" if fix.counted_all else "at least "
    external = (
        f", {at_least}{fix.external_flows} between existing pods and external addresses"
        if fix.external_flows
        else ""
    )
    return (
        f"{at_least}{counted(fix.flows_changed, 'flow')} between existing pods changed{external} "
        f"({counted(fix.findings, 'diff finding')})"
    )


def _text(report: FixReport) -> str:
    lines = []
    for entry in report.invariants:
        where = f"{entry.location}: " if entry.location else f"{report.spec_file}: "
        if not entry.fixes:
            reason = entry.reason or f"none of {entry.tried} candidates could be proved"
            lines.append(f"{where}error: {entry.invariant}: no proved fix: {reason}")
            continue
        lines.append(
            f"{where}note: {entry.invariant}: {len(entry.fixes)} proved fix(es), smallest first"
        )
        for number, fix in enumerate(entry.fixes, 1):
            candidate = fix.candidate
            at = f" ({fix.location})" if fix.location else ""
            lines.append(f"  {number}. {candidate.change.value}{at}: {candidate.why}")
            for edit in candidate.edits:
                verb = "new policy" if edit.before is None else "edits"
                if candidate.change is ChangeKind.REMOVE_RULE and edit.before is not None:
                    verb = "removes from"
                rule = (
                    f" {edit.direction.value.lower()}[{edit.rule_index}]"
                    if edit.rule_index is not None
                    else ""
                )
                lines.append(f"     {verb} {_named(edit)}{rule}")
            for patch in fix.patches:
                lines.append(f"     file: {patch.path}")
            lines.append(f"     {_flows(fix)}")
            lines.append(f"     {proof_line(entry)}")
    fixed = sum(1 for entry in report.invariants if entry.fixes)
    lines.append(
        f"{report.spec_file}: {len(report.invariants)} violated invariants, "
        f"{fixed} with a proved fix"
    )
    return "\n".join(lines) + "\n"


def _named(edit: PolicyEdit) -> str:
    """`ns/name` for a NetworkPolicy (as before admin policies), `Kind/name` otherwise."""
    ref = edit.key
    return f"{ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind}/{ref.name}"


def _json(report: FixReport) -> JsonObject:
    return {
        "spec": report.spec_file,
        "complete": report.complete,
        "invariants": [
            {
                "invariant": entry.invariant,
                "location": str(entry.location) if entry.location else None,
                "tried": entry.tried,
                "reason": entry.reason,
                "fixes": [_fix_json(entry, fix) for fix in entry.fixes],
            }
            for entry in report.invariants
        ],
    }


def _fix_json(entry: InvariantFix, fix: ProvedFix) -> JsonObject:
    candidate = fix.candidate
    return {
        "invariant": entry.invariant,
        "change": candidate.change.value,
        "why": candidate.why,
        "policies": [
            {
                "kind": edit.key.kind,
                "namespace": edit.key.namespace,
                "name": edit.after.name,
                "new": edit.before is None,
                "direction": edit.direction.value,
                "rule": edit.rule_index,
            }
            for edit in candidate.edits
        ],
        "location": str(fix.location) if fix.location else None,
        "flows_changed": fix.flows_changed,
        "external_flows": fix.external_flows,
        "flows_counted_completely": fix.counted_all,
        "findings": fix.findings,
        "proof": proof_line(entry),
        "patch": "".join(patch.diff for patch in fix.patches),
    }
