"""SARIF 2.1.0: `prove` (several Reports, one run), `diff` (a DiffReport, one run) and `lint`
(a LintReport, one run), all built by one writer.

`prove` and `diff` use the rules of `netverify.report.rules`; `prove --all` gives one result
per finding of an invariant that has findings. Invariants that hold produce no
result (code scanning then closes their earlier alerts). A result's primary location is that
of `netverify.report.locations` (the responsible rule or policy), falling back to the
invariant in the spec; the spec entry and the other responsible rules and policies are
`relatedLocations`. Relative file names are URIs against `%SRCROOT%` (the directory
netverify ran in); absolute ones are `file:` URIs. A diff that stopped early or failed adds a
tool notification, not a result.

`lint` has one rule per registered check (its remediation the rule's `help`) and one result
per finding, located at the file and line as loaded when known, with the remediation that
applies to it as the property `remediation` (a finding with advice of its own, unlike its
check's, also says it in its message); the run carries no invocation, URI base or
properties.
"""

from collections.abc import Sequence

from netverify import __version__
from netverify.model import InvariantResult, Report, Status
from netverify.model.diff import DiffFinding, DiffReport
from netverify.model.lint import Finding, LintReport
from netverify.report.describe import finding_title, findings_summary, result_message
from netverify.report.jsonparts import JsonObject, dumps
from netverify.report.locations import (
    SOURCE_ROOT,
    Place,
    UriStyle,
    artifact_location,
    finding_places,
    result_places,
    sarif_location,
    violation_finding_places,
)
from netverify.report.rules import (
    LINT_LEVELS,
    RULES,
    Rule,
    rule_for_finding,
    rule_for_result,
)
from netverify.report.text import decision_lines, finding_lines, violation_finding_lines

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def _result(
    rule_id: str,
    rule_index: int,
    level: str,
    message: str,
    locations: list[JsonObject],
    related: list[JsonObject] | None = None,
    fingerprint: str | None = None,
    properties: JsonObject | None = None,
) -> JsonObject:
    document: JsonObject = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": message},
    }
    if locations:
        document["locations"] = locations
    if related:
        document["relatedLocations"] = related
    if fingerprint is not None:
        document["partialFingerprints"] = {"netverify/v1": fingerprint}
    if properties:
        document["properties"] = properties
    return document


def _rule_result(
    rule: Rule, message: str, places: list[Place], fallback: str, fingerprint: str
) -> JsonObject:
    """A `prove` or `diff` result: at its first place (or the fallback file), the others
    related."""
    if places:
        primary = sarif_location(places[0].span, UriStyle.ROOTED, places[0].label)
    else:
        primary = {
            "physicalLocation": {"artifactLocation": artifact_location(fallback, UriStyle.ROOTED)}
        }
    related = [
        sarif_location(place.span, UriStyle.ROOTED, place.label, number)
        for number, place in enumerate(places[1:], start=1)
    ]
    return _result(rule.id, RULES.index(rule), rule.level, message, [primary], related, fingerprint)


def _prove_results(result: InvariantResult, report: Report) -> list[JsonObject]:
    """One result per `prove --all` finding where there are findings, else the invariant's."""
    rule = rule_for_result(result)
    if rule is None:
        return []
    if result.all_findings is None or not result.all_findings.findings:
        return [_prove_result(rule, result, report)]
    header = f"{result_message(result)} ({findings_summary(result.all_findings)})"
    return [
        _rule_result(
            rule,
            "\n".join([header, *violation_finding_lines(finding, report.sources)]),
            violation_finding_places(finding, result, report),
            report.spec_file,
            f"{rule.id}:{report.spec_file}:{result.name}:{finding_title(finding)}",
        )
        for finding in result.all_findings.findings
    ]


def _prove_result(rule: Rule, result: InvariantResult, report: Report) -> JsonObject:
    lines = [result_message(result)]
    witness = result.counterexample
    if witness is not None:
        lines += [f"  {line}" for line in decision_lines(witness.decision, report.sources)]
    lines.append(f"  over: {result.scope}")
    return _rule_result(
        rule,
        "\n".join(lines),
        result_places(result, report),
        report.spec_file,
        f"{rule.id}:{report.spec_file}:{result.name}",
    )


def _finding_result(finding: DiffFinding, report: DiffReport) -> JsonObject:
    rule = rule_for_finding(finding)
    return _rule_result(
        rule,
        "\n".join(finding_lines(finding, report)),
        finding_places(finding, report),
        report.head_label,
        f"{rule.id}:{finding_title(finding)}",
    )


def _rule_descriptor(rule: Rule) -> JsonObject:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "help": {"text": rule.help, "markdown": rule.help},
        "defaultConfiguration": {"level": rule.level},
    }


def _log(driver: JsonObject, run: JsonObject) -> JsonObject:
    """The SARIF document of one run of netverify (`driver` without its name)."""
    return {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": {"name": "netverify", **driver}}, **run}],
    }


def _rules_log(
    results: list[JsonObject], properties: JsonObject, notifications: list[JsonObject]
) -> JsonObject:
    """A `prove` or `diff` run: the rule table, an invocation, `%SRCROOT%` and properties."""
    invocation: JsonObject = {
        "executionSuccessful": not any(note["level"] == "error" for note in notifications)
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver: JsonObject = {
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_rule_descriptor(rule) for rule in RULES],
    }
    return _log(
        driver,
        {
            "invocations": [invocation],
            "originalUriBaseIds": {
                SOURCE_ROOT: {"description": {"text": "The directory netverify was run in."}}
            },
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": properties,
        },
    )


def prove_log(reports: Sequence[Report]) -> JsonObject:
    """One run for every spec, results in spec order, holding invariants left out."""
    results = []
    specs: list[JsonObject] = []
    for report in reports:
        for result in report.results:
            results += _prove_results(result, report)
        summary: JsonObject = {"total": len(report.results)}
        for status in Status:
            summary[status.value] = sum(1 for r in report.results if r.status is status)
        specs.append(
            {"file": report.spec_file, "summary": summary, "assumptions": list(report.assumptions)}
        )
    return _rules_log(results, {"specs": specs}, [])


def diff_log(report: DiffReport) -> JsonObject:
    """One result per finding, added first; an incomplete or failed search is a notification."""
    notifications: list[JsonObject] = []
    if report.error:
        notifications.append({"level": "error", "message": {"text": report.error}})
    if not report.complete:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"the search stopped early ({report.incomplete_reason}): "
                    "more changes may exist"
                },
            }
        )
    properties: JsonObject = {
        "base": report.base_label,
        "head": report.head_label,
        "complete": report.complete,
        "scope": report.scope,
        "assumptions": list(report.assumptions),
    }
    results = [_finding_result(finding, report) for finding in report.findings]
    return _rules_log(results, properties, notifications)


def lint_log(report: LintReport) -> JsonObject:
    """One `rules[]` entry per check (with `help`), one result per finding with its
    `ruleIndex` and, when known, its file and line."""
    index = {check.id: position for position, check in enumerate(report.checks)}
    rules = [
        {
            "id": check.id,
            "name": check.name,
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.title},
            "help": {"text": check.remediation},
            "defaultConfiguration": {"level": LINT_LEVELS[check.severity]},
            "properties": {"proved": check.proved},
        }
        for check in report.checks
    ]
    results = [
        _result(
            found.check,
            index[found.check],
            LINT_LEVELS[found.severity],
            _lint_message(found),
            [] if found.span is None else [sarif_location(found.span, UriStyle.AS_WRITTEN)],
            properties={"remediation": report.remediation(found)},
        )
        for found in report.findings
    ]
    return _log({"version": __version__, "rules": rules}, {"results": results})


def _lint_message(found: Finding) -> str:
    """The finding's message; with its own advice, that too (its rule's `help` gives the
    check's, which does not apply to it)."""
    if found.remediation is None:
        return found.message
    return f"{found.message}\nfix: {found.remediation}"


def format_prove(reports: Sequence[Report]) -> str:
    return dumps(prove_log(reports))


def format_diff(report: DiffReport) -> str:
    return dumps(diff_log(report))


def format_lint(report: LintReport) -> str:
    return dumps(lint_log(report))
