"""Query-directed slicing: sliced and whole-cluster encodings give the same verdicts.

A divergence is a soundness bug in the slice (a policy or pod left out that a verdict
depends on). Every sliced counterexample or witness is replayed by the engine through the
reference evaluator on the whole cluster, so a wrong flow shows as an `error` result.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import ip_network
from pathlib import Path
from unittest.mock import patch

import pytest
import z3
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.encoding import solver as solvers
from netverify.encoding.cluster import ClusterEncoding
from netverify.engine import SolverLimits, prove, slicing
from netverify.generate import SPEC_FILE, GeneratorOptions, write_cluster
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Direction,
    EndpointPattern,
    Invariant,
    InvariantKind,
    InvariantResult,
    LabelSelector,
    LoadedCluster,
    LoadedSpec,
    Namespace,
    NamespaceScope,
    NetworkPolicy,
    Pod,
    PodScope,
    Spec,
    Status,
)
from tests.engine.helpers import prove_invariants
from tests.engine.test_differential import DIFFERENTIAL, endpoint_patterns, invariants
from tests.strategies import NAMESPACE_NAMES, POD_SUBNET, clusters
from tests.strategies import settings as settings_strategy


@contextmanager
def _slicing(always: bool, one_shot: bool = True) -> Iterator[None]:
    """Slice every cluster, or none (the threshold decides otherwise); a sliced part's
    first query is checked one-shot first whatever its size, unless not `one_shot`."""
    with (
        patch.object(slicing, "SLICING_THRESHOLD", 0 if always else 10**9),
        patch("netverify.engine.prove.ONE_SHOT_CLASSES", 0 if one_shot else 10**9),
    ):
        yield


@st.composite
def _patterns(draw: st.DrawFn, cluster: Cluster) -> EndpointPattern:
    """The differential test's patterns, now and then narrowed to a namespace by name, a
    pod by name or an address range (which may also match pods)."""
    pattern = draw(endpoint_patterns())
    if pattern.external:
        return pattern
    pod = draw(st.sampled_from(cluster.pods))
    fields = draw(
        st.sampled_from(
            (
                {},
                {"namespace_name": draw(st.sampled_from((*NAMESPACE_NAMES, "new-ns")))},
                {"namespace_name": pod.namespace, "pod_name": pod.name},
                {"ip": draw(st.sampled_from((POD_SUBNET, ip_network("10.0.0.0/26"))))},
            )
        )
    )
    if "pod_name" in fields and pod.name is None:
        return pattern
    return pattern.model_copy(update=fields)


def _same_answer(whole: InvariantResult, sliced: InvariantResult) -> None:
    assert sliced.status is not Status.ERROR, sliced.reason
    assert sliced.status == whole.status, (whole, sliced)
    if whole.status is Status.HOLDS:
        assert sliced.reason == whole.reason
    assert (sliced.counterexample is None) == (whole.counterexample is None)
    assert (sliced.witness is None) == (whole.witness is None)


@DIFFERENTIAL
@given(data=st.data())
def test_sliced_verdicts_match_whole_cluster(data: st.DataObject) -> None:
    cluster = data.draw(
        clusters(
            max_pods=5, max_policies=5, max_admin_policies=data.draw(st.sampled_from((0, 0, 2)))
        )
    )
    semantics = data.draw(settings_strategy())
    found = []
    for _ in range(2):
        invariant = data.draw(invariants(data.draw(st.sampled_from(PodScope))))
        found.append(
            invariant.model_copy(
                update={
                    "name": f"generated-{len(found)}",
                    "source": data.draw(_patterns(cluster)),
                    "destination": data.draw(_patterns(cluster)),
                    "namespaces": data.draw(st.sampled_from(NamespaceScope)),
                }
            )
        )
    with _slicing(always=False):
        whole = prove_invariants(cluster, found, semantics)
    with _slicing(always=True):
        sliced = prove_invariants(cluster, found, semantics)
    for whole_result, sliced_result in zip(whole, sliced, strict=True):
        _same_answer(whole_result, sliced_result)


def test_output_does_not_depend_on_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cluster"
    write_cluster(GeneratorOptions(namespaces=8, pods=120, policies=40, seed=5), folder)
    monkeypatch.chdir(folder)
    outputs = []
    # NOTE: spawned workers import the real ONE_SHOT_CLASSES, so the parent must too.
    with _slicing(always=True, one_shot=False):
        for jobs in ("1", "2"):
            result = CliRunner().invoke(
                app, ["prove", SPEC_FILE, "--format", "json", "--jobs", jobs]
            )
            assert result.exit_code == 1, result.output
            outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert '"status": "error"' not in outputs[0]


def _isolated_prod() -> tuple[Cluster, Invariant]:
    """prod denies all ingress, so no dev pod reaches an existing prod pod (holds, unsat)."""
    namespaces = tuple(
        Namespace(name=name, labels={"env": name, NAMESPACE_NAME_LABEL: name})
        for name in ("dev", "prod")
    )
    cluster = Cluster(
        namespaces=namespaces,
        pods=(Pod(namespace="dev", name="tool"), Pod(namespace="prod", name="db")),
        policies=(
            NetworkPolicy(
                namespace="prod",
                name="deny-all",
                pod_selector=LabelSelector(),
                policy_types=frozenset({Direction.INGRESS}),
            ),
        ),
    )
    invariant = Invariant(
        name="dev-never-reaches-prod",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(namespace_selector=LabelSelector(match_labels={"env": "dev"})),
        destination=EndpointPattern(namespace_selector=LabelSelector(match_labels={"env": "prod"})),
        pods=PodScope.EXISTING,
    )
    return cluster, invariant


def _prove(cluster: Cluster, invariant: Invariant, limits: SolverLimits) -> InvariantResult:
    spec = Spec(file="<test>", manifests=(), invariants=(invariant,))
    (result,) = prove(LoadedCluster(cluster=cluster), LoadedSpec(spec=spec), limits).results
    return result


def test_first_query_of_a_sliced_part_is_checked_alone_first() -> None:
    """On sliced clusters a large part's first query is checked on a solver of its own
    first (the fastest set-up on the 50,000-pod tier while the shared solver is cold); its
    `unsat` and `unknown` stand. The part's later queries and small clusters use the
    shared solver."""
    cluster, invariant = _isolated_prod()
    twin = invariant.model_copy(update={"name": "dev-never-reaches-prod-again"})
    calls = []

    def counted(
        assertions: list[z3.BoolRef], limits: SolverLimits
    ) -> tuple[z3.CheckSatResult, z3.Solver]:
        calls.append(limits)
        return solvers.check_alone(assertions, limits)

    with patch("netverify.engine.invariant_prover.check_alone", counted):
        with _slicing(always=False):
            assert _prove(cluster, invariant, SolverLimits()).status is Status.HOLDS
        assert not calls
        with _slicing(always=True):
            both = prove_invariants(cluster, [invariant, twin])
            assert len(calls) == 1, "the twin shares the part, and its solver is warm"
            limited = _prove(cluster, invariant, SolverLimits(rlimit=1))
    assert [result.status for result in both] == [Status.HOLDS, Status.HOLDS]
    assert len(calls) == 2
    with (
        patch("netverify.engine.invariant_prover.check_alone", counted),
        _slicing(always=True, one_shot=False),
    ):
        _prove(cluster, invariant, SolverLimits())
    assert len(calls) == 2, "a part with fewer classes than ONE_SHOT_CLASSES"
    assert limited.status is Status.UNKNOWN
    assert limited.reason is not None and "resource limit" in limited.reason


def test_solvers_that_disagree_give_unknown_never_holds() -> None:
    """A `sat` from the solver of its own is found again on the shared solver; should that
    one find nothing, the result is unknown."""
    cluster, invariant = _isolated_prod()

    def says_sat(
        assertions: list[z3.BoolRef], limits: SolverLimits
    ) -> tuple[z3.CheckSatResult, z3.Solver]:
        return z3.sat, solvers.check_alone(assertions, limits)[1]

    with patch("netverify.engine.invariant_prover.check_alone", says_sat), _slicing(always=True):
        result = _prove(cluster, invariant, SolverLimits())
    assert result.status is Status.UNKNOWN
    assert result.reason is not None and "disagree" in result.reason


def test_only_the_last_parts_encoding_and_solver_are_kept() -> None:
    """Earlier parts' are freed as before: memory does not grow with the parts."""
    cluster, dev_to_prod = _isolated_prod()
    prod_to_dev = dev_to_prod.model_copy(
        update={
            "name": "prod-never-reaches-dev",
            "source": dev_to_prod.destination,
            "destination": dev_to_prod.source,
        }
    )
    spec = Spec(file="<test>", manifests=(), invariants=(dev_to_prod, prod_to_dev))
    kept: list[object] = []
    with _slicing(always=True):
        prove(
            LoadedCluster(cluster=cluster), LoadedSpec(spec=spec), SolverLimits(), keep=kept.append
        )
    encoding, solver = kept
    assert isinstance(encoding, ClusterEncoding) and isinstance(solver, z3.Solver)
    assert encoding.cluster.policies == ()  # prod -> dev's slice: no policy decides it
