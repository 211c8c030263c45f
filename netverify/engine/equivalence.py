"""Whether two clusters that differ only in their admin policies decide every flow alike:
`netverify migrate`'s proof that a conversion changed nothing.

Both clusters share one encoding (pods, namespaces, nodes and NetworkPolicies are the same);
each one's admin tiers are a formula of "may be allowed" and "may be blocked" over the one
symbolic flow (where the API leaves an order open, a flow may be both). The search is for a
flow, between any pods that could exist in any namespaces, on which the two differ: none is
the proof. Every flow found is replayed through the reference evaluator, which must agree.
"""

from dataclasses import dataclass

import z3

from netverify.encoding.admin import AdminEncoding
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.solver import SolverLimits, make_solver, unknown_reason
from netverify.encoding.universe import build_universe
from netverify.engine.readable import readable_flow
from netverify.engine.replay import ReplayMismatch
from netverify.model import Cluster, Flow, FlowDecision, PodEndpoint, Settings
from netverify.semantics.evaluator import possible_verdicts

DEFAULT_MOST = 5
"""The most differing flows listed (one per pair of pod classes)."""


@dataclass(frozen=True)
class DifferingFlow:
    """A flow the two clusters decide differently, as the reference evaluator decides it."""

    flow: Flow
    before: tuple[FlowDecision, ...]
    """The first cluster's decisions: one per verdict some order of its tiers reaches."""
    after: tuple[FlowDecision, ...]
    """The second cluster's, likewise."""


@dataclass(frozen=True)
class Equivalence:
    """The answer: proved equal, the flows that differ, or the solver's reason for giving up."""

    differences: tuple[DifferingFlow, ...] = ()
    unknown_reason: str | None = None
    """Set when the solver gave up before finding a difference or proving there is none."""

    @property
    def proved(self) -> bool:
        return not self.differences and self.unknown_reason is None


def admin_equivalence(
    before: Cluster,
    after: Cluster,
    settings: Settings,
    limits: SolverLimits,
    most: int = DEFAULT_MOST,
) -> Equivalence:
    """Search for flows `before` and `after` decide differently (in some order of their
    tiers the API allows, one may allow or block a flow the other cannot); `pods: any`,
    `namespaces: any`. Raises `ValueError` when the clusters differ in more than their admin
    policies, `ReplayMismatch` when the evaluator disagrees with a flow found (a bug)."""
    if _without_admin(before) != _without_admin(after):
        raise ValueError("the clusters differ in more than their admin policies")
    universe = build_universe([before, after], (), settings.pod_cidrs)
    encoding = ClusterEncoding(before, settings, universe=universe)
    same_node = encoding.flow.same_node if encoding.node_local_possible else None
    verdicts = []
    for cluster in (before, after):
        admin = AdminEncoding(cluster, encoding.classes, encoding.policies)
        verdicts.append(
            [
                admin.flow_verdict(allowed, encoding.self_traffic, same_node)
                for allowed in (True, False)
            ]
        )
    (allowed_before, blocked_before), (allowed_after, blocked_after) = verdicts
    solver = make_solver(limits)
    solver.add(
        encoding.domain,
        z3.Or(allowed_before != allowed_after, blocked_before != blocked_after),
    )
    differences: list[DifferingFlow] = []
    while len(differences) < most:
        outcome = solver.check()
        if outcome == z3.unsat:
            return Equivalence(differences=tuple(differences))
        if outcome != z3.sat:
            return Equivalence(tuple(differences), unknown_reason(solver, limits))
        flow = readable_flow(solver, encoding, prefer_existing=True, prefer_declared_port=True)
        differences.append(_replayed(before, after, flow, settings))
        solver.add(z3.Not(_same_kind(encoding, flow)))
    return Equivalence(differences=tuple(differences))


def _without_admin(cluster: Cluster) -> Cluster:
    return cluster.model_copy(update={"admin_policies": ()})


def _replayed(before: Cluster, after: Cluster, flow: Flow, settings: Settings) -> DifferingFlow:
    """The flow with both clusters' decisions; the evaluator must find them different."""
    decisions = [possible_verdicts(cluster, flow, settings) for cluster in (before, after)]
    if set(decisions[0]) == set(decisions[1]):
        raise ReplayMismatch(
            f"the encoding says the clusters decide {flow} differently, the reference "
            f"evaluator says both allow it in {sorted(decisions[0])}"
        )
    return DifferingFlow(flow, *(tuple(found.values()) for found in decisions))


def _same_kind(encoding: ClusterEncoding, flow: Flow) -> z3.BoolRef:
    """A flow between the same pod classes (pods that could exist are class -1), or
    between the same class and an address: one is listed, the others are alike."""
    terms: list[z3.BoolRef] = []
    for symbolic, end in (
        (encoding.flow.source, flow.source),
        (encoding.flow.destination, flow.destination),
    ):
        if isinstance(end, PodEndpoint):
            terms += [symbolic.is_pod, symbolic.pod_class == _class_of(encoding, end)]
        else:
            terms.append(z3.Not(symbolic.is_pod))
    return z3.And(terms)


def _class_of(encoding: ClusterEncoding, end: PodEndpoint) -> int:
    """The index of the class of an existing pod; -1 for a pod that could exist."""
    found = (c.index for c in encoding.classes if any(pod is end.pod for pod in c.pods))
    return next(found, -1)
