"""When an admin policy verdict cannot be trusted as found: the doubts prove turns into
`unknown` instead of `holds` or `violated`.

Three things the reference evaluator cannot settle for one flow: the order of a tier's
policies where the API leaves it open (equal priorities, or policies of both API versions),
the addresses a `domainNames` peer resolves to, and the node of a host-network pod that
netverify cannot place (a `nodes` peer may or may not match it).
"""

from ipaddress import ip_network

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.invariants import matching_flow
from netverify.model import (
    AdminPeer,
    AdminPolicy,
    Cluster,
    Direction,
    Endpoint,
    Flow,
    Invariant,
    InvariantKind,
    LabelSelector,
    PodEndpoint,
    Settings,
    short_name,
)
from netverify.semantics.admin import has_nodes_peers, node_is_unknown
from netverify.semantics.evaluator import open_choices, possible_verdicts

ANY_DESTINATION = (
    AdminPeer(networks=(ip_network("0.0.0.0/0"), ip_network("::/0"))),
    AdminPeer(namespaces=LabelSelector()),
    AdminPeer(nodes=LabelSelector()),
)
"""What a `domainNames` peer may match, for all netverify knows: every address, and every
pod, its address known or not (host-network pods through their node).

NOTE: no name can be ruled out. NPEP-133 matches pods by their DNS records
(`<address>.<namespace>.pod.<cluster domain>`) and by a headless Service's
(`<service>.<namespace>.svc.<cluster domain>`, its pods' addresses); the cluster domain is
the kubelet's setting, not always `cluster.local`; and any other zone may publish a pod's
or a node's address (https://github.com/kubernetes-sigs/network-policy-api,
npeps/npep-133-fqdn-egress-selector.md, "Expected Behavior")."""


def _endpoint_name(endpoint: Endpoint) -> str:
    if isinstance(endpoint, PodEndpoint):
        return f"{endpoint.namespace.name}/{endpoint.pod.name or '(a new pod)'}"
    return str(endpoint.ip)


def flow_name(flow: Flow) -> str:
    """The flow on one line, for a message."""
    return (
        f"{_endpoint_name(flow.source)} -> {_endpoint_name(flow.destination)} "
        f"{flow.protocol.value}/{flow.port}"
    )


def domain_policies(cluster: Cluster) -> list[AdminPolicy]:
    """The admin policies with a `domainNames` peer."""
    return [
        policy
        for policy in cluster.admin_policies
        if any(peer.domain_names for rule in policy.egress for peer in rule.peers)
    ]


def _domains_as_any_destination(cluster: Cluster) -> Cluster:
    """The cluster with every `domainNames` peer matching every destination
    (`ANY_DESTINATION`)."""
    policies = []
    for policy in cluster.admin_policies:
        egress = tuple(
            rule.model_copy(
                update={
                    "peers": tuple(
                        peer
                        for written in rule.peers
                        for peer in (ANY_DESTINATION if written.domain_names else (written,))
                    )
                }
            )
            for rule in policy.egress
        )
        policies.append(policy.model_copy(update={"egress": egress}))
    return cluster.model_copy(update={"admin_policies": tuple(policies)})


def flow_doubt(
    cluster: Cluster, settings: Settings, flow: Flow, expect_allowed: bool
) -> str | None:
    """Why the solver's flow is no definite answer, or None when it is one."""
    verdicts = possible_verdicts(cluster, flow, settings)
    if len(verdicts) > 1:
        names = sorted({short_name(m.rule.policy) for o in open_choices(cluster, flow) for m in o})
        return (
            f"the verdict depends on the order of {' and '.join(names)}, which the API leaves "
            f"open (equal priorities, or both API versions in one tier): {flow_name(flow)} is "
            "allowed in one order and blocked in another"
        )
    if has_nodes_peers(cluster, selective=True) and node_is_unknown(cluster, flow.destination):
        return (
            f"the verdict depends on which node host-network pod "
            f"{_endpoint_name(flow.destination)} runs on (no loaded Node is its `nodeName` or "
            f"has its address), which a `nodes` peer may or may not select: {flow_name(flow)}"
        )
    domains = domain_policies(cluster)
    if (
        not expect_allowed
        and domains
        and True in possible_verdicts(_domains_as_any_destination(cluster), flow, settings)
    ):
        names = sorted(short_name(p.ref) for p in domains)
        pods = (
            " (a name may resolve to a pod's address, whether or not the manifests give it: "
            "its DNS record `*.pod.<cluster domain>`, a headless Service's "
            "`*.svc.<cluster domain>`)"
            if isinstance(flow.destination, PodEndpoint)
            else ""
        )
        return (
            f"{flow_name(flow)} is blocked unless its destination is an address of a "
            f"`domainNames` peer of {' and '.join(names)}, which netverify cannot resolve{pods}"
        )
    return None


def domain_doubt(encoding: ClusterEncoding, solver: z3.Solver, invariant: Invariant) -> str | None:
    """Why a `forbid` that holds, or a `reachable` with no allowed flow, is no proof: some
    `domainNames` Accept rule (the only action they can have) may allow a matching flow,
    as its policy can select the flow's source. (A `require` that holds stays proved:
    such a rule can only allow more.)"""
    if invariant.kind is InvariantKind.REQUIRE or encoding.admin is None:
        return None
    for policy in domain_policies(encoding.cluster):
        solver.push()
        try:
            solver.add(matching_flow(encoding, invariant))
            solver.add(encoding.admin.subject_selects(policy.subject, Direction.EGRESS))
            if solver.check() != z3.unsat:
                return (
                    f"{short_name(policy.ref)} accepts egress to `domainNames` whose addresses "
                    "netverify cannot resolve, from pods this invariant is about"
                )
        finally:
            solver.pop()
    return None
