"""Proposed repairs of a violated spec: policy edits, and the fixes that were proved."""

from enum import StrEnum

from netverify.model.admin_policy import AdminPolicy
from netverify.model.base import Frozen
from netverify.model.flow import Flow
from netverify.model.invariants import InvariantKind
from netverify.model.policy import Direction, NetworkPolicy
from netverify.model.refs import ObjectRef, SourceSpan, network_policy_ref


class ChangeKind(StrEnum):
    """What a fix does to the policies."""

    NARROW_PEER = "narrow-peer"
    """A `from`/`to` entry of an admitting rule excludes the violating endpoints."""
    NARROW_PORTS = "narrow-ports"
    """An admitting rule no longer names the violating port."""
    REMOVE_RULE = "remove-rule"
    """An admitting rule goes: it admits only the forbidden endpoints."""
    ADD_RULE = "add-rule"
    """An isolating policy gains a rule admitting the required flows."""
    ADD_POLICY = "add-policy"
    """A new policy isolates an endpoint or admits the required flows."""
    ADD_ADMIN_DENY = "add-admin-deny"
    """A new Admin tier ClusterNetworkPolicy denies the forbidden flows before anything
    else decides them (what blocks node-local traffic and overrides an Admin Accept)."""


class PolicyEdit(Frozen):
    """One policy before and after a fix: a NetworkPolicy edited or added, or a new admin
    policy (fixes never edit an admin policy: they are the cluster admin's guardrails)."""

    before: NetworkPolicy | None
    """None when the fix creates the policy."""
    after: NetworkPolicy | AdminPolicy
    direction: Direction
    rule_index: int | None
    """The rule changed or added, in `direction`; None for a new policy as a whole."""

    @property
    def key(self) -> ObjectRef:
        """The edited object."""
        if isinstance(self.after, AdminPolicy):
            return self.after.ref
        return network_policy_ref(self.after)


class Candidate(Frozen):
    """A proposed change that should make one invariant hold."""

    invariant: str
    change: ChangeKind
    edits: tuple[PolicyEdit, ...]
    why: str
    """What the change does and why it repairs the invariant, in words."""


class FilePatch(Frozen):
    """One manifest file's change, as a unified diff (paths as `git diff` writes them), and
    the whole text before and after it, which `fix --apply` checks and writes."""

    path: str
    diff: str
    original: str
    """The file as it was read ("" for a new file)."""
    patched: str


class ProvedFix(Frozen):
    """A candidate proved on the whole spec: its invariant holds and no other one got worse."""

    candidate: Candidate
    flows_changed: int
    """Changed flows between existing pods the semantic diff found: protocols x port-range
    widths x (source pod, destination pod) pairs, summed over its findings."""
    external_flows: int = 0
    """Changed flows between existing pods and external addresses (the addresses counted
    as one): protocols x port-range widths x pods, summed over its findings."""
    findings: int
    """How many diff findings the change makes."""
    counted_all: bool = True
    """False when the diff stopped at its finding limit: the change is at least that big."""
    location: SourceSpan | None = None
    """Where the edited policy (or rule) is written; None for a new policy."""
    patches: tuple[FilePatch, ...] = ()


class FailReason(StrEnum):
    """Why a candidate was not kept."""

    STILL_VIOLATED = "still-violated"
    """Its own invariant is still violated with it applied."""
    BREAKS_INVARIANT = "breaks-invariant"
    """An invariant that held is violated with it applied."""
    UNKNOWN = "unknown"
    """The solver gave up (or could not decide) on its invariant or on one that held."""


class FailedCandidate(Frozen):
    """A candidate that was proved and not kept, and what showed it: what a user reads to
    see why an invariant got no fix."""

    candidate: Candidate
    reason: FailReason
    invariant: str
    """The invariant that failed: the candidate's own, or the one it breaks."""
    kind: InvariantKind
    """That invariant's kind (a broken forbid now allows its flow, a require blocks it)."""
    flow: Flow | None = None
    """The flow that shows the failure (allowed for a forbid, blocked otherwise); None when
    the solver gave up."""
    locations: tuple[SourceSpan | None, ...] = ()
    """Per edit of the candidate, where the edited rule (or policy) is written; None for a
    new policy."""
    detail: str | None = None
    """For an `unknown`: prove's reason, in its words (a solver limit, or an order of admin
    policies the API leaves open); None when there is none."""


class InvariantFix(Frozen):
    """A violated invariant and its proved fixes, smallest first (empty when none proved)."""

    invariant: str
    location: SourceSpan | None = None
    fixes: tuple[ProvedFix, ...] = ()
    tried: int = 0
    """How many candidates were proved on the whole spec."""
    reason: str | None = None
    """Why no candidate could be proposed, when none was."""
    failed: tuple[FailedCandidate, ...] = ()
    """When no candidate was proved: the first ones tried and why each failed (the others
    are `tried` less these)."""


class FixReport(Frozen):
    """The fixes of one spec file."""

    spec_file: str
    invariants: tuple[InvariantFix, ...] = ()
    patches: tuple[FilePatch, ...] = ()
    """The smallest fix of each invariant together (a fix editing a policy another one
    already edits differently is left out), as `--format patch` writes it."""
    left_out: tuple[str, ...] = ()
    """Invariants whose smallest fix is not in `patches`."""
    together_holds: bool = False
    """Whether every invariant of the spec holds with `patches` applied (proved)."""
    together_safe: bool = False
    """Whether, with `patches` applied, every invariant that held still holds and every one
    they fix holds (proved): what `--apply` needs, as some invariants may have no fix."""

    @property
    def complete(self) -> bool:
        """Whether every violated invariant got a proved fix."""
        return all(entry.fixes for entry in self.invariants)
