"""Hypothesis strategies for small, valid clusters and flows.

They feed the property-based tests, above all the differential tests of the Z3 engine
against the reference evaluator, so they favour few labels, ports and addresses that collide
often (selectors that match, CIDRs that contain, named ports that resolve) over variety.
Every value is one the API server would accept and the loader would produce: effective
`policy_types`, `except`s strictly inside their `cidr`, values only for In/NotIn, unique names
per namespace, distinct pod addresses, objects sorted by namespace and name.
"""

from collections import Counter
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network
from typing import TypeVar

from hypothesis import strategies as st

from netverify.model import (
    ANP_API_VERSION,
    CNP_API_VERSION,
    NAMESPACE_NAME_LABEL,
    PROTOCOLS,
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
    LabelRequirement,
    LabelSelector,
    Namespace,
    NamespacedPods,
    NetworkPolicy,
    Node,
    Operator,
    Pod,
    PodEndpoint,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
    Settings,
    Tier,
)
from netverify.semantics import may_be_node_local

LABEL_KEYS = ("app", "env", "tier")
LABEL_VALUES = ("a", "b", "c")
PORT_NAMES = ("http", "dns", "metrics")
INTERESTING_PORTS = (1, 53, 80, 443, 8080, 65535)
POD_SUBNET = IPv4Network("10.0.0.0/24")
EXTERNAL_IPS = tuple(
    IPv4Address(address)
    for address in ("10.0.0.5", "10.0.0.130", "10.1.0.1", "172.16.0.1", "192.168.1.1", "8.8.8.8")
)
"""External addresses: some inside the pod subnet and the ipBlock CIDRs, some outside all."""

NAMESPACE_NAMES = ("ns0", "ns1", "ns2")

IP_BLOCK_EXCEPTS: dict[IPv4Network, tuple[IPv4Network, ...]] = {
    IPv4Network(cidr): tuple(IPv4Network(e) for e in excepts)
    for cidr, excepts in {
        "10.0.0.0/24": ("10.0.0.0/28", "10.0.0.128/25", "10.0.0.4/30", "10.0.0.5/32"),
        "10.0.0.0/28": ("10.0.0.4/30", "10.0.0.5/32", "10.0.0.8/29"),
        "10.0.0.128/25": ("10.0.0.128/26", "10.0.0.130/32", "10.0.0.192/26"),
        "0.0.0.0/0": ("10.0.0.0/8", "10.0.0.0/24", "10.0.0.0/25", "192.168.0.0/16"),
        "192.168.0.0/16": ("192.168.1.0/24", "192.168.1.1/32"),
    }.items()
}
"""The ipBlock CIDRs, each with hand-picked `except`s strictly inside it."""

_POD_ADDRESSES = tuple(
    address for address in POD_SUBNET.hosts() if address not in EXTERNAL_IPS
)  # NOTE: an external address is never also a pod's, so an ExternalEndpoint is never a pod.
_EDGE_POD_ADDRESSES = tuple(
    POD_SUBNET[host] for host in (1, 4, 6, 7, 8, 15, 16, 127, 128, 129, 131, 191, 192, 254)
)  # on either side of the boundaries of the CIDRs and excepts above

_TCP_MOSTLY = st.sampled_from(
    (Protocol.TCP, Protocol.TCP, Protocol.TCP, Protocol.UDP, Protocol.SCTP)
)
_PORT_NUMBERS = st.one_of(st.sampled_from(INTERESTING_PORTS), st.integers(1, 65535))
_RARELY = st.sampled_from((False,) * 9 + (True,))
_USUALLY = st.sampled_from((True, True, True, False))

# NOTE: the strategies are built once, here: building them inside composites on every draw
# costs more than drawing from them.


def _requirements(
    keys: Sequence[str], values: Sequence[str]
) -> st.SearchStrategy[LabelRequirement]:
    with_values = st.builds(
        LabelRequirement,
        key=st.sampled_from(keys),
        operator=st.sampled_from((Operator.IN, Operator.NOT_IN)),
        values=st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True).map(
            lambda chosen: tuple(sorted(chosen))
        ),
    )
    without_values = st.builds(
        LabelRequirement,
        key=st.sampled_from(keys),
        operator=st.sampled_from((Operator.EXISTS, Operator.DOES_NOT_EXIST)),
    )
    return st.one_of(with_values, without_values)


def _selectors(keys: Sequence[str], values: Sequence[str]) -> st.SearchStrategy[LabelSelector]:
    return st.builds(
        LabelSelector,
        match_labels=st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=2),
        match_expressions=st.lists(_requirements(keys, values), max_size=2).map(tuple),
    )


T = TypeVar("T")

_LABELS = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES))
_SELECTORS = _selectors(LABEL_KEYS, LABEL_VALUES)
_POLICY_SELECTORS = st.one_of(
    st.just(LabelSelector()),
    st.builds(
        LabelSelector,
        match_labels=st.dictionaries(
            st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), min_size=1, max_size=1
        ),
    ),
    _SELECTORS,
)
"""Policies select every pod of their namespace often, so that flows meet isolation."""


def labels() -> st.SearchStrategy[dict[str, str]]:
    """Labels over a subset of LABEL_KEYS with values from LABEL_VALUES."""
    return _LABELS


def selectors() -> st.SearchStrategy[LabelSelector]:
    """0–2 `matchLabels` and 0–2 `matchExpressions` (any operator) over the label universe."""
    return _SELECTORS


def _namespace_selectors(namespace_names: Sequence[str]) -> st.SearchStrategy[LabelSelector]:
    """Selectors over the namespaces' labels, or by `kubernetes.io/metadata.name`."""
    return st.one_of(_SELECTORS, _selectors((NAMESPACE_NAME_LABEL,), namespace_names))


_SINGLE_PORTS = _PORT_NUMBERS.map(lambda n: PortRange(start=n, end=n))
_PORT_RANGES = st.tuples(_PORT_NUMBERS, _PORT_NUMBERS).map(
    lambda ends: PortRange(start=min(ends), end=max(ends))
)
_POLICY_PORTS = st.one_of(
    st.builds(PolicyPort, protocol=_TCP_MOSTLY, port_range=_SINGLE_PORTS),
    st.builds(PolicyPort, protocol=_TCP_MOSTLY, port_range=_PORT_RANGES),
    st.builds(PolicyPort, protocol=_TCP_MOSTLY, named_port=st.sampled_from(PORT_NAMES)),
    st.builds(PolicyPort, protocol=_TCP_MOSTLY),
)


def policy_ports() -> st.SearchStrategy[PolicyPort]:
    """A port entry: one number, a range, a name from PORT_NAMES, or a protocol alone."""
    return _POLICY_PORTS


@st.composite
def _subnets_strictly_inside(draw: st.DrawFn, cidr: IPv4Network) -> IPv4Network:
    prefix = draw(st.integers(cidr.prefixlen + 1, 32))
    index = draw(st.integers(0, 2 ** (prefix - cidr.prefixlen) - 1))
    return IPv4Network((int(cidr.network_address) + (index << (32 - prefix)), prefix))


_IP_BLOCKS = st.one_of(
    *(
        st.builds(
            IPBlock,
            cidr=st.just(cidr),
            excepts=st.lists(
                st.one_of(st.sampled_from(excepts), _subnets_strictly_inside(cidr)), max_size=1
            ).map(tuple),
        )
        for cidr, excepts in IP_BLOCK_EXCEPTS.items()
    )
)


def ip_blocks() -> st.SearchStrategy[IPBlock]:
    """A CIDR of IP_BLOCK_EXCEPTS with 0–1 `except` strictly inside it."""
    return _IP_BLOCKS


def _peers(namespace_names: Sequence[str]) -> st.SearchStrategy[PolicyPeer]:
    namespace_selectors = _namespace_selectors(namespace_names)
    return st.one_of(
        st.builds(PolicyPeer, pod_selector=_SELECTORS),
        st.builds(PolicyPeer, namespace_selector=namespace_selectors),
        st.builds(PolicyPeer, pod_selector=_SELECTORS, namespace_selector=namespace_selectors),
        st.builds(PolicyPeer, ip_block=_IP_BLOCKS),
    )


def _tuples(
    elements: st.SearchStrategy[T], sizes: Sequence[int]
) -> st.SearchStrategy[tuple[T, ...]]:
    """Tuples whose length is drawn from `sizes` (repeat a size to make it likelier).

    NOTE: `st.lists(max_size=...)` is mostly empty; an empty peer or port list admits
    everything, so rules would rarely restrict anything.
    """
    by_size = {
        size: st.lists(elements, min_size=size, max_size=size).map(tuple) for size in set(sizes)
    }
    return st.sampled_from(sizes).flatmap(lambda size: by_size[size])


def _rules(namespace_names: Sequence[str]) -> st.SearchStrategy[PolicyRule]:
    return st.builds(
        PolicyRule,
        peers=_tuples(_peers(namespace_names), (1, 1, 2, 0)),
        ports=_tuples(_POLICY_PORTS, (1, 1, 2, 0)),
    )


_NAMESPACE_PREFIXES = tuple(NAMESPACE_NAMES[:n] for n in range(1, len(NAMESPACE_NAMES) + 1))
_PEERS = {names: _peers(names) for names in _NAMESPACE_PREFIXES}
_RULE_LISTS = {names: _tuples(_rules(names), (1, 1, 2, 3, 0)) for names in _PEERS}


def peers() -> st.SearchStrategy[PolicyPeer]:
    """A peer: pods of the own namespace, namespaces (by label or by name), both, or an ipBlock."""
    return _PEERS[NAMESPACE_NAMES]


def rules() -> st.SearchStrategy[PolicyRule]:
    """A rule with 0–2 peers (none: every peer) and 0–2 ports (none: every port)."""
    return _rules(NAMESPACE_NAMES)


_CONTAINER_PORTS = st.lists(
    st.builds(
        ContainerPort,
        name=st.sampled_from(PORT_NAMES),
        port=st.sampled_from(INTERESTING_PORTS),
        protocol=st.sampled_from((Protocol.TCP, Protocol.UDP)),
    ),
    max_size=2,
    unique_by=(lambda c: c.name, lambda c: (c.port, c.protocol)),
).map(tuple)


def container_ports() -> st.SearchStrategy[tuple[ContainerPort, ...]]:
    """0–2 named container ports: distinct names, distinct port/protocol pairs, TCP or UDP."""
    return _CONTAINER_PORTS


_POD_ADDRESS = st.one_of(st.sampled_from(_EDGE_POD_ADDRESSES), st.sampled_from(_POD_ADDRESSES))
_POLICY_TYPES = st.sampled_from(
    (frozenset({Direction.INGRESS}), frozenset({Direction.EGRESS}), frozenset(Direction))
)
_NAMESPACE_COUNTS = st.sampled_from(
    (_NAMESPACE_PREFIXES[0], *_NAMESPACE_PREFIXES[1:2] * 2, *_NAMESPACE_PREFIXES[2:])
)  # two namespaces most often: enough to tell "own namespace" from "another"
_NAMESPACE_CHOICE = {names: st.sampled_from(names) for names in _NAMESPACE_PREFIXES}


_NODE_NAMES = st.sampled_from((None, None, None, "node-a", "node-b"))
"""Pods are mostly not bound to a node; some are bound to one of two."""


@st.composite
def clusters(
    draw: st.DrawFn, max_pods: int = 5, max_policies: int = 4, max_admin_policies: int = 0
) -> Cluster:
    """1–3 namespaces `ns0`…, 1–`max_pods` pods and 0–`max_policies` policies, sorted.

    Pod names (`pod0`, … per namespace, so the same name recurs across namespaces) and policy
    names (`np0`, …) are unique per namespace; pods have 0–1 address, distinct across pods,
    from POD_SUBNET and never one of EXTERNAL_IPS; hostNetwork pods are rare. With
    `max_admin_policies`, also admin policies (`admin_policy_lists`) and the NODES.
    """
    names = draw(_NAMESPACE_COUNTS)
    namespaces = tuple(
        Namespace(name=name, labels={**draw(_LABELS), NAMESPACE_NAME_LABEL: name}) for name in names
    )

    pod_count = draw(st.integers(1, max_pods))
    addresses = draw(st.lists(_POD_ADDRESS, min_size=pod_count, max_size=pod_count, unique=True))
    pods_in: Counter[str] = Counter()
    pods = []
    for address in addresses:
        namespace = draw(_NAMESPACE_CHOICE[names])
        pods.append(
            Pod(
                namespace=namespace,
                name=f"pod{pods_in[namespace]}",
                labels=draw(_LABELS),
                ports=draw(_CONTAINER_PORTS),
                ips=(address,) if draw(_USUALLY) else (),
                host_network=draw(_RARELY),
                node_name=draw(_NODE_NAMES),
            )
        )
        pods_in[namespace] += 1

    policies_in: Counter[str] = Counter()
    policies = []
    for _ in range(draw(st.integers(0, max_policies))):
        namespace = draw(_NAMESPACE_CHOICE[names])
        policies.append(
            NetworkPolicy(
                namespace=namespace,
                name=f"np{policies_in[namespace]}",
                pod_selector=draw(_POLICY_SELECTORS),
                policy_types=draw(_POLICY_TYPES),
                ingress=draw(_RULE_LISTS[names]),
                egress=draw(_RULE_LISTS[names]),
            )
        )
        policies_in[namespace] += 1

    admin = draw(admin_policy_lists(names, max_admin_policies)) if max_admin_policies else ()
    return Cluster(
        namespaces=namespaces,
        pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name or ""))),
        policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
        admin_policies=admin,
        nodes=NODES if admin else (),
    )


NODES = (
    Node(name="node-a", labels={"zone": "a"}, addresses=(IPv4Address("10.1.0.1"),)),
    Node(name="node-b", labels={"zone": "b"}, addresses=(IPv4Address("192.168.1.1"),)),
)
"""The nodes of clusters with admin policies: their addresses are among EXTERNAL_IPS, so an
external endpoint is sometimes a node."""
_NODE_SELECTORS = _selectors(("zone",), ("a", "b"))


def _admin_pods(namespace_names: Sequence[str]) -> st.SearchStrategy[NamespacedPods]:
    return st.builds(
        NamespacedPods,
        namespace_selector=_namespace_selectors(namespace_names),
        pod_selector=_SELECTORS,
    )


def _admin_peers(
    namespace_names: Sequence[str], direction: Direction
) -> st.SearchStrategy[AdminPeer]:
    both = [
        *[st.just(AdminPeer(namespaces=LabelSelector()))] * 3,
        st.builds(AdminPeer, namespaces=_namespace_selectors(namespace_names)),
        st.builds(AdminPeer, pods=_admin_pods(namespace_names)),
    ]
    if direction is Direction.INGRESS:
        return st.one_of(*both)
    return st.one_of(
        *both,
        st.just(AdminPeer(networks=(IPv4Network("0.0.0.0/0"),))),
        st.builds(AdminPeer, nodes=_NODE_SELECTORS),
        st.builds(
            AdminPeer,
            networks=st.lists(st.sampled_from(list(IP_BLOCK_EXCEPTS)), min_size=1, max_size=2).map(
                tuple
            ),
        ),
    )


_ADMIN_PORTS = st.one_of(
    st.builds(PolicyPort, protocol=_TCP_MOSTLY, port_range=_SINGLE_PORTS),
    st.builds(PolicyPort, protocol=_TCP_MOSTLY, port_range=_PORT_RANGES),
)


def _admin_rules(
    namespace_names: Sequence[str], direction: Direction, actions: Sequence[AdminAction]
) -> st.SearchStrategy[AdminRule]:
    named = st.sampled_from(PORT_NAMES).map(
        lambda name: tuple(PolicyPort(protocol=p, named_port=name) for p in PROTOCOLS)
    )
    plain = st.builds(
        AdminRule,
        name=st.none() | st.sampled_from(("r-a", "r-b")),
        action=st.sampled_from(actions),
        peers=_tuples(_admin_peers(namespace_names, direction), (1, 1, 2)),
        ports=_tuples(_ADMIN_PORTS, (0, 0, 0, 0, 1, 2)),
    )
    by_named_port = st.builds(
        AdminRule,
        action=st.sampled_from(actions),
        peers=st.just((AdminPeer(namespaces=LabelSelector()),)),
        ports=named,
    )
    return st.one_of(plain, plain, plain, by_named_port)


@st.composite
def admin_policy_lists(
    draw: st.DrawFn, namespace_names: Sequence[str], max_policies: int
) -> tuple[AdminPolicy, ...]:
    """0-`max_policies` ClusterNetworkPolicies of both tiers with distinct priorities, and
    sometimes a BaselineAdminNetworkPolicy (whose order against Baseline tier CNPs the API
    leaves open)."""
    count = draw(st.integers(0, max_policies))
    priorities = draw(st.lists(st.integers(0, 9), min_size=count, max_size=count, unique=True))
    subjects = st.one_of(
        *[st.just(AdminSubject(namespaces=LabelSelector()))] * 3,
        st.builds(AdminSubject, namespaces=_namespace_selectors(namespace_names)),
        st.builds(AdminSubject, pods=_admin_pods(namespace_names)),
    )
    actions = tuple(AdminAction)

    def rule_lists(direction: Direction, allowed: Sequence[AdminAction]) -> tuple[AdminRule, ...]:
        return draw(_tuples(_admin_rules(namespace_names, direction, allowed), (1, 1, 2, 0)))

    policies = [
        AdminPolicy(
            api_version=CNP_API_VERSION,
            kind="ClusterNetworkPolicy",
            name=f"cnp{index}",
            tier=draw(st.sampled_from(Tier)),
            priority=priority,
            subject=draw(subjects),
            ingress=rule_lists(Direction.INGRESS, actions),
            egress=rule_lists(Direction.EGRESS, actions),
        )
        for index, priority in enumerate(priorities)
    ]
    if draw(_RARELY):
        baseline = (AdminAction.ACCEPT, AdminAction.DENY)
        policies.append(
            AdminPolicy(
                api_version=ANP_API_VERSION,
                kind="BaselineAdminNetworkPolicy",
                name="default",
                tier=Tier.BASELINE,
                priority=None,
                subject=draw(subjects),
                ingress=rule_lists(Direction.INGRESS, baseline),
                egress=rule_lists(Direction.EGRESS, baseline),
            )
        )
    return tuple(sorted(policies, key=lambda p: (p.kind, p.name)))


def _pod_endpoint(cluster: Cluster, pod: Pod) -> PodEndpoint:
    namespace = cluster.namespace(pod.namespace)
    if namespace is None:
        raise ValueError(f"pod {pod.namespace}/{pod.name} is in no namespace of the cluster")
    return PodEndpoint(namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None)


def pod_endpoints(cluster: Cluster) -> st.SearchStrategy[PodEndpoint]:
    """One of the cluster's pods, using its first address (None when it has none)."""
    return st.sampled_from([_pod_endpoint(cluster, pod) for pod in cluster.pods])


_EXTERNAL_ENDPOINTS = st.sampled_from([ExternalEndpoint(ip=ip) for ip in EXTERNAL_IPS])


def external_endpoints() -> st.SearchStrategy[ExternalEndpoint]:
    """An address of EXTERNAL_IPS."""
    return _EXTERNAL_ENDPOINTS


def endpoints(cluster: Cluster) -> st.SearchStrategy[Endpoint]:
    """A pod of the cluster (3 times in 4) or an external address."""
    if not cluster.pods:
        return _EXTERNAL_ENDPOINTS
    pods = pod_endpoints(cluster)
    return st.one_of(pods, pods, pods, _EXTERNAL_ENDPOINTS)


def _container_port_pairs(destination: Endpoint) -> list[st.SearchStrategy[tuple[Protocol, int]]]:
    """The protocol and number of one of the destination's container ports, if it has any."""
    if isinstance(destination, PodEndpoint) and destination.pod.ports:
        return [st.sampled_from([(port.protocol, port.port) for port in destination.pod.ports])]
    return []


def _boundary_ports(cluster: Cluster) -> st.SearchStrategy[int]:
    """Port numbers on and just outside the ends of every range the policies name."""
    numbers = set(INTERESTING_PORTS)
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for entry in rule.ports:
                if entry.port_range is not None:
                    start, end = entry.port_range.start, entry.port_range.end
                    numbers |= {start - 1, start, end, end + 1}
    return st.sampled_from(sorted(n for n in numbers if 1 <= n <= 65535))


@st.composite
def flows(draw: st.DrawFn, cluster: Cluster) -> Flow:
    """A flow pod -> pod (the same pod included), pod -> external or external -> pod; where
    one end is a hostNetwork pod that may share the other's node, on the same node or not.

    The port is one of the destination's container ports, an interesting one, one at or next
    to a range end of the cluster's policies, or any. The cluster needs at least one pod.
    """
    if not cluster.pods:
        raise ValueError("flows need a cluster with at least one pod")
    source = draw(endpoints(cluster))
    destination: Endpoint
    if isinstance(source, ExternalEndpoint):
        destination = draw(pod_endpoints(cluster))
    else:
        others = [_pod_endpoint(cluster, pod) for pod in cluster.pods if pod != source.pod]
        other_pods = [st.sampled_from(others)] * 4 if others else []
        destination = draw(st.one_of(*other_pods, st.just(source), _EXTERNAL_ENDPOINTS))
    protocol, port = draw(
        st.one_of(
            *_container_port_pairs(destination),
            st.tuples(_TCP_MOSTLY, st.one_of(_boundary_ports(cluster), _PORT_NUMBERS)),
        )
    )
    same_node = may_be_node_local(source, destination) and draw(st.booleans())
    return Flow(
        source=source, destination=destination, protocol=protocol, port=port, same_node=same_node
    )


_SETTINGS = st.builds(Settings, ip_block_matches_pods=st.booleans())


def settings() -> st.SearchStrategy[Settings]:
    """Settings with `ip_block_matches_pods` either way."""
    return _SETTINGS
