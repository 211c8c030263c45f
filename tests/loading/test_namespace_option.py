"""`-n/--namespace`, as `kubectl apply -n` reads it: the namespace of objects that have
none, and the only one an object may name."""

from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.model import InputError, Severity
from tests.loading.helpers import error, write

DEFAULT_DENY = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: default-deny
spec:
  podSelector: {}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
"""


def test_objects_without_a_namespace_land_in_the_given_one(workdir: Path) -> None:
    write(workdir, DEFAULT_DENY)
    cluster = load_manifests(["np.yaml"], namespace="stars").cluster
    assert [policy.namespace for policy in cluster.policies] == ["stars"]
    assert [pod.namespace for pod in cluster.pods] == ["stars"]
    assert [namespace.name for namespace in cluster.namespaces] == ["stars"]
    assert load_manifests(["np.yaml"]).cluster.policies[0].namespace == "default"


def test_an_object_in_another_namespace_is_an_error(workdir: Path) -> None:
    write(
        workdir,
        DEFAULT_DENY.replace("  name: default-deny\n", "  name: default-deny\n  namespace: a\n"),
    )
    with pytest.raises(InputError) as caught:
        load_manifests(["np.yaml"], namespace="b")
    assert caught.value.diagnostics == [
        error(
            'the namespace from the provided object "a" does not match the namespace "b". '
            "You must pass '--namespace=a' to perform this operation.",
            5,
            "metadata.namespace",
            obj="NetworkPolicy",
        )
    ]
    assert load_manifests(["np.yaml"], namespace="a").cluster.policies[0].namespace == "a"


def test_an_invalid_namespace_option_is_an_error(workdir: Path) -> None:
    write(workdir, DEFAULT_DENY)
    with pytest.raises(InputError) as caught:
        load_manifests(["np.yaml"], namespace="Not_Valid")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.severity is Severity.ERROR and diagnostic.span is None
    assert diagnostic.message.startswith("--namespace Not_Valid: ")
