"""How many flows a candidate changes, counted by the semantic diff engine."""

from netverify.encoding.solver import SolverLimits
from netverify.engine.diff import diff
from netverify.model import LoadedCluster, NamespaceScope, PodScope, Settings
from netverify.model.diff import DiffReport


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


def flow_count(report: DiffReport) -> int:
    """Port-range widths x source groups x destination groups, summed over the findings."""
    return sum(
        sum(port.end - port.start + 1 for port in finding.ports)
        * (1 + len(finding.other_sources))
        * (1 + len(finding.other_destinations))
        for finding in report.findings
    )
