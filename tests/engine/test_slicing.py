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
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.engine import slicing
from netverify.generate import SPEC_FILE, GeneratorOptions, write_cluster
from netverify.model import (
    Cluster,
    EndpointPattern,
    InvariantResult,
    NamespaceScope,
    PodScope,
    Status,
)
from tests.engine.helpers import prove_invariants
from tests.engine.test_differential import DIFFERENTIAL, endpoint_patterns, invariants
from tests.strategies import NAMESPACE_NAMES, POD_SUBNET, clusters
from tests.strategies import settings as settings_strategy


@contextmanager
def _slicing(always: bool) -> Iterator[None]:
    """Slice every cluster, or none (the threshold decides otherwise)."""
    with patch.object(slicing, "SLICING_THRESHOLD", 0 if always else 10**9):
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
    with _slicing(always=True):
        for jobs in ("1", "2"):
            result = CliRunner().invoke(
                app, ["prove", SPEC_FILE, "--format", "json", "--jobs", jobs]
            )
            assert result.exit_code == 1, result.output
            outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert '"status": "error"' not in outputs[0]
