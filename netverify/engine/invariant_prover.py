"""One invariant on one encoding: its query checked, the answer read, the flow decoded and
replayed through the reference evaluator on the whole cluster. `prove` runs one of these per
invariant, in the push/pop frame of its part's shared solver."""

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.solver import (
    SolverLimits,
    check_alone,
    check_with_fallback,
    unknown_reason,
)
from netverify.engine.readable import is_new_pod, readable_flow
from netverify.engine.replay import ReplayMismatch
from netverify.engine.scope import scope_description
from netverify.engine.tiers import domain_doubt, flow_doubt
from netverify.invariants import matching_flow, query_for
from netverify.model import (
    Cluster,
    Flow,
    Invariant,
    InvariantResult,
    PodScope,
    Settings,
    Status,
    Witness,
)
from netverify.semantics import evaluate
from netverify.semantics.patterns import flow_matches


class InvariantProver:
    """Proves one invariant on an encoding of its part and the part's solver."""

    def __init__(
        self,
        encoding: ClusterEncoding,
        solver: z3.Solver,
        invariant: Invariant,
        limits: SolverLimits,
        alone: bool = False,
        thorough: bool = True,
    ) -> None:
        """`alone`: the query is first checked on a fresh solver of its own (`check_alone`;
        see `_solve`). `prove` asks for it for the first query of a large sliced part
        only (`prove.ONE_SHOT_CLASSES`): the shared solver has not taken in the domain yet then,
        and one check of domain and query together on the general solver is the faster
        way to do that work; the part's later queries find the shared solver warm. The choice
        depends only on the input, so the same input takes the same path everywhere;
        small (unsliced) clusters keep the shared solver only, and their witnesses.
        `thorough` (prove's flows): every readable preference is checked, and a port the
        destination declares preferred (`readable_flow`). Not thorough, a preference the
        model at hand satisfies is kept unchecked and no declared port is sought: for a
        solver whose flows depend on its history anyway (`fix`'s kept encodings), where
        the checks buy nothing, and the declared port's, often unsatisfiable on a search's
        later candidates, took a tenth of a second each on the 5,000-pod tier."""
        self.encoding = encoding
        self.solver = solver
        self.invariant = invariant
        self.limits = limits
        self.alone = alone
        self.thorough = thorough

    @property
    def cluster(self) -> Cluster:
        """The whole cluster (the encoding's may be a slice of it): scope, doubts and
        replay are about it."""
        return self.encoding.whole

    @property
    def settings(self) -> Settings:
        return self.encoding.settings

    def result(self, status: Status, **fields: object) -> InvariantResult:
        return InvariantResult.model_validate(
            {
                "name": self.invariant.name,
                "kind": self.invariant.kind,
                "status": status,
                "scope": scope_description(self.invariant, self.cluster),
                "description": self.invariant.description,
                **fields,
            }
        )

    def prove(self) -> InvariantResult:
        query = query_for(self.encoding, self.invariant)
        outcome, flow = self._solve(query.formula)
        if isinstance(outcome, str):
            return self.result(Status.UNKNOWN, reason=outcome)
        if flow is not None:
            doubt = flow_doubt(self.cluster, self.settings, flow, query.expect_allowed)
            if doubt is not None:
                return self.result(Status.UNKNOWN, reason=doubt)
            witness = self._replay(flow, expect_allowed=query.expect_allowed)
            if query.found_means_violated:
                return self.result(Status.VIOLATED, counterexample=witness)
            return self.result(Status.HOLDS, witness=witness)
        doubt = domain_doubt(self.encoding, self.solver, self.invariant)
        if doubt is not None:
            return self.result(Status.UNKNOWN, reason=doubt)
        if query.found_means_violated:
            return self._holds()
        return self._unreachable()

    def _solve(self, formula: z3.BoolRef) -> tuple[z3.CheckSatResult | str, Flow | None]:
        """Check the formula; on sat, decode the most readable flow that satisfies it (from
        the solver that answered: a hard query may go to the general solver); on unknown,
        the reason instead of the outcome.

        `alone`, the query is first checked on a solver of its own. Its `unsat` or
        `unknown` stands; on `sat` the flow is found again, and decoded, in a frame of the
        shared solver: `readable_flow`'s many small checks are cheap there and slow on a
        solver checked once, and the flow shown is the one the shared solver shows without
        `alone`. Should that solver then find none, the result is unknown, never a verdict."""
        if self.alone:
            outcome, answered = check_alone([self.encoding.domain, formula], self.limits)
            if outcome != z3.sat:
                return self._answer(outcome, answered)
        self.solver.push()
        try:
            self.solver.add(formula)
            outcome, answered = check_with_fallback(self.solver, self.limits)
            if self.alone and outcome == z3.unsat:
                return "solver gave up: two set-ups of Z3 disagree (please report it)", None
            return self._answer(outcome, answered)
        finally:
            self.solver.pop()

    def _answer(
        self, outcome: z3.CheckSatResult, answered: z3.Solver
    ) -> tuple[z3.CheckSatResult | str, Flow | None]:
        if outcome == z3.unknown:
            return unknown_reason(answered, self.limits), None
        if outcome != z3.sat:
            return outcome, None
        prefer_existing = self.invariant.pods is PodScope.ANY
        return outcome, readable_flow(
            answered,
            self.encoding,
            prefer_existing,
            check_satisfied=self.thorough,
            prefer_declared_port=self.thorough,
        )

    def _replay(self, flow: Flow, expect_allowed: bool) -> Witness:
        decision = evaluate(self.cluster, flow, self.settings)
        if decision.allowed != expect_allowed:
            verdict = "allowed" if decision.allowed else "blocked"
            raise ReplayMismatch(
                f"the solver's flow {flow.model_dump_json()} is {verdict} by the reference "
                "evaluator (a soundness bug; please report it)"
            )
        if not flow_matches(self.invariant, self.cluster, flow):
            raise ReplayMismatch(
                f"the solver's flow {flow.model_dump_json()} does not match the invariant "
                "(a soundness bug; please report it)"
            )
        return Witness(
            decision=decision,
            source_is_new_pod=is_new_pod(flow.source),
            destination_is_new_pod=is_new_pod(flow.destination),
        )

    def _holds(self) -> InvariantResult:
        """Holds; say so loudly when it holds only because no flow matches at all (a check
        alone: no flow is shown, so none is decoded; `alone`, on a solver of its own too)."""
        self.solver.push()
        try:
            self.solver.add(matching_flow(self.encoding, self.invariant))
            outcome = self.solver.check()
        finally:
            self.solver.pop()
        if outcome == z3.unsat:
            return self.result(
                Status.HOLDS,
                reason="vacuous: no flow matches this invariant's endpoints and ports",
            )
        return self.result(Status.HOLDS)

    def _unreachable(self) -> InvariantResult:
        """No matching flow is allowed; show one matching flow and why it is blocked."""
        outcome, flow = self._solve(matching_flow(self.encoding, self.invariant))
        if flow is None:
            reason = (
                "no flow matches this invariant's endpoints and ports"
                if outcome == z3.unsat
                else None
            )
            return self.result(Status.VIOLATED, reason=reason)
        return self.result(Status.VIOLATED, counterexample=self._replay(flow, expect_allowed=False))


def proved_one(prover: InvariantProver) -> InvariantResult:
    """The invariant's result; a crash is an internal error, not the end of the run."""
    try:
        return prover.prove()
    except ReplayMismatch as mismatch:
        return prover.result(Status.ERROR, reason=f"internal error: {mismatch}")
    except Exception as crash:
        return prover.result(
            Status.ERROR, reason=f"internal error: {type(crash).__name__}: {crash}"
        )
