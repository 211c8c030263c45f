"""Lint findings as compiler-style text: `path:line: warning: [NVL001] name: message`."""

from netverify.model.lint import FindingSeverity, LintReport


def format_lint_text(report: LintReport) -> str:
    remediation = {check.id: check.remediation for check in report.checks}
    lines: list[str] = []
    for found in report.findings:
        where = f"{found.span}: " if found.span else ""
        subject = f"{found.object.namespace}/{found.object.name}: " if found.object else ""
        if found.object is not None and found.object.namespace is None:
            subject = f"{found.object.kind} {found.object.name}: "
        lines.append(
            f"{where}{found.severity.value}: [{found.check}] {found.name}: {subject}{found.message}"
        )
        lines.append(f"  fix: {remediation.get(found.check, '')}")
    counts = {severity: 0 for severity in FindingSeverity}
    for found in report.findings:
        counts[found.severity] += 1
    summary = ", ".join(f"{counts[severity]} {severity.value}" for severity in FindingSeverity)
    suffix = f" ({len(report.suppressed)} suppressed)" if report.suppressed else ""
    lines.append(f"{len(report.findings)} findings: {summary}{suffix}")
    return "\n".join(lines) + "\n"
