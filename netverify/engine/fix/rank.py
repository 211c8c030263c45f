"""How many flows a candidate changes, counted by the semantic diff engine."""

from netverify.encoding.solver import SolverLimits
from netverify.engine.diff import diff
from netverify.model import Cluster, LoadedCluster, NamespaceScope, PodScope, Settings
from netverify.model.diff import DiffFinding, DiffReport, EndpointGroup


def changed_flows(
    base: LoadedCluster,
    head: LoadedCluster,
    settings: Settings,
    limits: SolverLimits,
) -> DiffReport:
    """The diff between the cluster and the repaired one over the existing pods: exact and
    quick, where pods that could exist multiply findings by their named ports and labels
    without making one fix more or less narrow than another. Admin tiers count: a flow an
    Admin Accept or Deny decides does not change whatever the NetworkPolicies say."""
    return diff(
        base,
        head,
        settings,
        PodScope.EXISTING,
        NamespaceScope.EXISTING,
        limits,
    )


def flow_count(report: DiffReport, cluster: Cluster) -> int:
    """The changed flows between existing pods: per finding, protocols x port-range widths
    x (source pod, destination pod) pairs of its groups, a bare Pod's traffic to itself
    aside (always allowed, so never changed, though a group may be both source and
    destination)."""
    bare = {(pod.namespace, pod.name) for pod in cluster.pods if pod.kind == "Pod"}
    bare -= {(pod.namespace, pod.name) for pod in cluster.pods if pod.kind != "Pod"}
    return sum(_pod_pairs(finding, bare) * _ports(finding) for finding in report.findings)


def external_flow_count(report: DiffReport) -> int:
    """The changed flows between existing pods and addresses outside the cluster, the
    addresses taken as one (there are too many to count, and a fix that changes them for
    one pod is narrower than one that changes them for ten): protocols x port-range widths
    x pods, over the findings with external addresses at one end."""
    return sum(
        _ports(finding) * len(_pods(pods))
        for finding in report.findings
        for ends, pods in (
            (_sources(finding), _destinations(finding)),
            (_destinations(finding), _sources(finding)),
        )
        if any(group.kind == "external" for group in ends)
    )


def _pod_pairs(finding: DiffFinding, bare: set[tuple[str, str | None]]) -> int:
    sources, destinations = _pods(_sources(finding)), _pods(_destinations(finding))
    return len(sources) * len(destinations) - len(sources & destinations & bare)


def _sources(finding: DiffFinding) -> tuple[EndpointGroup, ...]:
    return (finding.source, *finding.other_sources)


def _destinations(finding: DiffFinding) -> tuple[EndpointGroup, ...]:
    return (finding.destination, *finding.other_destinations)


def _pods(groups: tuple[EndpointGroup, ...]) -> set[tuple[str, str | None]]:
    return {
        (group.namespace or "", pod)
        for group in groups
        if group.kind == "pods"
        for pod in group.pods
    }


def _ports(finding: DiffFinding) -> int:
    return len(finding.protocols) * sum(port.end - port.start + 1 for port in finding.ports)
