"""How many flows a candidate changes, counted by the semantic diff engine, and a bound
below that count from bit-set verdicts alone."""

from netverify.encoding.solver import SolverLimits, collector_paused
from netverify.engine.bitsets import ClassVerdicts
from netverify.engine.diff import diff
from netverify.engine.diff.classes import ClassChanges
from netverify.model import Cluster, LoadedCluster, NamespaceScope, PodScope, Settings
from netverify.model.diff import Change, DiffFinding, DiffReport, EndpointGroup


def changed_flows(
    base: LoadedCluster,
    head: LoadedCluster,
    settings: Settings,
    limits: SolverLimits,
) -> DiffReport:
    """The diff between the cluster and the repaired one over the existing pods: exact and
    quick, where pods that could exist multiply findings by their named ports and labels
    without making one fix more or less narrow than another. Admin tiers count: a flow an
    Admin Accept or Deny decides does not change whatever the NetworkPolicies say.

    The collector is paused (`collector_paused`): the diff's flows, and so a count the
    diff's finding limit cuts short, are then the same whatever `fix` did before (on the
    10k-pod tier, proving the candidates differently once moved a count from 488 to 483).
    """
    with collector_paused():
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
    destination).

    A flow is counted once whatever its placement: a pair of a hostNetwork pod and a pod
    that may share its node can change both across nodes and on the node. The findings'
    node-local parts are disjoint, and so are their parts across nodes (a finding has one
    part, or both where it is `also_node_local`): each flow is in at most one of each, so
    the parts' counts less what each node-local part shares with each part across nodes
    count it once."""
    bare = {(pod.namespace, pod.name) for pod in cluster.pods if pod.kind == "Pod"}
    bare -= {(pod.namespace, pod.name) for pod in cluster.pods if pod.kind != "Pod"}
    node_local = [f for f in report.findings if f.head.node_local or f.also_node_local]
    across = [f for f in report.findings if not f.head.node_local]
    parts = sum(_pod_pairs(finding, bare) * _ports(finding) for finding in node_local + across)
    return parts - sum(
        _shared_flows(first, second, bare) for first in node_local for second in across
    )


def _shared_flows(
    first: DiffFinding, second: DiffFinding, bare: set[tuple[str, str | None]]
) -> int:
    """The flows between existing pods two findings both cover."""
    protocols = len(set(first.protocols) & set(second.protocols))
    ports = sum(
        max(0, min(mine.end, theirs.end) - max(mine.start, theirs.start) + 1)
        for mine in first.ports
        for theirs in second.ports
    )
    if not protocols or not ports:
        return 0
    sources = _pods(_sources(first)) & _pods(_sources(second))
    destinations = _pods(_destinations(first)) & _pods(_destinations(second))
    pairs = len(sources) * len(destinations) - len(sources & destinations & bare)
    return protocols * ports * pairs


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


def flow_count_at_least(base: Cluster, head: Cluster, settings: Settings) -> int:
    """At most the `flow_count` of a complete diff of two revisions that differ only in
    their NetworkPolicies, from both revisions' bit-set verdicts, without the diff's
    products, replays and solver: the changed flows between existing pods the bit sets
    answer exactly (no hostNetwork pod, one address at most), a pod's traffic to itself
    aside. A fix whose bound exceeds the count of three others cannot be shown, so its
    diff need not be run. 0 where the bit sets do not decide: admin tiers, or two pods
    the diff's count would take as one (the same namespace and name)."""
    if base.admin_policies or head.admin_policies:
        return 0
    counted = [pod for pod in base.pods if not pod.host_network and len(pod.ips) <= 1]
    names = {(pod.namespace, pod.name or "") for pod in counted}
    if len(names) != len(counted):
        return 0
    both = base.model_copy(update={"policies": (*base.policies, *head.policies)})
    groups = [c.pods for c in ClassVerdicts(both, settings).classes]
    """Classes that neither revision's policies tell apart: the verdicts of each hold for
    every pod of a class."""
    weights = [sum(not p.host_network and len(p.ips) <= 1 for p in pods) for pods in groups]
    bare = [
        sum(not p.host_network and len(p.ips) <= 1 and p.kind == "Pod" for p in pods)
        for pods in groups
    ]
    # A changed flow has an end selected by a changed policy; an unchanged one is the same
    # object in both revisions (or taken as changed, which only widens the focus).
    kept = {id(policy) for policy in base.policies} & {id(policy) for policy in head.policies}
    changed_namespaces = {
        policy.namespace for policy in (*base.policies, *head.policies) if id(policy) not in kept
    }
    changes = ClassChanges(
        head=ClassVerdicts(head, settings, groups),
        base=ClassVerdicts(base, settings, groups),
        units=sum(1 << index for index, weight in enumerate(weights) if weight),
        single=0,
        focus=sum(
            1 << index
            for index, pods in enumerate(groups)
            if pods[0].namespace in changed_namespaces
        ),
    )
    by_weight: dict[int, int] = {}
    for index, weight in enumerate(weights):
        by_weight[weight] = by_weight.get(weight, 0) | 1 << index
    total = 0
    for change in Change:
        for probe, rows in zip(changes.probes, changes.changed[change], strict=True):
            width = sum(end - start + 1 for start, end in probe.segments)
            for source, destinations in rows.items():
                pairs = weights[source] * sum(
                    weight * (destinations & mask).bit_count() for weight, mask in by_weight.items()
                )
                if (destinations >> source) & 1:
                    pairs -= bare[source]
                total += width * pairs
    return total
