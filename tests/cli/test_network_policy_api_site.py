"""Reduced reproductions from the network-policy-api website and NPEPs (user stories,
NPEP-133's FQDN examples, the "Getting started with ANP" blog post): what their manifests,
as written there, make netverify say."""

from pathlib import Path

import pytest

from .test_cli import EXIT_HOLDS, run

NPEP_133_V1ALPHA1_CNP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: ClusterNetworkPolicy
metadata:
  name: allow-my-service-egress
spec:
  priority: 55
  tier: Admin
  subject:
    namespaces: {}
  egress:
  - name: "allow-to-my-service"
    action: "Allow"
    to:
    - domainNames: ["my-service.com"]
"""
"""NPEP-133's example, in an apiVersion ClusterNetworkPolicy never had."""


def test_validate_names_an_unmodelled_cluster_scoped_object_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster-scoped object has no namespace to print before a slash; its apiVersion
    says why it is not modelled."""
    monkeypatch.chdir(tmp_path)
    Path("cnp.yaml").write_text(NPEP_133_V1ALPHA1_CNP)
    result = run("validate", "cnp.yaml")
    assert result.exit_code == EXIT_HOLDS, result.output
    expected = (
        "not modelled (verdicts they may decide are unknown): ClusterNetworkPolicy "
        "allow-my-service-egress (policy.networking.k8s.io/v1alpha1)\n"
    )
    assert expected in result.stdout
