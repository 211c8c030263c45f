"""Prove a spec's invariants against a loaded cluster.

One encoding and one solver serve every invariant (each in its own push/pop frame). A model
is decoded into a plain flow at once and replayed through the reference evaluator; if the
two disagree the result is an internal error, never a verdict.
"""

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.decode import decode_flow
from netverify.encoding.terms import protocol_code
from netverify.encoding.universe import ABSENT
from netverify.engine.scope import assumptions, scope_description
from netverify.engine.solver import SolverLimits, make_solver, unknown_reason
from netverify.invariants import matching_flow, query_for
from netverify.model import (
    Cluster,
    Flow,
    Invariant,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    PodEndpoint,
    PodScope,
    Protocol,
    Report,
    Settings,
    Status,
    Witness,
)
from netverify.semantics import evaluate
from netverify.semantics.patterns import flow_matches


class ReplayMismatch(Exception):
    """The encoding and the reference evaluator disagree: a soundness bug."""


def prove(loaded: LoadedCluster, loaded_spec: LoadedSpec, limits: SolverLimits) -> Report:
    """One result per invariant, in spec order; one failing invariant does not stop the rest."""
    spec = loaded_spec.spec
    encoding = ClusterEncoding(loaded.cluster, spec.settings, spec.invariants)
    solver = make_solver(limits)
    solver.add(encoding.domain)
    results = []
    for invariant in spec.invariants:
        prover = _InvariantProver(encoding, solver, invariant, limits)
        try:
            result = prover.prove()
        except ReplayMismatch as mismatch:
            result = prover.result(Status.ERROR, reason=f"internal error: {mismatch}")
        except Exception as crash:
            result = prover.result(
                Status.ERROR, reason=f"internal error: {type(crash).__name__}: {crash}"
            )
        results.append(
            result.model_copy(update={"location": loaded_spec.locations.get(invariant.name)})
        )
    return Report(
        spec_file=spec.file,
        results=tuple(results),
        assumptions=assumptions(loaded.cluster, spec.settings),
        sources=loaded.sources,
    )


class _InvariantProver:
    def __init__(
        self,
        encoding: ClusterEncoding,
        solver: z3.Solver,
        invariant: Invariant,
        limits: SolverLimits,
    ) -> None:
        self.encoding = encoding
        self.solver = solver
        self.invariant = invariant
        self.limits = limits

    @property
    def cluster(self) -> Cluster:
        return self.encoding.cluster

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
        if outcome == z3.unknown:
            return self.result(Status.UNKNOWN, reason=self.unknown_reason)
        if flow is not None:
            witness = self._replay(flow, expect_allowed=query.expect_allowed)
            if query.found_means_violated:
                return self.result(Status.VIOLATED, counterexample=witness)
            return self.result(Status.HOLDS, witness=witness)
        if query.found_means_violated:
            return self._holds()
        return self._unreachable()

    @property
    def unknown_reason(self) -> str:
        return unknown_reason(self.solver, self.limits)

    def _solve(self, formula: z3.BoolRef) -> tuple[z3.CheckSatResult, Flow | None]:
        """Check the formula; on sat, decode the most readable flow that satisfies it."""
        frames = 1
        self.solver.push()
        try:
            self.solver.add(formula)
            outcome = self.solver.check()
            if outcome != z3.sat:
                return outcome, None
            flow = decode_flow(self.encoding, self.solver.model())
            for preference in self._preferences():
                if self._still_satisfiable(preference):
                    frames += 1
                    flow = decode_flow(self.encoding, self.solver.model())
            for label in self._labels_of_new_pods(flow):
                if self._still_satisfiable(label == ABSENT):
                    frames += 1
                    flow = decode_flow(self.encoding, self.solver.model())
            return outcome, flow
        finally:
            self.solver.pop(frames)

    def _still_satisfiable(self, preference: z3.BoolRef) -> bool:
        """Add the preference in a new frame if the formula stays satisfiable with it."""
        self.solver.push()
        self.solver.add(preference)
        if self.solver.check() == z3.sat:
            return True
        self.solver.pop()
        return False

    def _labels_of_new_pods(self, flow: Flow) -> list[z3.ArithRef]:
        """The label variables of the labels a new pod of the flow carries (to drop those
        that do not matter, one at a time)."""
        symbolic = (self.encoding.flow.source, self.encoding.flow.destination)
        return [
            terms.pod_labels[key]
            for endpoint, terms in zip((flow.source, flow.destination), symbolic, strict=True)
            if _is_new_pod(endpoint) and isinstance(endpoint, PodEndpoint)
            for key in sorted(endpoint.pod.labels)
        ]

    def _preferences(self) -> list[z3.BoolRef]:
        """What makes a witness easier to read, tried greedily in this order: existing pods
        (by name) over pods that could exist, TCP, new pods without labels, or at least
        without invented label values."""
        encoding = self.encoding
        ends = (encoding.flow.source, encoding.flow.destination)
        preferences = []
        if self.invariant.pods is PodScope.ANY:
            preferences.append(z3.And([encoding.existing_pod(end) for end in ends]))
            preferences += [encoding.existing_pod(end) for end in ends]
        preferences.append(encoding.flow.protocol == protocol_code(Protocol.TCP))
        new_pod_labels = [
            (end, key, label) for end in ends for key, label in end.pod_labels.items()
        ]
        preferences.append(
            z3.And(
                [
                    z3.Implies(end.pod_class == -1, label == ABSENT)
                    for end, _, label in new_pod_labels
                ]
            )
        )
        other = encoding.universe.pod_labels.other
        preferences.append(
            z3.And(
                [
                    z3.Implies(end.pod_class == -1, label != other(key))
                    for end, key, label in new_pod_labels
                ]
            )
        )
        return preferences

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
            source_is_new_pod=_is_new_pod(flow.source),
            destination_is_new_pod=_is_new_pod(flow.destination),
        )

    def _holds(self) -> InvariantResult:
        """Holds; say so loudly when it holds only because no flow matches at all."""
        outcome, _ = self._solve(matching_flow(self.encoding, self.invariant))
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


def _is_new_pod(endpoint: object) -> bool:
    return isinstance(endpoint, PodEndpoint) and endpoint.pod.name is None
