"""Whether an invariant holds with a candidate applied, on encodings kept across candidates.

`fix` proves dozens of candidates, each changing one or a few NetworkPolicies of a cluster
whose pods, namespaces and Services stay as loaded. An invariant's slice then keeps its
pods, and while the policies of its slice mention no label, port name or CIDR outside the
universe, the pod classes, the symbolic flow and the domain of a fresh encoding are the
same too: only the policies' terms differ. So one encoding and one solver (the domain
asserted once) is kept per slice and universe, and each candidate's policies are asserted
in a push/pop frame of their own; a candidate that changes the universe gets an encoding
of its own, kept for the candidates after it with that universe. Invariants whose
encodings would be the same (the same pods, universe and named pods) share one.

Verdicts are read only where the answer settles them (a `reachable`'s flow replayed
through the reference evaluator). The flows a solver with a history returns depend on that
history: the flow a search extends its candidates from (`result`), and shows for a failed
candidate, comes from encodings kept for that search group alone, asked in the group's
order wherever it runs, so the flows do not depend on which process searched what before.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.decode import decode_flow
from netverify.encoding.solver import SolverLimits, check_with_fallback, in_context, make_solver
from netverify.encoding.universe import Universe, build_universe
from netverify.engine.invariant_prover import InvariantProver, proved_one
from netverify.engine.slicing import Slicer, worth_slicing
from netverify.engine.tiers import flow_doubt
from netverify.invariants import matching_flow, query_for
from netverify.model import Cluster, Flow, Invariant, InvariantKind, InvariantResult, Settings
from netverify.semantics import evaluate
from netverify.semantics.patterns import flow_matches


@dataclass
class _Kept:
    """An encoding of one invariant and the solver with its domain, in their Z3 context."""

    encoding: ClusterEncoding
    solver: z3.Solver
    context: z3.Context
    matching: dict[str, z3.BoolRef] = field(default_factory=dict)
    """`matching_flow` of each invariant asked about, by name: it depends on the flow, the
    universe and the namespaces, which every candidate's encoding shares, not on the
    policies (the scope's `Or` over the namespaces took a tenth of `holds`)."""


class Verdicts:
    """Verdicts of the invariants of one spec on clusters that differ from the loaded one
    only in their NetworkPolicies."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        invariants: tuple[Invariant, ...],
        slicers: list[Slicer],
        limits: SolverLimits,
    ) -> None:
        self.settings = settings
        self.invariants = invariants
        self.slicers = slicers
        self.limits = limits
        self.sliced = worth_slicing(cluster)
        self.kept: dict[Hashable, _Kept] = {}
        """By who asks (None for verdicts, else a search group: `result`) and by what a
        fresh encoding of one invariant is made of besides the policies: its slice's pods,
        its universe and the pods it names (each a class of its own); the invariants with
        the same share one."""

    def holds(self, head: Cluster, invariant: Invariant) -> bool | None:
        """Whether the invariant holds on `head` (as `prove` would say: status `holds`), or
        None when the solver's answer alone does not settle it: an `unknown`, a `reachable`
        whose flow the reference evaluator does not confirm, a Service's backend, admin
        policies."""
        found = self._kept_for(head, invariant, None)
        if found is None:
            return None
        kept, sliced = found
        with in_context(kept.context):
            encoding = kept.encoding.with_policies(sliced.policies)
            matching = kept.matching.get(invariant.name)
            if matching is None:
                matching = kept.matching[invariant.name] = matching_flow(encoding, invariant)
            query = query_for(encoding, invariant, matching)
            kept.solver.push()
            try:
                kept.solver.add(query.formula)
                outcome, answered = check_with_fallback(kept.solver, self.limits)
                witness = (
                    decode_flow(encoding, answered.model())
                    if outcome == z3.sat and not query.found_means_violated
                    else None
                )
            finally:
                kept.solver.pop()
        if outcome == z3.unknown:
            return None
        if query.found_means_violated:
            # NOTE: sat is never `holds` (violated, or unknown on a doubt); unsat is `holds`
            # (without admin policies there is no `domain_doubt`).
            return bool(outcome == z3.unsat)
        assert invariant.kind is InvariantKind.REACHABLE
        if witness is None:
            return False
        return self._witnessed(head, invariant, witness) or None

    def result(
        self, head: Cluster, invariant: Invariant, owner: Hashable
    ) -> InvariantResult | None:
        """The invariant's result on `head` as `prove` reads it (a flow made readable, less
        thoroughly: `InvariantProver`'s `thorough`; replayed through the reference
        evaluator), on an encoding kept for `owner` alone: a search group, whose candidates
        come in the same order wherever it runs, so that the flows, which depend on what
        the solver was asked before, do too. None where `holds` says None for the solver's
        answer alone (a Service's backend, admin policies)."""
        found = self._kept_for(head, invariant, owner)
        if found is None:
            return None
        kept, sliced = found
        with in_context(kept.context):
            encoding = kept.encoding.with_policies(sliced.policies, whole=head)
            prover = InvariantProver(encoding, kept.solver, invariant, self.limits, thorough=False)
            return proved_one(prover)

    def _kept_for(
        self, head: Cluster, invariant: Invariant, owner: Hashable
    ) -> tuple[_Kept, Cluster] | None:
        """The kept encoding the invariant is asked about on `head` (by `owner`: None for
        verdicts, which every search shares), and the slice of `head` it encodes."""
        if invariant.through is not None or head.admin_policies:
            return None
        part = self.slicers[self.invariants.index(invariant)].slice(head) if self.sliced else None
        sliced = head if part is None else part.of(head)
        universe = build_universe([sliced], [invariant], self.settings.pod_cidrs)
        key = (owner, None if part is None else part.pods, encoding_key(universe, [invariant]))
        kept = self.kept.get(key)
        if kept is None:
            kept = self.kept[key] = self._keep(sliced, head, invariant, universe)
        return kept, sliced

    def _witnessed(self, head: Cluster, invariant: Invariant, flow: Flow) -> bool:
        """Whether the solver's flow, replayed through the reference evaluator, is a matching
        flow that is allowed beyond doubt: then the `reachable` holds, whatever flow a fresh
        solver would show."""
        return (
            evaluate(head, flow, self.settings).allowed
            and flow_matches(invariant, head, flow)
            and flow_doubt(head, self.settings, flow, expect_allowed=True) is None
        )

    def _keep(
        self, sliced: Cluster, head: Cluster, invariant: Invariant, universe: Universe
    ) -> _Kept:
        encoding = ClusterEncoding(
            sliced, self.settings, [invariant], universe=universe, whole=head
        )
        solver = make_solver(self.limits)
        solver.add(encoding.domain)
        return _Kept(encoding=encoding, solver=solver, context=z3.main_ctx())


def encoding_key(universe: Universe, invariants: Sequence[Invariant]) -> Hashable:
    """What a fresh encoding of one slice of a cluster takes from the invariants proved on
    it: its universe and the pods they name (each a class of its own)."""
    named = frozenset(
        (pattern.namespace_name, pattern.pod_name, pattern.pod_kind)
        for invariant in invariants
        for pattern in (invariant.source, invariant.destination)
        if pattern.pod_name is not None
    )
    return _universe_key(universe), named


def _universe_key(universe: Universe) -> Hashable:
    return (
        tuple((key, tuple(values)) for key, values in universe.pod_labels.values.items()),
        tuple((key, tuple(values)) for key, values in universe.namespace_labels.values.items()),
        tuple(universe.port_names),
        tuple(universe.networks),
    )
