"""prove with admin policy tiers: the verdicts the tiers decide, and the ones netverify must
leave `unknown` (an order the API leaves open, domainNames, an unplaced host-network pod)."""

from ipaddress import ip_address, ip_network

from netverify.model import (
    AdminAction,
    AdminPeer,
    AdminSubject,
    Cluster,
    EndpointPattern,
    Invariant,
    InvariantKind,
    LabelSelector,
    Node,
    Pod,
    PodScope,
    Status,
    Tier,
)
from tests.engine.helpers import prove_one
from tests.semantics.helpers import admin_rule, cluster, cnp, namespace, pod, selector

WEB = pod("dev", "web", {"app": "web"}, ip="10.0.0.1")
DB = pod("prod", "db", {"app": "db"}, ip="10.0.1.1")
TO_PROD = AdminPeer(namespaces=selector(env="prod"))
DEV_TO_PROD = Invariant(
    name="dev-to-prod",
    kind=InvariantKind.FORBID,
    source=EndpointPattern(namespace_name="dev"),
    destination=EndpointPattern(namespace_name="prod"),
    pods=PodScope.ANY,
)

DEV_TO_AGENT = Invariant(
    name="to-agent",
    kind=InvariantKind.FORBID,
    source=EndpointPattern(namespace_name="dev"),
    destination=EndpointPattern(namespace_name="kube-system", pod_name="agent"),
    pods=PodScope.EXISTING,
)


def _world(
    *admin: object, pods: tuple[Pod, ...] = (WEB, DB), nodes: tuple[Node, ...] = ()
) -> Cluster:
    base = cluster(
        pods, namespaces=[namespace("dev", {"env": "dev"}), namespace("prod", {"env": "prod"})]
    )
    return base.model_copy(update={"admin_policies": admin, "nodes": nodes})


def test_an_admin_deny_proves_isolation_for_every_pod_that_could_exist() -> None:
    guard = cnp("guard", 1, egress=[admin_rule(AdminAction.DENY, TO_PROD)])
    assert prove_one(_world(guard), DEV_TO_PROD).status is Status.HOLDS
    assert prove_one(_world(), DEV_TO_PROD).status is Status.VIOLATED


def test_a_pass_hands_the_flow_on_and_the_counterexample_names_the_pass() -> None:
    guard = cnp("guard", 1, egress=[admin_rule(AdminAction.PASS, TO_PROD, name="to-np")])
    deny = cnp("deny", 2, egress=[admin_rule(AdminAction.DENY, TO_PROD)])
    result = prove_one(_world(guard, deny), DEV_TO_PROD)
    assert result.status is Status.VIOLATED
    assert result.counterexample is not None
    passed = result.counterexample.decision.egress.passed_by
    assert passed is not None and passed.name == "to-np"


def test_equal_priorities_that_disagree_make_the_verdict_unknown_naming_both() -> None:
    accept = cnp("accept", 4, egress=[admin_rule(AdminAction.ACCEPT, TO_PROD)])
    deny = cnp("deny", 4, egress=[admin_rule(AdminAction.DENY, TO_PROD)])
    result = prove_one(_world(accept, deny), DEV_TO_PROD)
    assert result.status is Status.UNKNOWN
    assert result.reason is not None
    assert "cnp/accept and cnp/deny" in result.reason


def test_equal_priorities_that_agree_give_a_normal_verdict() -> None:
    one = cnp("deny-1", 4, egress=[admin_rule(AdminAction.DENY, TO_PROD)])
    two = cnp("deny-2", 4, egress=[admin_rule(AdminAction.DENY, TO_PROD)])
    assert prove_one(_world(one, two), DEV_TO_PROD).status is Status.HOLDS


def test_domain_names_accept_makes_a_forbid_unknown_never_holds() -> None:
    dns = cnp(
        "allow-example",
        1,
        egress=[admin_rule(AdminAction.ACCEPT, AdminPeer(domain_names=("example.com",)))],
    )
    deny = cnp(
        "deny-out",
        2,
        egress=[admin_rule(AdminAction.DENY, AdminPeer(networks=(ip_network("0.0.0.0/0"),)))],
    )
    no_internet = Invariant(
        name="no-internet",
        kind=InvariantKind.FORBID,
        source=EndpointPattern(namespace_name="dev"),
        destination=EndpointPattern(ip=ip_network("93.184.216.0/24")),
        pods=PodScope.ANY,
    )
    assert prove_one(_world(deny), no_internet).status is Status.HOLDS
    result = prove_one(_world(dns, deny), no_internet)
    assert result.status is Status.UNKNOWN
    assert result.reason is not None and "cnp/allow-example" in result.reason


def test_a_nodes_deny_blocks_host_network_pods_on_the_selected_nodes() -> None:
    node = Node(name="n1", labels={"zone": "a"}, addresses=(ip_address("192.168.0.5"),))
    agent = pod("kube-system", "agent", ip="192.168.0.5", host_network=True, node="n1")
    deny = cnp(
        "deny-nodes", 1, egress=[admin_rule(AdminAction.DENY, AdminPeer(nodes=selector(zone="a")))]
    )
    world = _world(deny, pods=(WEB, DB, agent), nodes=(node,))
    assert prove_one(world, DEV_TO_AGENT).status is Status.HOLDS
    other_zone = deny.model_copy(
        update={"egress": (admin_rule(AdminAction.DENY, AdminPeer(nodes=selector(zone="b"))),)}
    )
    world = _world(other_zone, pods=(WEB, DB, agent), nodes=(node,))
    assert prove_one(world, DEV_TO_AGENT).status is Status.VIOLATED


def test_an_unplaced_host_network_pod_may_be_on_any_node() -> None:
    """A selector with labels may or may not select the node it runs on: unknown. `nodes:
    {}` selects every node, so its node too."""
    agent = pod("kube-system", "agent", ip="192.168.0.9", host_network=True)
    node = Node(name="n1", labels={"zone": "a"}, addresses=(ip_address("192.168.0.5"),))
    deny = cnp(
        "deny-nodes", 1, egress=[admin_rule(AdminAction.DENY, AdminPeer(nodes=selector(zone="a")))]
    )
    result = prove_one(_world(deny, pods=(WEB, DB, agent), nodes=(node,)), DEV_TO_AGENT)
    assert result.status is Status.UNKNOWN
    assert result.reason is not None and "kube-system/agent" in result.reason
    every_node = cnp(
        "deny-nodes", 1, egress=[admin_rule(AdminAction.DENY, AdminPeer(nodes=LabelSelector()))]
    )
    world = _world(every_node, pods=(WEB, DB, agent), nodes=(node,))
    assert prove_one(world, DEV_TO_AGENT).status is Status.HOLDS


def test_the_baseline_tier_applies_only_where_no_network_policy_selects() -> None:
    baseline = cnp(
        "default-deny",
        1,
        tier=Tier.BASELINE,
        subject=AdminSubject(namespaces=selector(env="prod")),
        ingress=[admin_rule(AdminAction.DENY)],
    )
    assert prove_one(_world(baseline), DEV_TO_PROD).status is Status.HOLDS
