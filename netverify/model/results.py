"""What proving produces: verdicts, counterexamples, per-invariant results and the report.

These live in the model (not in `report/`) because the engine builds them and imports only
flow one way; `report/` formats them.
"""

from enum import IntEnum, StrEnum

from netverify.model.base import Frozen
from netverify.model.decision import FlowDecision
from netverify.model.diff import EndpointGroup
from netverify.model.invariants import InvariantKind
from netverify.model.objects import Protocol
from netverify.model.policy import PortRange
from netverify.model.refs import RuleRef, SourceMap, SourceSpan


class Status(StrEnum):
    """How an invariant ended."""

    HOLDS = "holds"
    VIOLATED = "violated"
    UNKNOWN = "unknown"
    """The solver gave up (timeout, resource limit): never read as holds."""
    ERROR = "error"
    """netverify could not decide (an internal error, e.g. a replay that disagreed)."""


class StatusRank(IntEnum):
    """Statuses ordered by how bad they are; the worst decides the exit code."""

    HOLDS = 0
    UNKNOWN = 1
    ERROR = 2
    VIOLATED = 3


SEVERITY = {
    Status.HOLDS: StatusRank.HOLDS,
    Status.UNKNOWN: StatusRank.UNKNOWN,
    Status.ERROR: StatusRank.ERROR,
    Status.VIOLATED: StatusRank.VIOLATED,
}


class Witness(Frozen):
    """A concrete flow and the reference evaluator's verdict on it (with the rules)."""

    decision: FlowDecision
    source_is_new_pod: bool
    """True when the source is a pod that does not exist yet (not in the manifests)."""
    destination_is_new_pod: bool


class ViolationFinding(Frozen):
    """One group of flows that violate an invariant alike (`prove --all`), with one witness:
    every flow from a source group (`source` or one of `other_sources`) to a destination
    group, on `protocol` and on exactly `ports` (of those the invariant matches), violates
    it, allowed by the witness's rules at its port (a forbid) or isolated by the witness's
    policies (a require)."""

    source: EndpointGroup
    destination: EndpointGroup
    other_sources: tuple[EndpointGroup, ...] = ()
    other_destinations: tuple[EndpointGroup, ...] = ()
    protocol: Protocol
    ports: tuple[PortRange, ...]
    witness: Witness
    """One flow of the group, replayed through the reference evaluator."""
    other_protocols: tuple[Protocol, ...] = ()
    """Further protocols on which the same groups violate alike (as `DiffFinding`'s)."""
    named_port: str | None = None
    """The destination pod's port of this name, whatever its number (as `DiffFinding`'s):
    `ports` is the witness's number for it."""
    except_named_ports: tuple[str, ...] = ()
    """The destination pod's ports of these names are no port of the finding, whatever
    their numbers (as `DiffFinding`'s)."""
    other_open_rules: tuple[RuleRef, ...] = ()
    """Rules that admit further groups' flows in place of the witness's, each admitting
    every endpoint at the other end (as `DiffFinding`'s)."""
    also_node_local: bool = False
    """Its flows violate alike on the same node too (as `DiffFinding`'s)."""

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        return (self.protocol, *self.other_protocols)


class ViolationFindings(Frozen):
    """Every violating flow of an invariant, as findings (`prove --all`)."""

    findings: tuple[ViolationFinding, ...]
    complete: bool = True
    """False when the search stopped early (finding limit or solver limit): more may exist."""
    incomplete_reason: str | None = None


class InvariantResult(Frozen):
    name: str
    kind: InvariantKind
    status: Status
    counterexample: Witness | None = None
    """For a violated forbid (an allowed flow) or require (a blocked flow); for a violated
    reachable, an example of a matching flow that is blocked, when one exists."""
    witness: Witness | None = None
    """For a reachable that holds: an allowed matching flow."""
    reason: str | None = None
    """Why the result is unknown or an error; notes such as vacuity for holds."""
    scope: str
    """What was quantified over, in words."""
    location: SourceSpan | None = None
    """Where the invariant is written in the spec."""
    description: str | None = None
    profiles: dict[str, Status] | None = None
    """The status under each CNI profile, in profile order (`prove --all-profiles`); the rest
    of the result is that of the first profile with the worst status."""
    all_findings: ViolationFindings | None = None
    """Every violating flow, grouped (`prove --all`, violated forbid and require only)."""


class Report(Frozen):
    """The results of one spec file, in spec order."""

    spec_file: str
    results: tuple[InvariantResult, ...]
    assumptions: tuple[str, ...] = ()
    """What the verdicts take for granted (ipBlock profile, unmodelled kinds, ...)."""
    sources: SourceMap = SourceMap()
    """Where the manifests' objects and rules are written (for rule locations)."""

    @property
    def worst(self) -> "StatusRank":
        return max((SEVERITY[result.status] for result in self.results), default=StatusRank.HOLDS)
