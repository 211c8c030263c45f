"""The bit sets' changed flows between cells of external addresses and classes of existing
pods (`CellChanges`) against brute force: every address of a cell, to or from every pod of
a class of the region, on every port, changed (by the reference evaluator) exactly where
one product covers it, and no product covers an unchanged flow."""

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from itertools import product

from hypothesis import given
from hypothesis import strategies as st

from netverify.encoding.groups import Pair
from netverify.engine import SolverLimits
from netverify.engine.diff.cells import CellProduct, CellRegion
from netverify.engine.diff.revisions import Revisions
from netverify.engine.diff.search import DiffSearch
from netverify.engine.diff.symbolic import SymbolicDiff
from netverify.model import (
    MAX_PORT,
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    ExternalEndpoint,
    Flow,
    IPAddress,
    IPBlock,
    LabelSelector,
    Namespace,
    NamespaceScope,
    Pod,
    PodScope,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
    Settings,
)
from netverify.model.diff import Change
from tests.diff.test_diff_differential import DIFFERENTIAL, _revised, _with_workloads
from tests.semantics.helpers import policy
from tests.strategies import EXTERNAL_IPS, INTERESTING_PORTS, POD_SUBNET, clusters

_WEB = Pod(
    namespace="ns0",
    name="web",
    labels={"app": "web"},
    ports=(ContainerPort(name="http", port=8080),),
    ips=(IPv4Address("10.0.0.10"),),
)
_DB = Pod(namespace="ns0", name="db", labels={"app": "db"}, ips=(IPv4Address("10.0.0.20"),))
_AGENT = Pod(namespace="ns0", name="agent", labels={"app": "web"}, host_network=True)
_NAMESPACE = Namespace(name="ns0", labels={NAMESPACE_NAME_LABEL: "ns0"})


def _cluster(*policies: object, pods: tuple[Pod, ...] = (_WEB, _DB, _AGENT)) -> Cluster:
    return Cluster(namespaces=(_NAMESPACE,), pods=pods, policies=policies)


def _from_block(cidr: str, *excepts: str, ports: tuple[PolicyPort, ...] = ()) -> PolicyRule:
    block = IPBlock(cidr=ip_network(cidr), excepts=tuple(ip_network(e) for e in excepts))
    return PolicyRule(peers=(PolicyPeer(ip_block=block),), ports=ports)


def _searched(
    base: Cluster, head: Cluster, settings: Settings
) -> tuple[SymbolicDiff, dict[Change, list[CellProduct]]]:
    revisions = Revisions(base, head, settings)
    symbolic = SymbolicDiff(revisions, PodScope.EXISTING, NamespaceScope.EXISTING, SolverLimits())
    cells = DiffSearch(symbolic).cell_changes
    assert cells is not None
    return symbolic, {change: list(cells.products(change)) for change in Change}


def _assert_exact(
    base: Cluster, head: Cluster, settings: Settings, addresses: Iterable[IPAddress]
) -> dict[Change, list[CellProduct]]:
    """Every flow between the addresses (and the cells' own) and the pods, whose cell and
    class are the region's, is covered once by a product of its change if it changed,
    never if not (the reference evaluator's word); the products are returned."""
    symbolic, products = _searched(base, head, settings)
    region = symbolic.cells
    assert isinstance(region, CellRegion)
    revisions = symbolic.revisions
    taken = {ip for pod in revisions.merged.pods for ip in pod.ips}
    externals = {
        ip
        for ip in (*addresses, *(cell.endpoint.ip for cell in region.cells.cells))
        if ip not in taken and not any(ip in cidr for cidr in settings.pod_cidrs)
    }
    keys = [cell.key for cell in region.cells.cells]
    numbers = {p.port for pod in revisions.merged.pods for p in pod.ports}
    ports = sorted(
        n
        for n in {*INTERESTING_PORTS, *(n + d for n in numbers for d in (-1, 0, 1))}
        if 0 < n <= MAX_PORT
    )
    for ip, pod in product(
        sorted(externals, key=lambda ip: (ip.version, ip)), revisions.merged.pods
    ):
        key = symbolic.groups.external(ip)
        pod_end = revisions.endpoint(pod)
        pod_class = symbolic.groups.class_of(pod_end)
        assert pod_class is not None
        for outward in (False, True):
            cells, classes = (
                (region.outward, region.sources)
                if outward
                else (region.inward, region.destinations)
            )
            if key not in [keys[k] for k in cells] or not (classes >> pod_class.index) & 1:
                continue
            external = ExternalEndpoint(ip=ip)
            source, destination = (pod_end, external) if outward else (external, pod_end)
            for protocol, port in product(Protocol, ports):
                flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
                for change in Change:
                    covering = [
                        p
                        for p in products[change]
                        if p.outward is outward
                        and p.protocol is protocol
                        and any(r.start <= port <= r.end for r in p.ports)
                        and key in [keys[k] for k in p.cells]
                        and pod_class.index in p.classes
                    ]
                    expected = 1 if revisions.changes_at(flow, change, port) else 0
                    assert len(covering) == expected, (change, flow, covering)
    _assert_solver_leaves_region_out(base, head, settings, products)
    return products


def _assert_solver_leaves_region_out(
    base: Cluster, head: Cluster, settings: Settings, products: dict[Change, list[CellProduct]]
) -> None:
    """The whole search lists the cell products, and no other product (the solver's)
    takes in a pair of groups of the region."""
    symbolic = SymbolicDiff(
        Revisions(base, head, settings), PodScope.EXISTING, NamespaceScope.EXISTING, SolverLimits()
    )
    region = symbolic.cells
    assert region is not None
    search = DiffSearch(symbolic)
    for change in Change:
        searched = search.changes(change, 1000)
        assert searched.complete
        pairs = [
            [Pair(s, d) for s, _ in found.sources for d, _ in found.destinations]
            for found in searched.products
        ]
        # Every pair of a cell product is the region's: no other product takes one in.
        cell_pairs = sum(len(p.cells) * len(p.classes) for p in products[change])
        assert sum(map(region.covers, [pair for some in pairs for pair in some])) == cell_pairs


def _flows(products: list[CellProduct]) -> int:
    return sum(len(p.cells) * len(p.classes) for p in products)


def test_an_except_takes_its_addresses_out_of_the_cells_admitted() -> None:
    head = _cluster(
        policy(
            "ns0",
            "web",
            LabelSelector(match_labels={"app": "web"}),
            ingress=(_from_block("0.0.0.0/0", "10.0.0.0/8"),),
        )
    )
    base = _cluster(policy("ns0", "web", LabelSelector(match_labels={"app": "web"}), ingress=()))
    products = _assert_exact(
        base, head, Settings(), [ip_address("10.1.2.3"), ip_address("8.8.8.8")]
    )
    # One cell (outside 10.0.0.0/8) to web, on every port of each protocol.
    added = products[Change.ADDED]
    assert _flows(added) == len(Protocol) and not products[Change.REMOVED]
    assert {p.protocol for p in added} == set(Protocol)
    assert all(not p.outward and p.ports == (PortRange(start=1, end=65535),) for p in added)


def test_pod_cidrs_and_a_pods_own_address_are_no_cell_representatives() -> None:
    """The pod CIDR 10.0.0.0/24 leaves 10.0.0.0/16's other addresses to the cell; the
    pods' addresses are never a cell's representative."""
    head = _cluster(
        policy(
            "ns0",
            "web",
            LabelSelector(match_labels={"app": "web"}),
            ingress=(_from_block("10.0.0.0/16"),),
        )
    )
    base = _cluster()
    settings = Settings(pod_cidrs=(POD_SUBNET,))
    products = _assert_exact(
        base, head, settings, [ip_address("10.0.0.10"), ip_address("10.0.1.1")]
    )
    symbolic, _ = _searched(base, head, settings)
    representatives = {cell.endpoint.ip for cell in symbolic.external_cells.cells}
    assert not any(ip in POD_SUBNET for ip in representatives)
    assert ip_address("10.0.0.10") not in representatives
    assert products[Change.REMOVED]


def test_a_host_network_pod_never_changes_with_an_external_address() -> None:
    head = _cluster(policy("ns0", "all", ingress=(), egress=()))
    products = _assert_exact(_cluster(), head, Settings(), [ip_address("8.8.8.8")])
    classes = {c for p in products[Change.REMOVED] for c in p.classes}
    symbolic, _ = _searched(_cluster(), head, Settings())
    agent = symbolic.groups.class_of(symbolic.revisions.endpoint(_AGENT))
    assert agent is not None and agent.index not in classes
    assert {p.outward for p in products[Change.REMOVED]} == {False, True}


def test_ipv6_cells_are_apart_from_ipv4() -> None:
    head = _cluster(
        policy(
            "ns0",
            "db",
            LabelSelector(match_labels={"app": "db"}),
            egress=(
                PolicyRule(peers=(PolicyPeer(ip_block=IPBlock(cidr=ip_network("2001:db8::/32"))),)),
            ),
        )
    )
    base = _cluster(policy("ns0", "db", LabelSelector(match_labels={"app": "db"}), egress=()))
    addresses = [IPv6Address("2001:db8::1"), IPv6Address("2001:db9::1"), ip_address("8.8.8.8")]
    products = _assert_exact(base, head, Settings(), addresses)
    added = products[Change.ADDED]
    assert _flows(added) == len(Protocol) and all(p.outward for p in added)


def test_a_named_port_admits_from_external_addresses_but_never_to_one() -> None:
    http = (PolicyPort(protocol=Protocol.TCP, named_port="http"),)
    head = _cluster(
        policy(
            "ns0",
            "web",
            LabelSelector(match_labels={"app": "web"}),
            ingress=(_from_block("0.0.0.0/0", ports=http),),
            egress=(_from_block("0.0.0.0/0", ports=http),),
        )
    )
    base = _cluster(
        policy("ns0", "web", LabelSelector(match_labels={"app": "web"}), ingress=(), egress=())
    )
    products = _assert_exact(base, head, Settings(), [ip_address("8.8.8.8")])
    (added,) = products[Change.ADDED]
    assert not added.outward and added.ports == (PortRange(start=8080, end=8080),)


@DIFFERENTIAL
@given(data=st.data())
def test_every_changed_flow_with_an_external_address_is_in_one_product(
    data: st.DataObject,
) -> None:
    base = _with_workloads(data, data.draw(clusters(max_pods=4, max_policies=3)))
    head = _revised(data, base)
    settings = Settings(pod_cidrs=data.draw(st.sampled_from(((), (POD_SUBNET,)))))
    _assert_exact(base, head, settings, EXTERNAL_IPS)


def test_a_cell_whose_segment_ends_are_pods_gets_an_address_between_them() -> None:
    """203.0.113.0/24 is one segment whose two ends are pods' addresses: its cell's
    representative is an address between them."""
    ends = tuple(
        Pod(namespace="ns0", name=f"edge{n}", ips=(IPv4Address(f"203.0.113.{n}"),))
        for n in (0, 255)
    )
    pods = (_WEB, *ends)
    selected = LabelSelector(match_labels={"app": "web"})
    head = _cluster(
        policy("ns0", "web", selected, ingress=(_from_block("203.0.113.0/24"),)), pods=pods
    )
    base = _cluster(policy("ns0", "web", selected, ingress=()), pods=pods)
    _assert_exact(base, head, Settings(), [ip_address("203.0.113.7")])
    symbolic, _ = _searched(base, head, Settings())
    representatives = {cell.endpoint.ip for cell in symbolic.external_cells.cells}
    assert ip_address("203.0.113.1") in representatives
