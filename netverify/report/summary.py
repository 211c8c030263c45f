"""`validate`'s summary of a loaded cluster."""

from netverify.model import Direction, LoadedCluster, PodEndpoint
from netverify.semantics import policy_selects


def format_summary(loaded: LoadedCluster) -> str:
    cluster = loaded.cluster
    implied = [ns.name for ns in cluster.namespaces if not ns.defined]
    workloads = sum(1 for pod in cluster.pods if pod.kind != "Pod")
    lines = [
        f"namespaces: {len(cluster.namespaces)}"
        + (f" ({len(implied)} used but not defined: {', '.join(implied)})" if implied else ""),
        f"pods: {len(cluster.pods) - workloads}, workloads: {workloads}"
        " (each workload counts as one pod with its template's labels and ports)",
        f"network policies: {len(cluster.policies)}",
    ]
    for direction in Direction:
        isolated = []
        for pod in cluster.pods:
            namespace = cluster.namespace(pod.namespace)
            assert namespace is not None, "every pod's namespace is loaded or implied"
            endpoint = PodEndpoint(namespace=namespace, pod=pod)
            if any(
                direction in policy.policy_types and policy_selects(policy, endpoint)
                for policy in cluster.policies
            ):
                isolated.append(f"{pod.namespace}/{pod.name}")
        lines.append(
            f"isolated for {direction.value.lower()}: {len(isolated)}"
            + (f" ({', '.join(isolated)})" if isolated else "")
        )
    host_network = [f"{pod.namespace}/{pod.name}" for pod in cluster.pods if pod.host_network]
    if host_network:
        lines.append(
            "hostNetwork pods (outside NetworkPolicy; their traffic is the node's): "
            + ", ".join(host_network)
        )
    if cluster.unmodelled:
        lines.append(
            "not modelled (verdicts do not account for them): "
            + ", ".join(f"{o.kind} {o.namespace or ''}/{o.name}" for o in cluster.unmodelled)
        )
    return "\n".join(lines) + "\n"
