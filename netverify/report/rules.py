"""The rules that `prove` and `diff` results belong to, for every CI format (SARIF `rules[]`,
JUnit failure types, GitHub annotation levels, Markdown section titles), and the levels of
lint findings.

Rule ids are stable: a published id never changes meaning and is never reused.

| id    | name                 | a result for                                        | level   |
|-------|----------------------|-----------------------------------------------------|---------|
| NV001 | forbidden-flow       | a violated `forbid`: an allowed flow it forbids      | error   |
| NV002 | required-flow-blocked| a violated `require`: a blocked flow it requires     | error   |
| NV003 | unreachable          | a violated `reachable`: no matching flow is allowed | error   |
| NV004 | connectivity-added   | a diff finding: allowed in HEAD, blocked in BASE    | warning |
| NV005 | connectivity-removed | a diff finding: allowed in BASE, blocked in HEAD    | note    |
| NV006 | undecided            | an invariant ending `unknown` or `error`            | warning |

Lint checks are their own rules (`NVL...`, from the check registry); a finding's level is
its severity's.
"""

from dataclasses import dataclass

from netverify.model import InvariantKind, InvariantResult, Status
from netverify.model.diff import Change, DiffFinding
from netverify.model.lint import FindingSeverity


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


LINT_LEVELS = {
    FindingSeverity.ERROR: "error",
    FindingSeverity.WARNING: "warning",
    FindingSeverity.INFO: "note",
}
"""The SARIF level of a lint finding, by its severity."""
