"""Which kinds the loader reads, reports or skips: pods and workloads are read elsewhere;
here are network policy kinds netverify does not model and custom resources that may create
pods it does not model."""

from collections.abc import Sequence

from netverify.loading.pods import PROMETHEUS_OPERATOR_GROUP
from netverify.model import Diagnostic, Severity, SkippedObject

NETWORK_POLICY_API_VERSION = "networking.k8s.io/v1"

UNMODELLED_KINDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("security.istio.io", "AuthorizationPolicy"),
        ("security.istio.io", "PeerAuthentication"),
        ("policy.linkerd.io", "AuthorizationPolicy"),
        ("policy.linkerd.io", "ServerAuthorization"),
        ("k8s.ovn.org", "EgressFirewall"),
        ("network.openshift.io", "EgressNetworkPolicy"),
    }
)
"""Policy kinds whose names do not end in `NetworkPolicy`, by (API group, kind)."""

UNMODELLED_GROUPS = frozenset({"policy.networking.k8s.io"})
"""Groups all of whose kinds are network policy (AdminNetworkPolicy and its successors)."""

CLUSTER_SCOPED_PREFIXES = (
    "Global",
    "StagedGlobal",
    "Cluster",
    "CiliumClusterwide",
    "AdminNetwork",
    "BaselineAdminNetwork",
)
"""Unmodelled kinds that live outside namespaces (Calico, Antrea, Cilium, ANP, ...)."""


BUILTIN_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "policy", "extensions"})
"""Kubernetes' own API groups without a dot (the others end in `.k8s.io`)."""

PODLESS_KINDS: frozenset[tuple[str, str]] = frozenset(
    (PROMETHEUS_OPERATOR_GROUP, kind)
    for kind in (
        "ServiceMonitor",
        "PodMonitor",
        "Probe",
        "PrometheusRule",
        "ScrapeConfig",
        "AlertmanagerConfig",
    )
)
"""Custom resources known to create no pods: prometheus-operator's configuration kinds."""


def api_group(api_version: str) -> str:
    """The group of an `apiVersion` (`""` for the core group's `v1`)."""
    group, slash, _ = api_version.rpartition("/")
    return group if slash else ""


def is_unmodelled(api_version: str, kind: str) -> bool:
    """Whether an object is network policy that netverify does not model.

    That is every kind named `*NetworkPolicy` (Calico, Cilium, Antrea, MultiNetworkPolicy,
    ...) except `networking.k8s.io/v1` NetworkPolicy itself, plus the kinds listed above.
    """
    group = api_group(api_version)
    if kind.endswith("NetworkPolicy"):
        return api_version != NETWORK_POLICY_API_VERSION
    return group in UNMODELLED_GROUPS or (group, kind) in UNMODELLED_KINDS


def may_create_pods(group: str, kind: str, data: dict[str, object]) -> bool:
    """Whether a kind netverify does not read is a custom resource that may create pods: one
    with a `spec`, outside Kubernetes' own groups and not known to create none."""
    return (
        "spec" in data
        and group not in BUILTIN_GROUPS
        and not group.endswith(".k8s.io")
        and (group, kind) not in PODLESS_KINDS
    )


def skipped_warning(skipped: Sequence[SkippedObject]) -> Diagnostic | None:
    """One warning naming the kinds of every skipped custom resource; None without any."""
    if not skipped:
        return None
    kinds = sorted({f"{o.kind} ({api_group(o.api_version)})" for o in skipped})
    count = len(skipped)
    return Diagnostic(
        severity=Severity.WARNING,
        message=f"skipped {count} object{'' if count == 1 else 's'} of kinds netverify "
        f"does not turn into pods: {', '.join(kinds)}; pods they create are not modelled",
    )
