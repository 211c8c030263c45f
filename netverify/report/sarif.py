"""SARIF 2.1.0 for `prove` (several Reports, one run) and `diff` (a DiffReport, one run).

Rule ids are stable: a published id never changes meaning and is never reused.

| id    | name                 | a result for                                        | level   |
|-------|----------------------|-----------------------------------------------------|---------|
| NV001 | forbidden-flow       | a violated `forbid`: an allowed flow it forbids      | error   |
| NV002 | required-flow-blocked| a violated `require`: a blocked flow it requires     | error   |
| NV003 | unreachable          | a violated `reachable`: no matching flow is allowed | error   |
| NV004 | connectivity-added   | a diff finding: allowed in HEAD, blocked in BASE    | warning |
| NV005 | connectivity-removed | a diff finding: allowed in BASE, blocked in HEAD    | note    |
| NV006 | undecided            | an invariant ending `unknown` or `error`            | warning |

Invariants that hold produce no result (code scanning then closes their earlier alerts). A
result's primary location is the policy rule that let its flow through or, for a blocked flow,
the policy that isolates the blocked side; it falls back to the invariant in the spec. The
spec entry and the other responsible rules and policies are `relatedLocations`. Relative file
names are URIs against `%SRCROOT%` (the directory netverify ran in); absolute ones are `file:`
URIs. A diff that stopped early or failed adds a tool notification, not a result.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from netverify import __version__
from netverify.model import (
    FlowDecision,
    InvariantKind,
    InvariantResult,
    ObjectRef,
    Report,
    RuleRef,
    SourceMap,
    SourceSpan,
    Status,
    Witness,
)
from netverify.model.diff import Change, DiffFinding, DiffReport
from netverify.report.describe import describe_flow, describe_policy, describe_rule
from netverify.report.diff_text import finding_lines, finding_title
from netverify.report.json_format import JsonObject, dumps
from netverify.report.text import decision_lines

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"


@dataclass(frozen=True)
class Rule:
    """One SARIF reporting descriptor: a stable id and what to do about its results."""

    id: str
    name: str
    short: str
    help: str
    level: str
    """The SARIF level of its results: error, warning or note."""


FORBIDDEN_FLOW = Rule(
    id="NV001",
    name="forbidden-flow",
    short="A forbid invariant is violated: a flow it forbids is allowed.",
    help="The counterexample is a concrete flow that the policies allow although the invariant "
    "forbids it, with the rules that let it through on each side. Narrow those rules (their "
    "podSelector, namespaceSelector, ipBlock or ports) or add an isolating policy so that no "
    "matching flow is admitted; with `pods: any`, remember that pods not deployed yet count.",
    level="error",
)
REQUIRED_FLOW_BLOCKED = Rule(
    id="NV002",
    name="required-flow-blocked",
    short="A require invariant is violated: a flow it requires is blocked.",
    help="The counterexample is a concrete flow the invariant requires, and the policies that "
    "isolate the blocked side without any rule admitting it. Add or widen an ingress rule on "
    "the destination (or an egress rule on the source) that admits the flow's source, protocol "
    "and port, or narrow the invariant if the flow is not really needed.",
    level="error",
)
UNREACHABLE = Rule(
    id="NV003",
    name="unreachable",
    short="A reachable invariant is violated: no matching flow is allowed.",
    help="No flow matching the invariant is allowed. The example shows one matching flow and "
    "the policies that block it. Add a rule admitting at least one such flow, or check that "
    "the invariant's endpoints and ports name the pods and ports you meant.",
    level="error",
)
CONNECTIVITY_ADDED = Rule(
    id="NV004",
    name="connectivity-added",
    short="The change allows flows that were blocked before.",
    help="HEAD allows a group of flows that BASE blocked; the witness is one of them and the "
    "responsible rules are those of HEAD that admit it. If the new access is intended, "
    "nothing needs doing; otherwise narrow the rule (selectors, ports) before merging.",
    level="warning",
)
CONNECTIVITY_REMOVED = Rule(
    id="NV005",
    name="connectivity-removed",
    short="The change blocks flows that were allowed before.",
    help="HEAD blocks a group of flows that BASE allowed; the result sits at the policy that "
    "isolates the blocked side in HEAD, and the rule that used to admit the flow in BASE is a "
    "related location. Restore a rule admitting the flow if clients still need it.",
    level="note",
)
UNDECIDED = Rule(
    id="NV006",
    name="undecided",
    short="netverify could not decide an invariant (unknown or internal error).",
    help="`unknown`: the solver reached its time or resource limit; raise `--timeout` or "
    "`--rlimit`, or split the invariant (narrower endpoints or ports). `error`: an internal "
    "error such as a counterexample the reference evaluator does not confirm; please report "
    "it with the spec and manifests. Neither is ever read as holds.",
    level="warning",
)

RULES: tuple[Rule, ...] = (
    FORBIDDEN_FLOW,
    REQUIRED_FLOW_BLOCKED,
    UNREACHABLE,
    CONNECTIVITY_ADDED,
    CONNECTIVITY_REMOVED,
    UNDECIDED,
)
"""Every rule, in `ruleIndex` order (ids never change; new rules are appended)."""

_VIOLATION_RULES = {
    InvariantKind.FORBID: FORBIDDEN_FLOW,
    InvariantKind.REQUIRE: REQUIRED_FLOW_BLOCKED,
    InvariantKind.REACHABLE: UNREACHABLE,
}


def rule_for_result(result: InvariantResult) -> Rule | None:
    """The rule of a result, or None for one that holds (it is not reported)."""
    match result.status:
        case Status.HOLDS:
            return None
        case Status.VIOLATED:
            return _VIOLATION_RULES[result.kind]
        case Status.UNKNOWN | Status.ERROR:
            return UNDECIDED


def rule_for_finding(finding: DiffFinding) -> Rule:
    return CONNECTIVITY_ADDED if finding.change is Change.ADDED else CONNECTIVITY_REMOVED


@dataclass(frozen=True)
class Place:
    """A location with what it is, for people."""

    span: SourceSpan
    label: str


def _rule_places(rules: Sequence[RuleRef], sources: SourceMap, what: str) -> list[Place]:
    places = []
    for rule in rules:
        span = sources.of_rule(rule)
        if span is not None:
            places.append(Place(span, f"{what} {describe_rule(rule, SourceMap())}"))
    return places


def _policy_places(policies: Sequence[ObjectRef], sources: SourceMap, what: str) -> list[Place]:
    places = []
    for policy in policies:
        span = sources.of_object(policy)
        if span is not None:
            places.append(Place(span, f"{what} {describe_policy(policy, SourceMap())}"))
    return places


def decision_places(decision: FlowDecision, sources: SourceMap) -> list[Place]:
    """Where a flow's verdict comes from: for an allowed flow, the rules that admit it (egress
    first); for a blocked one, the policies that isolate each blocked side."""
    if decision.allowed:
        return _rule_places(
            [*decision.egress.allowed_by, *decision.ingress.allowed_by], sources, "allowed by"
        )
    places: list[Place] = []
    for side in (decision.egress, decision.ingress):
        if not side.allowed:
            direction = side.direction.value.lower()
            places += _policy_places(side.isolated_by, sources, f"{direction} isolated by")
    return places


def result_places(result: InvariantResult, report: Report) -> list[Place]:
    """The primary location first, then the related ones (the spec entry among them)."""
    witness = result.counterexample if result.status is Status.VIOLATED else None
    places = [] if witness is None else decision_places(witness.decision, report.sources)
    if result.location is not None:
        places.append(Place(result.location, f"invariant {result.name}"))
    return _unique(places)


def finding_places(finding: DiffFinding, report: DiffReport) -> list[Place]:
    """HEAD's side first (for an added flow the rules that admit it, for a removed one the
    policies that now isolate it), then BASE's, labelled with BASE's name."""
    base = [
        Place(place.span, f"in {report.base_label}: {place.label}")
        for place in decision_places(finding.base, report.base_sources)
    ]
    return _unique(decision_places(finding.head, report.head_sources) + base)


def _unique(places: list[Place]) -> list[Place]:
    seen: set[tuple[str, int]] = set()
    kept = []
    for place in places:
        key = (place.span.file, place.span.line)
        if key not in seen:
            seen.add(key)
            kept.append(place)
    return kept


def witness_label(witness: Witness) -> str:
    return "an allowed flow" if witness.decision.allowed else "a blocked flow"


def result_message(result: InvariantResult) -> str:
    """First line: `[kind] name: status: <flow>`; then the reasons on each side."""
    head = f"[{result.kind.value}] {result.name}: {result.status.value}"
    witness = result.counterexample
    if witness is None:
        return head + (f": {result.reason}" if result.reason else "")
    return head + f": {witness_label(witness)}: {describe_flow(witness.decision.flow)}"


def _artifact(file: str) -> JsonObject:
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        return {"uri": "file://" + quote(str(path))}
    return {"uri": quote(str(path)), "uriBaseId": SOURCE_ROOT}


def _location(place: Place, identifier: int | None = None) -> JsonObject:
    location: JsonObject = {} if identifier is None else {"id": identifier}
    location["physicalLocation"] = {
        "artifactLocation": _artifact(place.span.file),
        "region": {"startLine": max(place.span.line, 1)},
    }
    location["message"] = {"text": place.label}
    return location


def _result(
    rule: Rule, message: str, places: list[Place], fallback: str, fingerprint: str
) -> JsonObject:
    if places:
        primary = _location(places[0])
    else:
        primary = {"physicalLocation": {"artifactLocation": _artifact(fallback)}}
    document: JsonObject = {
        "ruleId": rule.id,
        "ruleIndex": RULES.index(rule),
        "level": rule.level,
        "message": {"text": message},
        "locations": [primary],
    }
    if len(places) > 1:
        document["relatedLocations"] = [
            _location(place, number) for number, place in enumerate(places[1:], start=1)
        ]
    document["partialFingerprints"] = {"netverify/v1": fingerprint}
    return document


def _prove_result(result: InvariantResult, report: Report) -> JsonObject | None:
    rule = rule_for_result(result)
    if rule is None:
        return None
    lines = [result_message(result)]
    witness = result.counterexample
    if witness is not None:
        lines += [f"  {line}" for line in decision_lines(witness.decision, report.sources)]
    lines.append(f"  over: {result.scope}")
    return _result(
        rule,
        "\n".join(lines),
        result_places(result, report),
        report.spec_file,
        f"{rule.id}:{report.spec_file}:{result.name}",
    )


def fallback_span(report: DiffReport) -> SourceSpan | None:
    """Somewhere to attach a finding no rule or policy explains: the first object of HEAD."""
    spans = sorted(
        (*report.head_sources.objects.values(), *report.base_sources.objects.values()),
        key=lambda span: (span.file, span.line),
    )
    return spans[0] if spans else None


def _finding_result(finding: DiffFinding, report: DiffReport) -> JsonObject:
    rule = rule_for_finding(finding)
    places = finding_places(finding, report)
    fallback = fallback_span(report)
    if not places and fallback is not None:
        places = [Place(fallback, "no rule or policy explains this change")]
    return _result(
        rule,
        "\n".join(finding_lines(finding, report)),
        places,
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


def _log(
    results: list[JsonObject], properties: JsonObject, notifications: list[JsonObject]
) -> JsonObject:
    invocation: JsonObject = {
        "executionSuccessful": not any(note["level"] == "error" for note in notifications)
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netverify",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule_descriptor(rule) for rule in RULES],
                    }
                },
                "invocations": [invocation],
                "originalUriBaseIds": {
                    SOURCE_ROOT: {"description": {"text": "The directory netverify was run in."}}
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": properties,
            }
        ],
    }


def prove_log(reports: Sequence[Report]) -> JsonObject:
    """One run for every spec, results in spec order, holding invariants left out."""
    results = []
    specs: list[JsonObject] = []
    for report in reports:
        for result in report.results:
            document = _prove_result(result, report)
            if document is not None:
                results.append(document)
        summary: JsonObject = {"total": len(report.results)}
        for status in Status:
            summary[status.value] = sum(1 for r in report.results if r.status is status)
        specs.append(
            {"file": report.spec_file, "summary": summary, "assumptions": list(report.assumptions)}
        )
    return _log(results, {"specs": specs}, [])


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
    return _log(results, properties, notifications)


def format_prove(reports: Sequence[Report]) -> str:
    return dumps(prove_log(reports))


def format_diff(report: DiffReport) -> str:
    return dumps(diff_log(report))
