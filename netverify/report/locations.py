"""Where a result points: the spec entry of an invariant, the rules and policies behind a
flow's verdict, and how a file and line are written as a SARIF artifact location.

SARIF, GitHub annotations, JUnit and Markdown all locate a result the same way: its primary
place is the policy rule that let its flow through or, for a blocked flow, the policy that
isolates the blocked side; the spec entry and the other responsible rules and policies
follow. A diff finding's primary place is its cause, the rule or policy whose change made
it (in a pull request, a changed line); the text format's prefix is the same place.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from urllib.parse import quote

from netverify.model import (
    FlowDecision,
    InvariantResult,
    Report,
    RuleRef,
    SourceMap,
    SourceSpan,
    Status,
    ViolationFinding,
    Witness,
)
from netverify.model.diff import Change, DiffCause, DiffFinding, DiffReport, Revision
from netverify.report.describe import describe_policy, describe_rule
from netverify.report.jsonparts import JsonObject

SOURCE_ROOT = "%SRCROOT%"
"""The SARIF base id of relative file names: the directory netverify ran in."""


@dataclass(frozen=True)
class Place:
    """A location with what it is, for people."""

    span: SourceSpan
    label: str


def invariant_file_line(result: InvariantResult, report: Report) -> tuple[str, int | None]:
    """The invariant's entry in its spec, or the spec file when it has no line."""
    location = result.location
    return (location.file, location.line) if location else (report.spec_file, None)


def invariant_where(result: InvariantResult, report: Report) -> str:
    """`file:line` of the invariant's entry, or the spec file."""
    return str(result.location) if result.location else report.spec_file


def _places(found: Iterable[tuple[SourceSpan | None, str]], what: str) -> list[Place]:
    """`what name` at each span found, skipping objects without one."""
    return [Place(span, f"{what} {name}") for span, name in found if span is not None]


def decision_places(decision: FlowDecision, sources: SourceMap) -> list[Place]:
    """Where a flow's verdict comes from: for an allowed flow, the rules that admit it (egress
    first); for a blocked one, the policies that isolate each blocked side."""
    if decision.allowed:
        rules = [*decision.egress.allowed_by, *decision.ingress.allowed_by]
        return _places(
            ((sources.of_rule(rule), describe_rule(rule, SourceMap())) for rule in rules),
            "allowed by",
        )
    places: list[Place] = []
    for side in (decision.egress, decision.ingress):
        if not side.allowed:
            direction = side.direction.value.lower()
            places += _places(
                (
                    (sources.of_object(policy), describe_policy(policy, SourceMap()))
                    for policy in side.isolated_by
                ),
                f"{direction} isolated by",
            )
    return places


def result_places(result: InvariantResult, report: Report) -> list[Place]:
    """The primary location first, then the related ones (the spec entry among them)."""
    witness = result.counterexample if result.status is Status.VIOLATED else None
    return witness_places(witness, result, report)


def witness_places(witness: Witness | None, result: InvariantResult, report: Report) -> list[Place]:
    """Where a flow of the result (its counterexample, or a `prove --all` finding's
    witness) is decided, then the spec entry."""
    places = [] if witness is None else decision_places(witness.decision, report.sources)
    if result.location is not None:
        places.append(Place(result.location, f"invariant {result.name}"))
    return _unique(places)


def violation_finding_places(
    finding: ViolationFinding, result: InvariantResult, report: Report
) -> list[Place]:
    """`witness_places` of a `prove --all` finding, then the further groups' own rules that
    admit every peer (`other_open_rules`)."""
    places = witness_places(finding.witness, result, report)
    return _unique(places + _open_rule_places(finding.other_open_rules, report.sources))


def _open_rule_places(rules: Iterable[RuleRef], sources: SourceMap) -> list[Place]:
    return _places(
        ((sources.of_rule(rule), describe_rule(rule, SourceMap())) for rule in rules),
        "also allowed by",
    )


def explained_places(finding: DiffFinding, report: DiffReport) -> list[Place]:
    """The finding's cause first, then HEAD's side (for an added flow the rules that admit
    it, for a removed one the policies that now isolate it), then BASE's; places in BASE
    labelled with BASE's name."""
    base = [_in_base(place, report) for place in decision_places(finding.base, report.base_sources)]
    cause = [] if finding.cause is None else _cause_places(finding, finding.cause, report)
    head = decision_places(finding.head, report.head_sources)
    if finding.change is Change.ADDED:
        head += _open_rule_places(finding.other_open_rules, report.head_sources)
    else:
        base += [
            _in_base(place, report)
            for place in _open_rule_places(finding.other_open_rules, report.base_sources)
        ]
    return _unique(cause + head + base)


def finding_places(finding: DiffFinding, report: DiffReport) -> list[Place]:
    """`explained_places`; a finding that no rule or policy explains is placed at the first
    object of either side, if any."""
    places = explained_places(finding, report)
    if not places and (fallback := _first_object(report)) is not None:
        places = [Place(fallback, "no rule or policy explains this change")]
    return places


def _cause_places(finding: DiffFinding, cause: DiffCause, report: DiffReport) -> list[Place]:
    """The cause, if its revision knows where it was written, labelled like the other
    places (a policy by what its change did to the flow)."""
    sources = report.sources_in(cause.revision)
    what = cause.what
    if isinstance(what, RuleRef):
        places = _places([(sources.of_rule(what), describe_rule(what, SourceMap()))], "allowed by")
    else:
        isolated = "isolated by" if finding.change is Change.REMOVED else "no longer isolated by"
        places = _places([(sources.of_object(what), describe_policy(what, SourceMap()))], isolated)
    return places if cause.revision is Revision.HEAD else [_in_base(p, report) for p in places]


def _in_base(place: Place, report: DiffReport) -> Place:
    return Place(place.span, f"in {report.base_label}: {place.label}")


def _first_object(report: DiffReport) -> SourceSpan | None:
    spans = sorted(
        (*report.head_sources.objects.values(), *report.base_sources.objects.values()),
        key=lambda span: (span.file, span.line),
    )
    return spans[0] if spans else None


def _unique(places: list[Place]) -> list[Place]:
    seen: set[tuple[str, int]] = set()
    kept = []
    for place in places:
        key = (place.span.file, place.span.line)
        if key not in seen:
            seen.add(key)
            kept.append(place)
    return kept


class UriStyle(Enum):
    """How a file name becomes a SARIF artifact location."""

    ROOTED = "rooted"
    """Relative names percent-encoded against `%SRCROOT%`, absolute ones as `file:` URIs
    (`prove` and `diff`); region lines at least 1, as SARIF requires."""
    AS_WRITTEN = "as-written"
    """The file name and line as loaded (`lint`, whose output has always been so)."""


def artifact_location(file: str, style: UriStyle) -> JsonObject:
    if style is UriStyle.AS_WRITTEN:
        return {"uri": file}
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        return {"uri": "file://" + quote(str(path))}
    return {"uri": quote(str(path)), "uriBaseId": SOURCE_ROOT}


def sarif_location(
    span: SourceSpan, style: UriStyle, label: str | None = None, identifier: int | None = None
) -> JsonObject:
    """A SARIF `location`: an optional id, the file and line, and an optional message."""
    location: JsonObject = {} if identifier is None else {"id": identifier}
    line = span.line if style is UriStyle.AS_WRITTEN else max(span.line, 1)
    location["physicalLocation"] = {
        "artifactLocation": artifact_location(span.file, style),
        "region": {"startLine": line},
    }
    if label is not None:
        location["message"] = {"text": label}
    return location
