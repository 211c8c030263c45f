"""`netverify migrate`'s conversion: v1alpha1 admin policies written as ClusterNetworkPolicy
YAML that loads back to the same normal form, and refusals where v1alpha2 cannot say it."""

from pathlib import Path

import pytest
import yaml

from netverify.loading import load_manifests
from netverify.loading.migrate import (
    BASELINE_PRIORITY,
    admin_policy_manifest,
    convert_v1alpha1,
    migrated_cluster,
)
from netverify.model import CNP_API_VERSION, AdminPolicy, InputError, SourceSpan, Tier
from tests.loading.helpers import load, write

ANP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 7
  subject:
    pods:
      namespaceSelector: {matchLabels: {env: dev}}
      podSelector: {matchExpressions: [{key: app, operator: Exists}]}
  ingress:
  - name: from-all
    action: Allow
    from: [{namespaces: {}}]
  egress:
  - name: dns
    action: Pass
    to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: dns}}}}]
    ports:
    - portNumber: {protocol: UDP, port: 53}
    - portRange: {protocol: SCTP, start: 100, end: 200}
    - namedPort: metrics
  - action: Deny
    to: [{networks: [10.0.0.0/8]}, {nodes: {matchLabels: {zone: a}}}]
  - action: Allow
    to: [{domainNames: [example.com]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {env: prod}}}
  ingress:
  - action: Deny
    from: [{namespaces: {}}]
"""


def _comparable(policy: AdminPolicy) -> dict[str, object]:
    """What must survive the conversion: everything but the kind, version and priority."""
    return policy.model_dump(exclude={"api_version", "kind", "priority"})


def test_converted_policies_load_back_to_the_same_rules(workdir: Path) -> None:
    loaded = load(workdir, ANP)
    converted = convert_v1alpha1(loaded)
    for one in converted:
        write(workdir, one.yaml_text, f"out/{one.file_name}")
    after = load_manifests(["out"], strict=True).cluster
    assert [p.kind for p in after.admin_policies] == ["ClusterNetworkPolicy"] * 2
    originals = {p.name: p for p in loaded.cluster.admin_policies}
    for policy in after.admin_policies:
        assert _comparable(policy) == _comparable(originals[policy.name])
    by_name = {p.name: p for p in after.admin_policies}
    assert (by_name["guard"].tier, by_name["guard"].priority) == (Tier.ADMIN, 7)
    assert (by_name["default"].tier, by_name["default"].priority) == (
        Tier.BASELINE,
        BASELINE_PRIORITY,
    )


def test_v1alpha1_policies_written_in_their_own_version_load_back_the_same(
    workdir: Path,
) -> None:
    """`fix` writes a new Admin tier policy among v1alpha1 ones as an AdminNetworkPolicy:
    `Allow`, and `ports` with `portNumber`, `portRange` and `namedPort`."""
    loaded = load(workdir, ANP)
    text = yaml.safe_dump_all(
        [admin_policy_manifest(policy) for policy in loaded.cluster.admin_policies]
    )
    assert "Accept" not in text and "protocols" not in text
    again = load(workdir, text, name="again.yaml")
    assert again.cluster.admin_policies == loaded.cluster.admin_policies


def test_ports_become_protocols_in_v1alpha2_spelling(workdir: Path) -> None:
    guard = next(
        one for one in convert_v1alpha1(load(workdir, ANP)) if one.file_name == "guard.yaml"
    )
    manifest = yaml.safe_load(guard.yaml_text)
    assert manifest["apiVersion"] == CNP_API_VERSION
    dns, deny, domains = manifest["spec"]["egress"]
    assert dns["name"] == "dns" and dns["action"] == "Pass"
    assert dns["protocols"] == [
        {"udp": {"destinationPort": {"number": 53}}},
        {"sctp": {"destinationPort": {"range": {"start": 100, "end": 200}}}},
        {"destinationNamedPort": "metrics"},
    ]
    assert "protocols" not in deny and "name" not in deny
    assert deny["to"] == [{"networks": ["10.0.0.0/8"]}, {"nodes": {"matchLabels": {"zone": "a"}}}]
    assert domains == {"action": "Accept", "to": [{"domainNames": ["example.com"]}]}
    assert manifest["spec"]["ingress"][0]["action"] == "Accept"


def test_what_v1alpha2_cannot_say_is_refused_at_its_rule(workdir: Path) -> None:
    peers = "".join(f"    - namespaces: {{matchLabels: {{n: '{i}'}}}}\n" for i in range(26))
    text = (
        "apiVersion: policy.networking.k8s.io/v1alpha1\n"
        "kind: AdminNetworkPolicy\n"
        "metadata: {name: wide}\n"
        "spec:\n"
        "  priority: 1\n"
        "  subject: {namespaces: {}}\n"
        "  ingress:\n"
        "  - action: Deny\n"
        "    from:\n" + peers
    )
    with pytest.raises(InputError) as caught:
        convert_v1alpha1(load(workdir, text))
    (problem,) = caught.value.diagnostics
    assert problem.span == SourceSpan(file="np.yaml", line=8)
    assert problem.message == (
        "no ClusterNetworkPolicy equivalent: ingress[0] has 26 peers (at most 25 in v1alpha2)"
    )


def test_a_name_taken_by_a_cluster_network_policy_is_refused(workdir: Path) -> None:
    taken = """\
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 3
  subject: {namespaces: {}}
"""
    with pytest.raises(InputError) as caught:
        convert_v1alpha1(load(workdir, ANP + taken))
    (problem,) = caught.value.diagnostics
    assert "would be named like cnp/guard" in problem.message


def test_migrated_cluster_keeps_v1alpha2_policies_and_replaces_v1alpha1(workdir: Path) -> None:
    loaded = load(workdir, ANP)
    for one in convert_v1alpha1(loaded):
        write(workdir, one.yaml_text, f"out/{one.file_name}")
    converted = load_manifests(["out"]).cluster
    cluster = migrated_cluster(loaded.cluster, converted)
    assert {p.api_version for p in cluster.admin_policies} == {CNP_API_VERSION}
    assert cluster.pods == loaded.cluster.pods
