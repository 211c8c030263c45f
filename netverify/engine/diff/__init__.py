"""Semantic diff: which flows one revision allows and the other does not.

Flows between existing pods whose every address ipBlocks treat alike (almost all of them)
are a finite question: `ClassChanges` (`classes`) answers it exactly on both revisions'
bit-set verdicts over shared pod classes, as products of source classes x destination
classes that changed alike. Every product's witness is replayed through the reference
evaluator (`revisions`), which must agree on the verdicts and the ports.

The solver (`symbolic`, `search`) searches the rest, on one symbolic flow: an end that is an
external address, a pod that could exist (`pods: any`) or a pod whose addresses ipBlocks
tell apart, each namespace carrying each revision's own labels. Each change is searched for
as "allowed by one, blocked by the other"; every model is decoded, replayed under both
revisions, grouped with the other groups that changed the same way (`grouping`: same
protocol, ports and responsible rules, one representative of each replayed through the
evaluator, the product confirmed by the solver) and blocked from the search, so that the
report lists groups, not pod pairs (`findings`).
"""

from netverify.encoding.solver import SolverLimits
from netverify.engine.diff.findings import merged_protocols
from netverify.engine.diff.revisions import Revisions
from netverify.engine.diff.search import DiffSearch
from netverify.engine.diff.symbolic import SymbolicDiff
from netverify.engine.replay import ReplayMismatch
from netverify.engine.scope import assumptions, scope_description
from netverify.model import (
    Invariant,
    InvariantKind,
    LoadedCluster,
    NamespaceScope,
    PodScope,
    Settings,
)
from netverify.model.diff import DEFAULT_MAX_FINDINGS, Change, DiffFinding, DiffReport


def diff(
    base: LoadedCluster,
    head: LoadedCluster,
    settings: Settings,
    pods: PodScope,
    namespaces: NamespaceScope,
    limits: SolverLimits,
    labels: tuple[str, str] = ("BASE", "HEAD"),
    max_findings: int = DEFAULT_MAX_FINDINGS,
) -> DiffReport:
    """Connectivity added (allowed in HEAD only) and removed (allowed in BASE only)."""
    revisions = Revisions(base.cluster, head.cluster, settings)
    search = DiffSearch(SymbolicDiff(revisions, pods, namespaces, limits))
    findings: list[DiffFinding] = []
    complete, reason, error = True, None, None
    for change in Change:
        try:
            found, change_complete, change_reason = search.changes(
                change, max_findings - len(findings), max_findings
            )
        except ReplayMismatch as mismatch:
            error = f"internal error: {mismatch}"
            break
        findings += found
        if not change_complete:
            complete, reason = False, change_reason
    everything = Invariant(name="diff", kind=InvariantKind.FORBID, pods=pods, namespaces=namespaces)
    return DiffReport(
        base_label=labels[0],
        head_label=labels[1],
        findings=tuple(merged_protocols(findings)),
        complete=complete,
        incomplete_reason=reason,
        error=error,
        scope=scope_description(everything, revisions.merged),
        assumptions=assumptions(revisions.merged, settings),
        base_sources=base.sources,
        head_sources=head.sources,
    )


__all__ = ["diff"]
