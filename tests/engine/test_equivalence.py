"""`admin_equivalence`: two clusters that differ only in their admin policies, proved to
decide every flow alike or shown a flow (replayed) on which they do not."""

from pathlib import Path

import pytest

from netverify.encoding.solver import SolverLimits
from netverify.engine.equivalence import admin_equivalence
from netverify.loading import load_manifests
from netverify.model import AdminAction, AdminPolicy, Cluster, PodEndpoint, Settings

REPO = Path(__file__).resolve().parents[2]
GUARDS = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dev-guard}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {env: dev}}}
  egress:
  - name: deny-prod
    action: Deny
    to: [{namespaces: {matchLabels: {env: prod}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-qa}
spec:
  priority: 20
  subject: {namespaces: {matchLabels: {env: dev}}}
  egress:
  - action: Allow
    to: [{namespaces: {matchLabels: {env: prod}}}]
"""
LIMITS = SolverLimits(timeout_seconds=30)


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    folder = tmp_path_factory.mktemp("blog")
    for manifest in (REPO / "examples" / "blog").glob("*.yaml"):
        (folder / manifest.name).write_text(manifest.read_text())
    (folder / "guards.yaml").write_text(GUARDS)
    return load_manifests([str(folder)]).cluster


def _with(cluster: Cluster, name: str, **changes: object) -> Cluster:
    """The cluster with one admin policy changed."""
    policies = tuple(
        policy.model_copy(update=changes) if policy.name == name else policy
        for policy in cluster.admin_policies
    )
    return cluster.model_copy(update={"admin_policies": policies})


def _as_v1alpha2(policy: AdminPolicy) -> AdminPolicy:
    return policy.model_copy(
        update={"api_version": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy"}
    )


def test_a_cluster_is_equivalent_to_itself(blog: Cluster) -> None:
    assert admin_equivalence(blog, blog, Settings(), LIMITS).proved


def test_a_changed_action_shows_a_replayed_flow_that_differs(blog: Cluster) -> None:
    guard = next(p for p in blog.admin_policies if p.name == "dev-guard")
    accept = tuple(r.model_copy(update={"action": AdminAction.ACCEPT}) for r in guard.egress)
    # allow-qa (v1alpha1) and dev-guard (v1alpha2) have no defined order: a dev -> prod flow
    # may be allowed or blocked before, and only allowed once dev-guard accepts it too.
    result = admin_equivalence(blog, _with(blog, "dev-guard", egress=accept), Settings(), LIMITS)
    assert not result.proved
    first = result.differences[0]
    assert isinstance(first.flow.source, PodEndpoint)
    assert first.flow.source.namespace.labels["env"] == "dev"
    assert {d.allowed for d in first.before} == {True, False}
    assert {d.allowed for d in first.after} == {True}


def test_giving_an_order_where_the_api_left_it_open_is_a_difference(blog: Cluster) -> None:
    defined = tuple(_as_v1alpha2(p) for p in blog.admin_policies)
    after = blog.model_copy(update={"admin_policies": defined})
    result = admin_equivalence(blog, after, Settings(), LIMITS)
    assert result.differences
    # dev-guard (priority 10) now comes first: dev -> prod is blocked in every order.
    assert all(not d.allowed for found in result.differences for d in found.after)


def test_clusters_with_other_pods_are_refused(blog: Cluster) -> None:
    with pytest.raises(ValueError, match="more than their admin policies"):
        admin_equivalence(blog, blog.model_copy(update={"pods": ()}), Settings(), LIMITS)
