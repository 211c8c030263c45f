"""`prove --all` under `namespaces: any`: a pod in a namespace that could be created has no
policy, so the revision that allows nothing (which isolates the namespaces that exist) allows
its flows too. Such violations are not listed and the listing says so; before, the replay
took them for a soundness bug and the invariant came back as an error (Argo CD's install.yaml,
whose repo-server admits every namespace on its metrics port)."""

import json
from itertools import product
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.engine import SolverLimits
from netverify.engine.violations import _allowing_nothing, violation_findings
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Endpoint,
    Flow,
    InvariantKind,
    Namespace,
    NamespaceScope,
    Pod,
    PodEndpoint,
    PodScope,
    Protocol,
    Settings,
)
from netverify.model.diff import EndpointGroup
from netverify.semantics.evaluator import evaluate
from netverify.semantics.patterns import flow_matches
from tests.diff.test_diff_differential import (
    DIFFERENTIAL,
    _covers,
    _endpoints,
    _in_groups_or_new,
)
from tests.engine.test_prove_all import _invariants
from tests.strategies import INTERESTING_PORTS, clusters, labels

CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: repo, namespace: argocd, labels: {app: repo}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 8084}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: repo, namespace: argocd}
spec:
  podSelector: {matchLabels: {app: repo}}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: {}}]
      ports: [{port: 8084}]
"""
SPEC = """\
manifests: [cluster.yaml]
invariants:
  - name: no-other-namespace-reaches-repo
    namespaces: any
    forbid:
      from: {namespace: {kubernetes.io/metadata.name: other}}
      to: {pod: {app: repo}}
"""


def test_violations_in_a_namespace_that_could_be_created_mark_the_listing_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(CLUSTER, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["prove", "spec.yaml", "--all", "--format", "json"])
    assert result.exit_code == 1, result.output
    (found,) = json.loads(result.stdout)["results"]
    assert found["status"] == "violated"
    # The listed finding: the existing repo pod (and new ones like it in argocd) on 8084.
    assert found["findings"]
    assert {
        (port["start"], port["end"]) for finding in found["findings"] for port in finding["ports"]
    } == {(8084, 8084)}
    assert not found["findings_complete"]
    assert found["findings_incomplete_reason"].startswith(
        "pods in a namespace that could be created have no NetworkPolicy of the manifests: "
        "violating flows to or from them, such as other/"
    )


@settings(DIFFERENTIAL, max_examples=25)
@given(data=st.data())
def test_violations_with_pods_of_namespaces_that_could_be_created_are_listed_or_said(
    data: st.DataObject,
) -> None:
    """`namespaces: any` on generated clusters: the search never takes a violating flow for
    a soundness bug; a violating flow between an existing pod and a pod of a namespace that
    could be created (sampled labels) is covered by a finding whose group at that end is new
    pods of a new namespace; one between two pods of such a namespace, which the revision
    allowing nothing allows too (no policy of the manifests can block it), makes the listing
    say it is incomplete."""
    cluster = data.draw(clusters(max_pods=3, max_policies=3))
    invariant = data.draw(_invariants(cluster)).model_copy(
        update={"pods": PodScope.ANY, "namespaces": NamespaceScope.ANY}
    )
    found = violation_findings(cluster, Settings(), invariant, SolverLimits(), 40)
    reason = found.incomplete_reason or ""
    if reason.startswith("stopped at the limit of 40 flow groups"):
        event("stopped at the finding limit")
        return
    assert found.complete or "are not listed" in reason, reason
    name = "zz-new"
    namespace = Namespace(
        name=name,
        labels={**data.draw(labels(), label="namespace labels"), NAMESPACE_NAME_LABEL: name},
        exists=False,
    )
    new = [
        PodEndpoint(namespace=namespace, pod=Pod(namespace=name, name=None, labels=pod_labels))
        for pod_labels in data.draw(st.lists(labels(), min_size=2, max_size=2))
    ]
    existing = [end for end in _endpoints(cluster) if isinstance(end, PodEndpoint)]
    base = _allowing_nothing(cluster)
    forbid = invariant.kind is InvariantKind.FORBID
    pairs = [
        *((a, b) for a in new for b in existing),
        *((b, a) for a in new for b in existing),
        *((a, b) for a in new for b in new if a is not b),
    ]
    for (source, destination), protocol, port in product(pairs, Protocol, INTERESTING_PORTS):
        if source.pod.host_network or destination.pod.host_network:
            continue
        flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
        if not flow_matches(invariant, cluster, flow):
            continue
        if evaluate(cluster, flow).allowed != forbid:
            continue
        if forbid and evaluate(base, flow).allowed:
            assert not found.complete, f"unlisted violation, listing complete: {flow}"
            event("an unlisted violation checked")
            continue
        event("a listed violation checked")
        covering = [
            finding
            for finding in found.findings
            if _covers(finding, flow, _in_groups_or_new_namespace)
        ]
        assert covering, f"violating flow with a new namespace's pod not covered: {flow}"


def _in_groups_or_new_namespace(endpoint: Endpoint, groups: tuple[EndpointGroup, ...]) -> bool:
    """A pod of a namespace that could be created is in a group of new pods of a new
    namespace (whose labels the group does not spell out); any other as the differential
    tests match it."""
    if isinstance(endpoint, PodEndpoint) and not endpoint.namespace.exists:
        return any(group.kind == "new-pod" and group.new_namespace for group in groups)
    return _in_groups_or_new(endpoint, groups)
