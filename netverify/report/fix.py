"""`netverify fix` reports in three formats: text (what changes, why, where, the proof),
a unified diff of the manifests (`patch`, for `git apply`) and JSON.

Kept apart from `text` and `json`, which are already large: a fix report shares nothing with
the other results but the `path:line` form of its locations.
"""

from collections.abc import Sequence
from typing import assert_never

from netverify.model import InvariantKind
from netverify.model.fix import (
    ChangeKind,
    FailedCandidate,
    FailReason,
    FixReport,
    InvariantFix,
    PolicyEdit,
    ProvedFix,
)
from netverify.report.describe import counted, describe_flow
from netverify.report.formats import FixFormat
from netverify.report.jsonparts import JsonObject, dumps


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
    """The flows a fix changes: between existing pods, then with external addresses; a
    fix that changes only the latter does not say "0 flows between existing pods" (nor
    "at least 0", where the count stopped at the limit)."""
    at_least = "" if fix.counted_all else "at least "
    findings = f"({counted(fix.findings, 'diff finding')})"
    external = "between existing pods and external addresses"
    if fix.external_flows and not fix.flows_changed:
        return f"{at_least}{counted(fix.external_flows, 'flow')} {external} changed {findings}"
    also = f", {at_least}{fix.external_flows} {external}" if fix.external_flows else ""
    return (
        f"{at_least}{counted(fix.flows_changed, 'flow')} between existing pods changed{also} "
        f"{findings}"
    )


def _text(report: FixReport) -> str:
    lines = []
    for entry in report.invariants:
        where = f"{entry.location}: " if entry.location else f"{report.spec_file}: "
        if not entry.fixes:
            reason = entry.reason or f"none of {entry.tried} candidates could be proved"
            lines.append(f"{where}error: {entry.invariant}: no proved fix: {reason}")
            for failure in entry.failed:
                lines.append(f"  failed: {_failed_text(failure)}")
                lines.append(f"    why: {_failure_why(failure)}")
            if entry.failed and entry.tried > len(entry.failed):
                lines.append(f"  and {entry.tried - len(entry.failed)} more")
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
                lines.append(f"     {verb} {_named(edit)}{_rule(edit)}")
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


SHOWN_EDITS = 3
"""The most edits of a failed candidate named in its text line (a rule repaired in every
policy with a rule like it edits dozens)."""


def _failed_text(failure: FailedCandidate) -> str:
    """`change policies (file:line): what it does`, on one line."""
    candidate = failure.candidate
    touched = [
        f"{'new policy ' if edit.before is None else ''}{_named(edit)}{_rule(edit)}"
        + (f" ({location})" if location else "")
        for edit, location in zip(candidate.edits, failure.locations, strict=True)
    ]
    if len(touched) > SHOWN_EDITS:
        touched = [*touched[:SHOWN_EDITS], f"{len(touched) - SHOWN_EDITS} more"]
    return f"{candidate.change.value} {', '.join(touched)}: {candidate.why}"


def _failure_why(failure: FailedCandidate) -> str:
    """Why a candidate was not kept, in words, with the flow that shows it."""
    flow = f": {describe_flow(failure.flow)}" if failure.flow is not None else ""
    named = f"`{failure.kind.value} {failure.invariant}`"
    match failure.reason:
        case FailReason.STILL_VIOLATED:
            return f"the invariant still fails{flow}"
        case FailReason.BREAKS_INVARIANT:
            now = "allowed" if failure.kind is InvariantKind.FORBID else "blocked"
            return f"breaks {named} (now {now}{flow})"
        case FailReason.UNKNOWN:
            # prove's reason where it gave one (an order of admin policies the API leaves
            # open is no solver limit a user could raise).
            why = f": {failure.detail}" if failure.detail else " (solver unknown)"
            if failure.invariant == failure.candidate.invariant:
                return f"could not be proved{why}"
            return f"could not prove {named} still holds{why}"
        case _:
            assert_never(failure.reason)


def _rule(edit: PolicyEdit) -> str:
    """` ingress[3]`: the rule an edit changes or adds ("" for a new policy as a whole)."""
    if edit.rule_index is None:
        return ""
    return f" {edit.direction.value.lower()}[{edit.rule_index}]"


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
            | (
                {"failed": [_failed_json(failure) for failure in entry.failed]}
                if entry.failed
                else {}
            )
            for entry in report.invariants
        ],
    }


def _policies_json(edits: Sequence[PolicyEdit]) -> list[JsonObject]:
    return [
        {
            "kind": edit.key.kind,
            "namespace": edit.key.namespace,
            "name": edit.after.name,
            "new": edit.before is None,
            "direction": edit.direction.value,
            "rule": edit.rule_index,
        }
        for edit in edits
    ]


def _failed_json(failure: FailedCandidate) -> JsonObject:
    candidate = failure.candidate
    return {
        "change": candidate.change.value,
        "does": candidate.why,
        "why": _failure_why(failure),
        "policies": [
            policy | {"location": str(location) if location else None}
            for policy, location in zip(
                _policies_json(candidate.edits), failure.locations, strict=True
            )
        ],
        "reason": failure.reason.value,
        "detail": failure.detail,
        "invariant": failure.invariant,
    }


def _fix_json(entry: InvariantFix, fix: ProvedFix) -> JsonObject:
    candidate = fix.candidate
    return {
        "invariant": entry.invariant,
        "change": candidate.change.value,
        "why": candidate.why,
        "policies": _policies_json(candidate.edits),
        "location": str(fix.location) if fix.location else None,
        "flows_changed": fix.flows_changed,
        "external_flows": fix.external_flows,
        "flows_counted_completely": fix.counted_all,
        "findings": fix.findings,
        "proof": proof_line(entry),
        "patch": "".join(patch.diff for patch in fix.patches),
    }
