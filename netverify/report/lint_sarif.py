"""Lint findings as SARIF 2.1.0: one `rules[]` entry per check (with `help`), one result per
finding with its `ruleIndex` and, when known, its file and line."""

from netverify import __version__
from netverify.model.lint import FindingSeverity, LintReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    FindingSeverity.ERROR: "error",
    FindingSeverity.WARNING: "warning",
    FindingSeverity.INFO: "note",
}

JsonObject = dict[str, object]


def lint_sarif(report: LintReport) -> JsonObject:
    index = {check.id: position for position, check in enumerate(report.checks)}
    rules = [
        {
            "id": check.id,
            "name": check.name,
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.title},
            "help": {"text": check.remediation},
            "defaultConfiguration": {"level": _LEVEL[check.severity]},
            "properties": {"proved": check.proved},
        }
        for check in report.checks
    ]
    results = []
    for found in report.findings:
        result: JsonObject = {
            "ruleId": found.check,
            "ruleIndex": index[found.check],
            "level": _LEVEL[found.severity],
            "message": {"text": found.message},
        }
        if found.span is not None:
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": found.span.file},
                        "region": {"startLine": found.span.line},
                    }
                }
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "netverify", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
