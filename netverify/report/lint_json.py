"""Lint findings as JSON. Contract (fields may be added, never changed):
`{"findings": [{"id", "name", "severity", "message", "location": null | {"file", "line"},
"object", "rule", "related", "remediation"}], "summary": {...}, "checks": [...]}`.
"""

from netverify.model.lint import Finding, FindingSeverity, LintReport

JsonObject = dict[str, object]


def _finding(found: Finding, remediation: str) -> JsonObject:
    span, target, rule = found.span, found.object, found.rule
    return {
        "id": found.check,
        "name": found.name,
        "severity": found.severity.value,
        "message": found.message,
        "location": None if span is None else {"file": span.file, "line": span.line},
        "object": None
        if target is None
        else {"kind": target.kind, "namespace": target.namespace, "name": target.name},
        "rule": None if rule is None else {"direction": rule.direction.value, "index": rule.index},
        "related": list(found.related),
        "remediation": remediation,
    }


def lint_json(report: LintReport) -> JsonObject:
    remediation = {check.id: check.remediation for check in report.checks}
    summary: JsonObject = {"total": len(report.findings)}
    for severity in FindingSeverity:
        summary[severity.value] = sum(1 for f in report.findings if f.severity is severity)
    summary["suppressed"] = len(report.suppressed)
    return {
        "findings": [_finding(f, remediation.get(f.check, "")) for f in report.findings],
        "suppressed": [_finding(f, remediation.get(f.check, "")) for f in report.suppressed],
        "summary": summary,
        "checks": [
            {
                "id": check.id,
                "name": check.name,
                "title": check.title,
                "severity": check.severity.value,
                "remediation": check.remediation,
                "proved": check.proved,
            }
            for check in report.checks
        ],
    }
