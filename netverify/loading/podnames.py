"""Existing pods and workloads by the names users write: `name`, `namespace/name` or
`namespace/Kind/name` (in a spec's `pod:` and on `explain`'s command line alike)."""

from netverify.model import Cluster, Pod


def pods_named(cluster: Cluster, name: str, namespace: str | None, kind: str | None) -> list[Pod]:
    """The pods and workloads called `name`, in `namespace` and of `kind` (in any case) when
    those are given."""
    return [
        pod
        for pod in cluster.pods
        if pod.name == name
        and (namespace is None or pod.namespace == namespace)
        and (kind is None or pod.kind.lower() == kind.lower())
    ]
