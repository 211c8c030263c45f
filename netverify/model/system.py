"""Workloads every cluster runs though an application's manifests rarely hold them.

A policy in an application repository names them (the usual DNS egress rule selects
`k8s-app: kube-dns` in `kube-system`) while the manifests it is linted with do not define
them; lint does not call such a peer a typo.
"""

from netverify.model.base import Frozen


class SystemWorkload(Frozen):
    """A well-known workload: the namespace it runs in and the labels of its pods."""

    name: str
    namespace: str
    labels: dict[str, str]


SYSTEM_WORKLOADS: tuple[SystemWorkload, ...] = (
    # kubeadm's CoreDNS keeps the kube-dns label, so that the DNS Service's selector holds.
    SystemWorkload(name="kube-dns", namespace="kube-system", labels={"k8s-app": "kube-dns"}),
    SystemWorkload(name="coredns", namespace="kube-system", labels={"k8s-app": "coredns"}),
    SystemWorkload(
        name="coredns", namespace="kube-system", labels={"app.kubernetes.io/name": "coredns"}
    ),
)
