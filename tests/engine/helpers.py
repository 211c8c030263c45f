"""Run the engine on model objects directly, without files."""

from concurrent.futures import ProcessPoolExecutor
from ipaddress import ip_network
from typing import Any

import pytest

from netverify.engine import SolverLimits, prove, workers
from netverify.model import (
    Cluster,
    Endpoint,
    EndpointPattern,
    Invariant,
    InvariantResult,
    LoadedCluster,
    LoadedSpec,
    PodEndpoint,
    Settings,
    Spec,
)


def prove_invariants(
    cluster: Cluster,
    invariants: list[Invariant],
    settings: Settings | None = None,
    max_findings: int | None = None,
) -> list[InvariantResult]:
    """`prove`'s results; with `max_findings`, as `prove --all` lists every violation."""
    spec = Spec(
        file="<test>", manifests=(), settings=settings or Settings(), invariants=tuple(invariants)
    )
    loaded = LoadedCluster(cluster=cluster)
    report = prove(loaded, LoadedSpec(spec=spec), SolverLimits(), max_findings=max_findings)
    return list(report.results)


def prove_one(
    cluster: Cluster, invariant: Invariant, settings: Settings | None = None
) -> InvariantResult:
    (result,) = prove_invariants(cluster, [invariant], settings)
    return result


def exact_pattern(endpoint: Endpoint) -> EndpointPattern:
    """A pattern that matches this one endpoint (an existing pod, or one address)."""
    if isinstance(endpoint, PodEndpoint):
        return EndpointPattern(namespace_name=endpoint.pod.namespace, pod_name=endpoint.pod.name)
    return EndpointPattern(ip=ip_network(endpoint.ip))


def recorded_pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The `max_workers` of each pool of worker processes started from now on."""
    pools: list[int] = []

    class Recording(ProcessPoolExecutor):
        def __init__(self, max_workers: int, **options: Any) -> None:
            pools.append(max_workers)
            super().__init__(max_workers, **options)

    monkeypatch.setattr(workers, "ProcessPoolExecutor", Recording)
    return pools
