"""What `netverify diff` produces: connectivity added or removed between two revisions."""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.decision import FlowDecision
from netverify.model.objects import Protocol
from netverify.model.policy import PortRange
from netverify.model.refs import ObjectRef, RuleRef, SourceMap

DEFAULT_MAX_FINDINGS = 100
"""Where a diff stops searching unless told otherwise (`--max-findings`)."""


class Change(StrEnum):
    ADDED = "added"
    """Allowed in HEAD, blocked in BASE."""
    REMOVED = "removed"
    """Allowed in BASE, blocked in HEAD."""


class Revision(StrEnum):
    BASE = "base"
    HEAD = "head"


class DiffCause(Frozen):
    """The rule or policy whose change made a finding: where a reviewer should look."""

    revision: Revision
    """The revision `what` is read in (and located in): HEAD, or BASE for a rule that no
    longer admits the flow or a policy HEAD deleted."""
    what: RuleRef | ObjectRef
    """A rule that admits the flow in the revision that allows it, or a policy that isolates
    it in the revision that blocks it (or, deleted by HEAD, isolated it in BASE)."""


class EndpointGroup(Frozen):
    """Endpoints no policy of either revision can tell apart, described for people."""

    kind: str
    """`pods` (existing pods of one class), `new-pod` (pods that could be created in a
    namespace) or `external` (addresses outside the cluster)."""
    namespace: str | None = None
    pods: tuple[str, ...] = ()
    """Names of the existing pods of the group."""
    labels: dict[str, str] = {}
    """Existing pods: the labels every pod of the group has; new pods: the labels that
    matter, with the witness pod's values."""
    labels_not_in: dict[str, tuple[str, ...]] = {}
    """New pods: label values the group's pods do not have (`(none)`: the label is
    absent; `(other)`: any value no policy mentions)."""
    except_labels: tuple[dict[str, str], ...] = ()
    """New pods: combinations of labels none of the group's pods has all of."""
    labels_absent: tuple[str, ...] = ()
    """New pods: label keys none of the group's pods has."""
    new_namespace: bool = False
    """New pods of a namespace that could be created (`namespace` is a stand-in name)."""
    named_ports: dict[str, str] = {}
    """New pods: what each named port (`name/PROTOCOL`) the group constrains must be: a
    number, `undefined`, `undefined or not the flow's port` (or `... not 8081-8090`), or
    `the flow's port` / `one of the flow's ports` (or `in 8081-8090`)."""


class DiffFinding(Frozen):
    """One group of flows whose verdict changed, with one concrete witness."""

    change: Change
    source: EndpointGroup
    destination: EndpointGroup
    protocol: Protocol
    ports: tuple[PortRange, ...]
    """Every changed port for the witness's endpoints (for existing pods, the group's);
    with `except_named_ports`, but the destination's numbers for those."""
    base: FlowDecision
    """The witness under BASE, with the rules that decided it there."""
    head: FlowDecision
    """The same flow under HEAD."""
    other_sources: tuple[EndpointGroup, ...] = ()
    """Further source groups taken into the finding."""
    other_destinations: tuple[EndpointGroup, ...] = ()
    """Further destination groups taken into the finding. Every flow from a source group
    (`source` or one of `other_sources`) to a destination group changed like the witness:
    on `protocol`, on exactly `ports`; with the witness's rules responsible at its port. One
    rule that opens many pods to many pods is one finding, not one per pair of groups."""
    cause: DiffCause | None = None
    """The witness's admitting rule or isolating policy that differs between BASE and HEAD;
    None when none does (namespace or pod labels changed instead)."""
    other_protocols: tuple[Protocol, ...] = ()
    """Further protocols on which the same groups changed alike, on the same ports and by
    the same rules (one rule that opens every port is one finding, not one per protocol)."""

    named_port: str | None = None
    """The destination pod's port of this name (on each protocol): every flow of the
    finding changed on exactly that port of its destination, whatever its number (a rule
    that names the port); `ports` is the witness's number for it."""
    except_named_ports: tuple[str, ...] = ()
    """The destination pod's ports of these names (on each protocol) are no port of the
    finding: every flow of it changed on `ports` but on its destination's numbers for
    them (another rule on the named port allowed those in both revisions), whatever the
    numbers: `ports` are the change's but for those numbers (the witness's flow changed on
    `ports` but its destination's numbers for them)."""
    other_open_rules: tuple[RuleRef, ...] = ()
    """Rules that admit the flows of further groups in place of the witness's, on a side
    where each admits every endpoint at the other end (an egress rule without `to`, an
    ingress rule without `from`): each source's own "allow all egress" is no cause of a
    finding of its own. Read in the revision that allows the flows."""
    also_node_local: bool = False
    """Its flows changed alike on the same node too (the witness is across nodes): one
    finding for both placements of a hostNetwork pod and a pod that may share its node.
    A finding whose witness is node-local (`head.node_local`) holds node-local flows only,
    and one without either, flows across nodes only (where a pair may change apart on each
    placement, its node-local flows are in another finding)."""

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        return (self.protocol, *self.other_protocols)


class DiffReport(Frozen):
    """Everything that changed, added first, each group once."""

    base_label: str
    head_label: str
    findings: tuple[DiffFinding, ...]
    complete: bool = True
    """False when the search stopped early (finding limit or solver limit): more may exist."""
    incomplete_reason: str | None = None
    error: str | None = None
    """An internal error (e.g. a witness the reference evaluator does not confirm)."""
    scope: str
    assumptions: tuple[str, ...] = ()
    base_sources: SourceMap = SourceMap()
    head_sources: SourceMap = SourceMap()

    def sources_in(self, revision: Revision) -> SourceMap:
        """Where the objects and rules of one revision were written."""
        return self.head_sources if revision is Revision.HEAD else self.base_sources
