"""Every violating flow of an invariant, grouped as `diff` groups changes (`prove --all`).

A violation of a `forbid` is an "added" change between a revision that allows nothing and the
cluster; a violation of a `require` is a "removed" change between a revision that allows
everything and the cluster. So the diff's solver search finds them, restricted to the flows
the invariant matches: each witness is replayed through the reference evaluator, widened
into a product of groups that violate alike (the same admitting rules, or the same isolating
policies, on the same ports) that the solver confirms, and blocked from the search.
"""

from dataclasses import dataclass

from netverify.encoding.solver import SolverLimits
from netverify.engine.diff.findings import merged_protocols
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.engine.diff.search import DiffSearch
from netverify.engine.diff.symbolic import SymbolicDiff
from netverify.engine.readable import is_new_pod
from netverify.engine.replay import ReplayMismatch
from netverify.model import (
    Cluster,
    Direction,
    Flow,
    FlowDecision,
    Invariant,
    InvariantKind,
    LabelSelector,
    NetworkPolicy,
    ObjectRef,
    PortRange,
    Settings,
    ViolationFinding,
    ViolationFindings,
    Witness,
)
from netverify.model.diff import Change, DiffFinding
from netverify.semantics.patterns import flow_matches

ISOLATING_POLICY = "netverify-isolates-everything"
"""The name of the deny-all policy of each namespace of the revision that allows nothing."""


def violation_findings(
    cluster: Cluster,
    settings: Settings,
    invariant: Invariant,
    limits: SolverLimits,
    max_findings: int,
) -> ViolationFindings:
    """At most `max_findings` findings covering the invariant's violating flows, each once.

    Only `forbid` and `require` are asked (a `reachable` is violated by having no allowed
    flow at all). Flows no NetworkPolicy decides (node-local traffic, a hostNetwork pod's
    traffic with an external address) are allowed in both revisions, so they are not
    listed; admin policy tiers, which the diff does not model, are refused.
    """
    assert invariant.kind is not InvariantKind.REACHABLE, "only forbid and require"
    if cluster.admin_policies:
        return ViolationFindings(
            findings=(),
            complete=False,
            incomplete_reason="prove --all does not group flows decided by admin policy tiers",
        )
    forbid = invariant.kind is InvariantKind.FORBID
    revisions = _InvariantRevisions(
        base=_allowing_nothing(cluster) if forbid else cluster.model_copy(update={"policies": ()}),
        head=cluster,
        settings=settings,
        invariant=invariant,
    )
    symbolic = SymbolicDiff(revisions, invariant.pods, invariant.namespaces, limits, invariant)
    change = Change.ADDED if forbid else Change.REMOVED
    found, complete, reason = DiffSearch(symbolic).changes(change, max_findings, max_findings)
    return ViolationFindings(
        findings=tuple(_violation_finding(finding) for finding in merged_protocols(found)),
        complete=complete,
        incomplete_reason=reason,
    )


def _violation_finding(finding: DiffFinding) -> ViolationFinding:
    """The diff's finding as the invariant's: HEAD is the cluster."""
    flow = finding.head.flow
    return ViolationFinding(
        source=finding.source,
        destination=finding.destination,
        other_sources=finding.other_sources,
        other_destinations=finding.other_destinations,
        protocol=finding.protocol,
        other_protocols=finding.other_protocols,
        ports=finding.ports,
        witness=Witness(
            decision=finding.head,
            source_is_new_pod=is_new_pod(flow.source),
            destination_is_new_pod=is_new_pod(flow.destination),
        ),
    )


def _allowing_nothing(cluster: Cluster) -> Cluster:
    """The cluster with every pod isolated both ways and nothing admitted."""
    return cluster.model_copy(
        update={
            "policies": tuple(
                NetworkPolicy(
                    namespace=namespace.name,
                    name=ISOLATING_POLICY,
                    pod_selector=LabelSelector(),
                    policy_types=frozenset(Direction),
                )
                for namespace in cluster.namespaces
            )
        }
    )


@dataclass(frozen=True)
class _InvariantRevisions(Revisions):
    """The two revisions, where only the flows the invariant matches change, and flows of
    a `require` violate alike only if the same policies isolate them."""

    invariant: Invariant

    def replayed(self, change: Change, flow: Flow) -> ChangedFlow:
        if not self._matches(flow):
            raise ReplayMismatch(
                f"the solver's flow {flow.model_dump_json()} does not match the invariant "
                "(a soundness bug; please report it)"
            )
        return super().replayed(change, flow)

    def changes_at(self, flow: Flow, change: Change, port: int) -> bool:
        return self._matches(flow.model_copy(update={"port": port})) and super().changes_at(
            flow, change, port
        )

    def changes_alike(self, witness: ChangedFlow, probe: Flow) -> bool:
        return (
            self._matches(probe)
            and super().changes_alike(witness, probe)
            and _isolating(self.decide(probe, in_head=True)) == _isolating(witness.head)
        )

    def deciding_ranges(self, flow: Flow) -> list[PortRange]:
        """The policies' ranges and the invariant's own: where it stops matching."""
        own = [port.port_range for port in self.invariant.ports if port.port_range is not None]
        return [*super().deciding_ranges(flow), *own]

    def _matches(self, flow: Flow) -> bool:
        return flow_matches(self.invariant, self.head, flow)


def _isolating(decision: FlowDecision) -> tuple[tuple[ObjectRef, ...], ...]:
    """The policies that isolate the sides that block the flow (none where it is allowed)."""
    return tuple(
        side.isolated_by for side in (decision.egress, decision.ingress) if not side.allowed
    )
