"""What a verdict quantified over and what it took for granted, in words."""

from netverify.model import (
    ANP_API_VERSION,
    AdminPolicy,
    Cluster,
    Diagnostic,
    Invariant,
    LoadedCluster,
    NamespaceScope,
    Pod,
    PodEndpoint,
    PodScope,
    Settings,
    Severity,
    Tier,
)
from netverify.semantics.patterns import endpoint_matches


def _may_be_an_end(invariant: Invariant, cluster: Cluster, pod: Pod) -> bool:
    """Whether the pod, at one of its addresses or without one, matches the invariant's
    source or destination pattern."""
    namespace = cluster.namespace(pod.namespace)
    assert namespace is not None, "every pod's namespace is loaded or implied"
    ends = [PodEndpoint(namespace=namespace, pod=pod, ip=ip) for ip in pod.ips or (None,)]
    return any(
        endpoint_matches(pattern, end)
        for pattern in (invariant.source, invariant.destination)
        for end in ends
    )


def unenforced(cluster: Cluster, settings: Settings) -> list[AdminPolicy]:
    """The AdminNetworkPolicies the network plugin does not enforce: those of a priority
    above `settings.admin_priority_max` (OVN-Kubernetes refuses them)."""
    limit = settings.admin_priority_max
    if limit is None:
        return []
    return [
        policy
        for policy in cluster.admin_policies
        if policy.api_version == ANP_API_VERSION
        and policy.tier is Tier.ADMIN
        and policy.priority is not None
        and policy.priority > limit
    ]


def enforced(loaded: LoadedCluster, settings: Settings) -> LoadedCluster:
    """The cluster as the network plugin enforces it: without the AdminNetworkPolicies it
    does not enforce (`unenforced`), each named in a warning. Every command decides flows
    on it, so that none contradicts another under one profile."""
    left_out = unenforced(loaded.cluster, settings)
    if not left_out:
        return loaded
    warnings = tuple(
        Diagnostic(
            severity=Severity.WARNING,
            message=(
                f"priority {policy.priority} is above {settings.admin_priority_max}, the "
                "highest the CNI profile's network plugin enforces (its controller refuses "
                "the policy): left out of every verdict"
            ),
            span=loaded.sources.of_object(policy.ref),
            object=f"{policy.kind} {policy.name}",
            field="spec.priority",
        )
        for policy in left_out
    )
    kept = tuple(policy for policy in loaded.cluster.admin_policies if policy not in left_out)
    cluster = loaded.cluster.model_copy(
        update={"admin_policies": kept, "unenforced": tuple(p.ref for p in left_out)}
    )
    return loaded.model_copy(
        update={
            "cluster": cluster,
            "warnings": (*loaded.warnings, *warnings),
        }
    )


def _has_networks_peers(cluster: Cluster) -> bool:
    """Whether an admin policy rule has a `networks` peer (it matches pod addresses too)."""
    return any(
        peer.networks
        for policy in cluster.admin_policies
        for rule in (*policy.ingress, *policy.egress)
        for peer in rule.peers
    )


def plural(count: int, noun: str) -> str:
    """`1 pod`, `2 pods`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def scope_description(invariant: Invariant, cluster: Cluster) -> str:
    """The pods quantified over, and external addresses when an end can be one."""
    namespaces = plural(len(cluster.namespaces), "existing namespace")
    if invariant.pods is PodScope.ANY:
        where = (
            f"the {namespaces} and in any namespace that could be created"
            if invariant.namespaces is NamespaceScope.ANY
            else f"the {namespaces}"
        )
        pods = f"every pod that could run in {where}"
    else:
        pods = f"the {plural(len(cluster.pods), 'existing pod')}"
        workloads = sum(1 for pod in cluster.pods if pod.kind != "Pod")
        if workloads:
            pods += f" ({plural(workloads, 'workload')} counted as one pod each)"
    can_be_external = not (invariant.source.pods_only and invariant.destination.pods_only)
    return f"{pods}, and external addresses" if can_be_external else pods


def assumptions(cluster: Cluster, settings: Settings) -> tuple[str, ...]:
    """Everything a reader must know to trust a verdict as far as it goes."""
    notes = []
    if settings.ip_block_matches_pods:
        notes.append("ipBlock peers match pod addresses (upstream conformance profile)")
    else:
        notes.append("ipBlock peers never match pod addresses (Cilium-like profile)")
    without_ip = sum(1 for pod in cluster.pods if not pod.ips)
    if settings.pod_cidrs:
        cidrs = ", ".join(str(cidr) for cidr in settings.pod_cidrs)
        notes.append(
            f"pods without a known address have one in the pod CIDRs {cidrs} (hostNetwork "
            "pods: their node's, outside them, matching no ipBlock or networks peer)"
            if any(pod.host_network and not pod.ips for pod in cluster.pods)
            else f"pods without a known address have one in the pod CIDRs {cidrs}"
        )
    elif without_ip:
        blocks = "ipBlock or networks peer" if _has_networks_peers(cluster) else "ipBlock"
        notes.append(
            f"{plural(without_ip, 'existing pod')} and every pod that could exist have no "
            f"known address and match no {blocks} (set podCIDRs to change this)"
        )
    notes.append("pods that could exist do not use hostNetwork")
    host_network = [pod for pod in cluster.pods if pod.host_network]
    if cluster.admin_policies:
        notes.append(
            "admin policy tiers (ClusterNetworkPolicy, AdminNetworkPolicy, "
            "BaselineAdminNetworkPolicy) are evaluated as the policy.networking.k8s.io API "
            "defines them; they also apply to node-local traffic"
        )
    if cluster.unenforced:
        count = len(cluster.unenforced)
        which = "1 AdminNetworkPolicy" if count == 1 else f"{count} AdminNetworkPolicies"
        names = ", ".join(ref.name for ref in cluster.unenforced)
        notes.append(
            f"{which} of priority above {settings.admin_priority_max} "
            f"{'is' if count == 1 else 'are'} left out, as the network plugin does not "
            f"enforce {'it' if count == 1 else 'them'} (CNI profile): {names}"
        )
    if host_network:
        names = ", ".join(f"{pod.namespace}/{pod.name}" for pod in host_network)
        notes.append(
            f"hostNetwork pods are outside NetworkPolicy and their traffic is the node's: {names}"
        )
        notes.append(
            "traffic between a node (its hostNetwork pods) and a pod on that node is always "
            "allowed, both ways; pods may share a node unless spec.nodeName says otherwise"
        )
    implied = [ns.name for ns in cluster.namespaces if not ns.defined]
    if implied:
        notes.append(
            "namespaces used but not defined exist with only their name label: "
            + ", ".join(implied)
        )
    if cluster.unmodelled:
        kinds = ", ".join(sorted({f"{o.kind} ({o.api_version})" for o in cluster.unmodelled}))
        notes.append(
            f"IGNORED: {plural(len(cluster.unmodelled), 'object')} of kinds netverify does "
            f"not model yet: {kinds}; verdicts they may decide are unknown"
        )
    notes.append("traffic between two external addresses is not considered")
    return tuple(notes)


def strict_caveats(cluster: Cluster, settings: Settings, invariant: Invariant) -> tuple[str, ...]:
    """What the invariant's verdict takes on assumption rather than from the API's letter;
    under `--strict` each turns a would-be `holds` into `unknown`."""
    caveats = []
    host_network = [
        f"{pod.namespace}/{pod.name}"
        for pod in cluster.pods
        if pod.host_network and _may_be_an_end(invariant, cluster, pod)
    ]
    if host_network:
        caveats.append(
            "hostNetwork pods can be an end of this invariant's flows, and how NetworkPolicy "
            "treats them beyond node-local traffic is up to the network plugin: "
            + ", ".join(host_network)
        )
    has_ip_blocks = _has_networks_peers(cluster) or any(
        peer.ip_block is not None
        for policy in cluster.policies
        for rule in (*policy.ingress, *policy.egress)
        for peer in rule.peers
    )
    if (
        has_ip_blocks
        and settings.ip_block_matches_pods
        and not settings.pod_cidrs
        and any(not pod.ips for pod in cluster.pods)
    ):
        blocks = "ipBlock or networks peers" if _has_networks_peers(cluster) else "ipBlock"
        caveats.append(
            f"policies use {blocks}, and pods without a known address are assumed to match "
            "none (set podCIDRs in the spec's settings)"
        )
    return tuple(caveats)
