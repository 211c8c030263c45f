"""Small builders for the hand-written clusters and flows of the semantics tests."""

from collections.abc import Iterable, Mapping, Sequence
from ipaddress import ip_address, ip_network

from netverify.model import (
    CNP_API_VERSION,
    NAMESPACE_NAME_LABEL,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    ContainerPort,
    Direction,
    Endpoint,
    ExternalEndpoint,
    Flow,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    ObjectRef,
    Pod,
    PodEndpoint,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
    RuleRef,
    Settings,
    Tier,
)
from netverify.semantics import FlowDecision, evaluate

EVERYTHING = LabelSelector()
"""The empty selector: every pod (as a podSelector) or every namespace (as a namespaceSelector)."""
ALL_NAMESPACES = AdminPeer(namespaces=EVERYTHING)
"""An admin peer: every (non-host-network) pod."""
EVERY_POD = AdminSubject(namespaces=EVERYTHING)


def selector(**match_labels: str) -> LabelSelector:
    """A selector with only `matchLabels`."""
    return LabelSelector(match_labels=match_labels)


def namespace(name: str, labels: Mapping[str, str] | None = None) -> Namespace:
    """A namespace with `labels` and the `kubernetes.io/metadata.name` label of the API server."""
    return Namespace(name=name, labels={**(labels or {}), NAMESPACE_NAME_LABEL: name})


def pod(
    namespace: str,
    name: str | None,
    labels: Mapping[str, str] | None = None,
    *,
    ip: str | None = None,
    ports: Sequence[ContainerPort] = (),
    host_network: bool = False,
    node: str | None = None,
) -> Pod:
    """A pod with at most one known address, bound to `node` if given."""
    return Pod(
        namespace=namespace,
        name=name,
        labels=dict(labels or {}),
        ips=(ip_address(ip),) if ip is not None else (),
        ports=tuple(ports),
        host_network=host_network,
        node_name=node,
    )


def policy(
    namespace: str,
    name: str,
    pod_selector: LabelSelector = EVERYTHING,
    *,
    ingress: Sequence[PolicyRule] | None = None,
    egress: Sequence[PolicyRule] | None = None,
    policy_types: Iterable[Direction] | None = None,
) -> NetworkPolicy:
    """A policy whose effective `policy_types` are the directions given rules (even none).

    `ingress=()` therefore means "isolated for ingress, nothing admitted"; `ingress=None`
    leaves ingress out. An explicit `policy_types` overrides this.
    """
    if policy_types is None:
        policy_types = [
            direction
            for direction, rules in ((Direction.INGRESS, ingress), (Direction.EGRESS, egress))
            if rules is not None
        ]
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=pod_selector,
        policy_types=frozenset(policy_types),
        ingress=tuple(ingress or ()),
        egress=tuple(egress or ()),
    )


def rule(*peers: PolicyPeer, ports: Sequence[PolicyPort] = ()) -> PolicyRule:
    """A rule admitting `peers` (none: every peer) on `ports` (none: every port)."""
    return PolicyRule(peers=peers, ports=tuple(ports))


def pods_peer(pod_selector: LabelSelector) -> PolicyPeer:
    """A `podSelector`-only peer: pods of the policy's own namespace."""
    return PolicyPeer(pod_selector=pod_selector)


def ip_block(cidr: str, *excepts: str) -> PolicyPeer:
    """An `ipBlock` peer."""
    return PolicyPeer(
        ip_block=IPBlock(cidr=ip_network(cidr), excepts=tuple(ip_network(e) for e in excepts))
    )


def port(number: int, end: int | None = None, protocol: Protocol = Protocol.TCP) -> PolicyPort:
    """A numeric port entry, or the inclusive range `number`..`end`."""
    return PolicyPort(
        protocol=protocol, port_range=PortRange(start=number, end=number if end is None else end)
    )


def cluster(
    pods: Iterable[Pod] = (),
    policies: Iterable[NetworkPolicy] = (),
    namespaces: Iterable[Namespace] = (),
) -> Cluster:
    """A cluster sorted as the loader sorts it; namespaces only used get default labels."""
    pods, policies = tuple(pods), tuple(policies)
    by_name = {ns.name: ns for ns in namespaces}
    for name in [p.namespace for p in pods] + [p.namespace for p in policies]:
        by_name.setdefault(name, namespace(name))
    return Cluster(
        namespaces=tuple(sorted(by_name.values(), key=lambda ns: ns.name)),
        pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name or ""))),
        policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
    )


def pod_endpoint(in_cluster: Cluster, of: Pod) -> PodEndpoint:
    """The pod as a flow endpoint, using its first known address (if any)."""
    ns = in_cluster.namespace(of.namespace)
    assert ns is not None, f"namespace {of.namespace} is not in the cluster"
    return PodEndpoint(namespace=ns, pod=of, ip=of.ips[0] if of.ips else None)


def external(ip: str) -> ExternalEndpoint:
    """An address outside the cluster's pods."""
    return ExternalEndpoint(ip=ip_address(ip))


def decide(
    in_cluster: Cluster,
    source: Pod | Endpoint,
    destination: Pod | Endpoint,
    port: int = 80,
    protocol: Protocol = Protocol.TCP,
    settings: Settings | None = None,
    same_node: bool = False,
) -> FlowDecision:
    """Evaluate one flow; pods are turned into endpoints of `in_cluster`."""

    def as_endpoint(end: Pod | Endpoint) -> Endpoint:
        return pod_endpoint(in_cluster, end) if isinstance(end, Pod) else end

    flow = Flow(
        source=as_endpoint(source),
        destination=as_endpoint(destination),
        protocol=protocol,
        port=port,
        same_node=same_node,
    )
    return evaluate(in_cluster, flow, settings)


def allowed(
    in_cluster: Cluster,
    source: Pod | Endpoint,
    destination: Pod | Endpoint,
    port: int = 80,
    protocol: Protocol = Protocol.TCP,
    settings: Settings | None = None,
) -> bool:
    """Whether the flow is allowed."""
    return decide(in_cluster, source, destination, port, protocol, settings).allowed


def ref(of: NetworkPolicy) -> ObjectRef:
    """How decisions name a policy."""
    return ObjectRef(kind="NetworkPolicy", namespace=of.namespace, name=of.name)


def rule_ref(of: NetworkPolicy, direction: Direction, index: int) -> RuleRef:
    """How decisions name one rule of a policy."""
    return RuleRef(policy=ref(of), direction=direction, index=index)


def admin_rule(
    action: AdminAction,
    *peers: AdminPeer,
    name: str | None = None,
    ports: Sequence[PolicyPort] = (),
) -> AdminRule:
    """An admin rule (no peers given: every pod)."""
    return AdminRule(name=name, action=action, peers=peers or (ALL_NAMESPACES,), ports=tuple(ports))


def cnp(
    name: str,
    priority: int,
    *,
    tier: Tier = Tier.ADMIN,
    subject: AdminSubject = EVERY_POD,
    ingress: Iterable[AdminRule] = (),
    egress: Iterable[AdminRule] = (),
) -> AdminPolicy:
    """A ClusterNetworkPolicy (by default of the Admin tier, selecting every pod)."""
    return AdminPolicy(
        api_version=CNP_API_VERSION,
        kind="ClusterNetworkPolicy",
        name=name,
        tier=tier,
        priority=priority,
        subject=subject,
        ingress=tuple(ingress),
        egress=tuple(egress),
    )
