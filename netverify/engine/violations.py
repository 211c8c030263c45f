"""Every violating flow of an invariant, grouped as `diff` groups changes (`prove --all`).

A violation of a `forbid` is an "added" change between a revision that allows nothing and the
cluster; a violation of a `require` is a "removed" change between a revision that allows
everything and the cluster. Neither revision has admin policies: an Admin Accept would allow
in the one and a Deny block in the other, so "changed" would no longer be "violating". So the
diff's solver search finds them, restricted to the flows the invariant matches: each witness
is replayed through the reference evaluator, widened into a product of groups that violate
alike (the same admitting rules, or the same isolating policies and denying admin rules, on
the same ports) that the solver confirms, and blocked from the search.

The revision that allows nothing cannot block what no NetworkPolicy decides (node-local
traffic, and traffic with no end a policy selects): a `forbid` violated by such flows is
reported incomplete, naming one of them, never as a complete listing.
"""

from dataclasses import dataclass

from netverify.encoding.solver import SolverLimits, collector_paused, unknown_reason
from netverify.engine.diff import tier_doubt
from netverify.engine.diff.findings import merged_findings
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.engine.diff.search import DiffSearch, limit_reason
from netverify.engine.diff.symbolic import SymbolicDiff, Undecided
from netverify.engine.readable import is_new_pod
from netverify.engine.replay import ReplayMismatch
from netverify.engine.slicing import Slice
from netverify.engine.tiers import flow_name
from netverify.model import (
    Cluster,
    Direction,
    EndpointPattern,
    Flow,
    FlowDecision,
    Invariant,
    InvariantKind,
    LabelSelector,
    NetworkPolicy,
    ObjectRef,
    Operator,
    PodEndpoint,
    PortRange,
    RuleRef,
    Settings,
    ViolationFinding,
    ViolationFindings,
    Witness,
)
from netverify.model.diff import Change, DiffFinding, EndpointGroup
from netverify.semantics.patterns import flow_matches, matched_ports
from netverify.semantics.portsets import PortSet

ISOLATING_POLICY = "netverify-isolates-everything"
"""The name of the deny-all policy of each namespace of the revision that allows nothing."""


def violation_findings(
    cluster: Cluster,
    settings: Settings,
    invariant: Invariant,
    limits: SolverLimits,
    max_findings: int,
    part: Slice | None = None,
) -> ViolationFindings:
    """At most `max_findings` findings covering the invariant's violating flows, each once.

    Only `forbid` and `require` are asked (a `reachable` is violated by having no allowed
    flow at all). A violating flow no policy can block (node-local traffic, a hostNetwork
    pod's traffic with an external address) is not listed: the findings are then marked
    incomplete, naming one. With `part`, the invariant's slice (`slice_for`), the solver
    sees only the slice, as `prove`'s does; the evaluator still decides on the cluster.

    The listing does not depend on what ran before in the process: the search builds its
    encodings in a fresh Z3 context and runs with the cyclic collector paused
    (`collector_paused`), so its terms get the same ids, and its solvers give the same
    models, every time; a listing cut at `max_findings` lists the same subset.
    """
    assert invariant.kind is not InvariantKind.REACHABLE, "only forbid and require"
    with collector_paused():
        return _searched_findings(cluster, settings, invariant, limits, max_findings, part)


def _searched_findings(
    cluster: Cluster,
    settings: Settings,
    invariant: Invariant,
    limits: SolverLimits,
    max_findings: int,
    part: Slice | None,
) -> ViolationFindings:
    """`violation_findings`, searched."""
    forbid = invariant.kind is InvariantKind.FORBID
    revise = _allowing_nothing if forbid else _without_policies
    revisions = _InvariantRevisions(
        base=revise(cluster), head=cluster, settings=settings, invariant=invariant
    )
    encoded = None
    if part is not None:
        sliced = part.of(cluster)
        encoded = Revisions(base=revise(sliced), head=sliced, settings=settings)
    symbolic = SymbolicDiff(
        revisions, invariant.pods, invariant.namespaces, limits, invariant, encoded
    )
    change = Change.ADDED if forbid else Change.REMOVED
    searched = DiffSearch(symbolic).changes(change, max_findings)
    findings = merged_findings(searched.products)
    reason = searched.unknown
    if searched.at_limit:
        reason = limit_reason(max_findings, len(findings))
    elif reason is None:
        reason = tier_doubt(symbolic) or (_unlisted(revisions, symbolic) if forbid else None)
    complete = reason is None
    return ViolationFindings(
        findings=tuple(_violation_finding(finding, invariant) for finding in findings),
        complete=complete,
        incomplete_reason=reason,
    )


def _unlisted(revisions: "_InvariantRevisions", symbolic: SymbolicDiff) -> str | None:
    """Why a `forbid`'s findings miss a violation: a violating flow that the revision
    allowing nothing allows too (the evaluator's word); None when there is none."""
    flow = symbolic.allowed_in_both()
    if isinstance(flow, Undecided):
        return unknown_reason(symbolic.flow_checker, symbolic.limits)
    if flow is None:
        return None
    decision = revisions.replayed_unlisted(flow)
    name = flow_name(flow)
    if decision.node_local:
        return (
            "node-local traffic is not subject to NetworkPolicy: violating flows between a "
            f"hostNetwork pod and a pod on its node, such as {name} (on one node), are not listed"
        )
    if _in_new_namespace(flow):
        return (
            "pods in a namespace that could be created have no NetworkPolicy of the manifests: "
            f"violating flows to or from them, such as {name}, are not listed"
        )
    return (
        "traffic with no end a policy selects (a hostNetwork pod or an external address) is "
        f"not subject to policies: violating flows such as {name} are not listed"
    )


def _in_new_namespace(flow: Flow) -> bool:
    """An end is a pod of a namespace that does not exist yet (`namespaces: any`)."""
    return any(
        isinstance(end, PodEndpoint) and not end.namespace.exists
        for end in (flow.source, flow.destination)
    )


def _violation_finding(finding: DiffFinding, invariant: Invariant) -> ViolationFinding:
    """The diff's finding as the invariant's: HEAD is the cluster; groups of new pods
    show the labels the invariant's pattern at their end asks of every pod."""
    flow = finding.head.flow

    def asked(
        groups: tuple[EndpointGroup, ...], pattern: EndpointPattern
    ) -> tuple[EndpointGroup, ...]:
        return tuple(_with_pattern_labels(group, pattern) for group in groups)

    source, destination = invariant.source, invariant.destination
    return ViolationFinding(
        source=_with_pattern_labels(finding.source, source),
        destination=_with_pattern_labels(finding.destination, destination),
        other_sources=asked(finding.other_sources, source),
        other_destinations=asked(finding.other_destinations, destination),
        protocol=finding.protocol,
        other_protocols=finding.other_protocols,
        ports=finding.ports,
        named_port=finding.named_port,
        except_named_ports=finding.except_named_ports,
        other_open_rules=finding.other_open_rules,
        also_node_local=finding.also_node_local,
        witness=Witness(
            decision=finding.head,
            source_is_new_pod=is_new_pod(flow.source),
            destination_is_new_pod=is_new_pod(flow.destination),
        ),
    )


def _with_pattern_labels(group: EndpointGroup, pattern: EndpointPattern) -> EndpointGroup:
    """A group of new pods with the labels the pattern's pod selector asks for (its
    `matchLabels`, and each `In` of one value): every pod of the group has them, as the
    findings hold only flows the invariant matches, but the group's own key leaves them
    free (the solver needs not pin them); the exclusions those labels rule out are
    dropped."""
    selector = pattern.pod_selector
    if group.kind != "new-pod" or selector is None:
        return group
    asked = dict(selector.match_labels)
    for requirement in selector.match_expressions:
        if requirement.operator is Operator.IN and len(requirement.values) == 1:
            asked[requirement.key] = requirement.values[0]
    if not asked:
        return group
    return group.model_copy(
        update={
            "labels": {**asked, **group.labels},
            # What the pattern rules out already is no exclusion worth saying.
            "labels_not_in": {k: v for k, v in group.labels_not_in.items() if k not in asked},
            "except_labels": tuple(
                combination
                for combination in group.except_labels
                if all(asked.get(key, value) == value for key, value in combination.items())
            ),
        }
    )


def _without_policies(cluster: Cluster) -> Cluster:
    """The cluster with no policy of any kind: everything is allowed."""
    return cluster.model_copy(update={"policies": (), "admin_policies": ()})


def _allowing_nothing(cluster: Cluster) -> Cluster:
    """The cluster with every pod isolated both ways, nothing admitted and no admin policy
    (whose Accept would admit)."""
    return cluster.model_copy(
        update={
            "admin_policies": (),
            "policies": tuple(
                NetworkPolicy(
                    namespace=namespace.name,
                    name=ISOLATING_POLICY,
                    pod_selector=LabelSelector(),
                    policy_types=frozenset(Direction),
                )
                for namespace in cluster.namespaces
            ),
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

    def changed_port_set(self, flow: Flow, change: Change) -> PortSet | None:
        """The change's ports at which the invariant matches the flow (`matched_ports`)."""
        changed = super().changed_port_set(flow, change)
        return changed & matched_ports(self.invariant, self.head, flow) if changed else changed

    def replayed_unlisted(self, flow: Flow) -> FlowDecision:
        """The cluster's decision on a violating flow of a `forbid` that the revision
        allowing nothing allows too: it must match, be allowed in both and be node-local,
        have no end a policy selects, or have an end in a namespace that could be created
        (no policy of the manifests is in it, and the revision isolates only the
        namespaces that exist)."""
        head = self.decide(flow, in_head=True)
        base = self.decide(flow, in_head=False)
        governed = head.egress.governed or head.ingress.governed
        if not (
            self._matches(flow)
            and head.allowed
            and base.allowed
            and (head.node_local or not governed or _in_new_namespace(flow))
        ):
            raise ReplayMismatch(
                f"the solver's flow {flow.model_dump_json()} is no unlisted violation by "
                "the reference evaluator (a soundness bug; please report it)"
            )
        return head

    def changes_alike(self, witness: ChangedFlow, probe: Flow) -> bool:
        return (
            self._matches(probe)
            and super().changes_alike(witness, probe)
            and _blocking(self.decide(probe, in_head=True)) == _blocking(witness.head)
        )

    def deciding_ranges(self, flow: Flow) -> list[PortRange]:
        """The policies' ranges and the invariant's own: where it stops matching."""
        own = [port.port_range for port in self.invariant.ports if port.port_range is not None]
        return [*super().deciding_ranges(flow), *own]

    def _matches(self, flow: Flow) -> bool:
        return flow_matches(self.invariant, self.head, flow)


def _blocking(
    decision: FlowDecision,
) -> tuple[tuple[Direction, tuple[ObjectRef, ...], RuleRef | None], ...]:
    """What blocks each side that blocks the flow (none where it is allowed): the policies
    that isolate it and the admin rule that denies it."""
    return tuple(
        (
            side.direction,
            side.isolated_by,
            None if side.admin_rule is None else side.admin_rule.rule,
        )
        for side in (decision.egress, decision.ingress)
        if not (side.allows_node_local if decision.node_local else side.allowed)
    )
