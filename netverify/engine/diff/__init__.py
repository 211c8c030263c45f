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

from netverify.encoding.solver import Keep, SolverLimits, unknown_reason
from netverify.engine.diff.findings import Product, merged_findings
from netverify.engine.diff.revisions import Revisions
from netverify.engine.diff.search import DiffSearch, Searched, limit_reason
from netverify.engine.diff.symbolic import SymbolicDiff, Undecided
from netverify.engine.replay import ReplayMismatch
from netverify.engine.scope import assumptions, scope_description
from netverify.engine.tierbits import tier_assumptions
from netverify.engine.tiers import domain_policies, flow_name
from netverify.engine.unmodelled import unmodelled_difference
from netverify.model import (
    Invariant,
    InvariantKind,
    LoadedCluster,
    NamespaceScope,
    PodScope,
    Settings,
)
from netverify.model.admin_policy import short_name
from netverify.model.diff import DEFAULT_MAX_FINDINGS, Change, DiffReport
from netverify.semantics.evaluator import open_choices

ON_OPEN_ORDER = (
    "a change is one in every order, and the report is incomplete where it depends on the order"
)


def _both_changes(search: DiffSearch, max_findings: int) -> list[Searched]:
    """Each kind of change, in `Change` order, sharing `max_findings` flow groups.

    Added flows are searched first with half, so that they cannot use up the budget and
    leave removed ones unsearched (a report that says "0 removed" when none were looked
    for); removed flows are then given all that added ones left, in one search (a fix that
    only narrows: all of it). Added flows stopped at their half are searched again, from
    scratch, with what removed ones left."""
    added, removed = Change
    first = search.changes(added, max_findings - max_findings // 2)
    second = search.changes(removed, max_findings - len(first.products))
    if first.at_limit and len(first.products) + len(second.products) < max_findings:
        first = search.changes(added, max_findings - len(second.products))
    return [first, second]


def diff(
    base: LoadedCluster,
    head: LoadedCluster,
    settings: Settings,
    pods: PodScope,
    namespaces: NamespaceScope,
    limits: SolverLimits,
    labels: tuple[str, str] = ("BASE", "HEAD"),
    max_findings: int = DEFAULT_MAX_FINDINGS,
    keep: Keep | None = None,
) -> DiffReport:
    """Connectivity added (allowed in HEAD only) and removed (allowed in BASE only).
    `keep` is given the search (its encoding and solvers), for a caller that would rather
    keep it than free it (`Keep`)."""
    revisions = Revisions(base.cluster, head.cluster, settings)
    search = DiffSearch(SymbolicDiff(revisions, pods, namespaces, limits))
    if keep:
        keep(search)
    products: list[Product] = []
    at_limit, reason, error = False, None, None
    try:
        for searched in _both_changes(search, max_findings):
            products += searched.products
            at_limit = at_limit or searched.at_limit
            reason = reason or searched.unknown
    except ReplayMismatch as mismatch:
        error = f"internal error: {mismatch}"
    findings = merged_findings(products)
    if at_limit:
        reason = limit_reason(max_findings, len(findings))
    complete = reason is None
    if complete and error is None:
        reason = tier_doubt(search.symbolic) or unmodelled_difference(base.cluster, head.cluster)
        complete = reason is None
    everything = Invariant(name="diff", kind=InvariantKind.FORBID, pods=pods, namespaces=namespaces)
    return DiffReport(
        base_label=labels[0],
        head_label=labels[1],
        findings=tuple(findings),
        complete=complete,
        incomplete_reason=reason,
        error=error,
        scope=scope_description(everything, revisions.merged),
        assumptions=(
            *assumptions(revisions.merged, settings),
            *dict.fromkeys(
                note
                for cluster in (revisions.base, revisions.head)
                for note in tier_assumptions(cluster, ON_OPEN_ORDER)
            ),
        ),
        base_sources=base.sources,
        head_sources=head.sources,
    )


def tier_doubt(symbolic: SymbolicDiff) -> str | None:
    """Why "no other change" is no proof for the admin tiers: a flow whose change depends
    on an order of admin policies the API leaves open, or a changed `domainNames` peer,
    whose addresses netverify cannot resolve."""
    revisions = symbolic.revisions
    flow = symbolic.undetermined_flow()
    if isinstance(flow, Undecided):
        return unknown_reason(symbolic.checker, symbolic.limits)
    if flow is not None:
        names = sorted(
            {
                short_name(match.rule.policy)
                for cluster in (revisions.head, revisions.base)
                for options in open_choices(
                    cluster, revisions.as_in_base(flow) if cluster is revisions.base else flow
                )
                for match in options
            }
        )
        return (
            f"whether {flow_name(flow)} changed depends on the order of "
            f"{' and '.join(names) or 'admin policies'}, which the API leaves open (equal "
            "priorities, or both API versions in one tier)"
        )
    base, head = domain_policies(revisions.base), domain_policies(revisions.head)
    changed = sorted(
        {short_name(p.ref) for p in base if p not in head}
        | {short_name(p.ref) for p in head if p not in base}
    )
    if changed:
        return (
            f"{' and '.join(changed)} changed `domainNames` peers, whose addresses netverify "
            "cannot resolve: flows to them are not compared"
        )
    return None


__all__ = ["diff"]
