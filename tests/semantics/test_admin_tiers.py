"""Admin policy tiers in the reference evaluator, one semantic rule per test.

Reference: kubernetes-sigs/network-policy-api `apis/v1alpha2/clusternetworkpolicy_types.go`
and `apis/v1alpha1/` (doc comments).
"""

from collections.abc import Iterable
from ipaddress import ip_address, ip_network

from netverify.model import (
    ANP_API_VERSION,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    ContainerPort,
    Direction,
    Flow,
    Layer,
    NamespacedPods,
    Node,
    Pod,
    PolicyPort,
    Protocol,
    Tier,
)
from netverify.semantics import evaluate
from netverify.semantics.evaluator import possible_verdicts
from tests.semantics.helpers import (
    EVERYTHING,
    admin_rule,
    cluster,
    cnp,
    decide,
    external,
    namespace,
    pod,
    pod_endpoint,
    policy,
    port,
    rule,
    selector,
)

ACCEPT, DENY, PASS = AdminAction.ACCEPT, AdminAction.DENY, AdminAction.PASS
WEB = pod("dev", "web", {"app": "web"}, ip="10.0.0.1")
DB = pod("prod", "db", {"app": "db"}, ip="10.0.1.1")
AGENT = pod("kube-system", "agent", ip="192.168.0.5", host_network=True, node="n1")
NODE = Node(name="n1", labels={"zone": "a"}, addresses=(ip_address("192.168.0.5"),))
TO_PROD = AdminPeer(namespaces=selector(env="prod"))


def banp(*, ingress: Iterable[AdminRule] = (), egress: Iterable[AdminRule] = ()) -> AdminPolicy:
    return AdminPolicy(
        api_version=ANP_API_VERSION,
        kind="BaselineAdminNetworkPolicy",
        name="default",
        tier=Tier.BASELINE,
        priority=None,
        subject=AdminSubject(namespaces=EVERYTHING),
        ingress=tuple(ingress),
        egress=tuple(egress),
    )


def world(*admin: AdminPolicy, pods: Iterable[Pod] = (WEB, DB), policies: Iterable = ()) -> Cluster:
    base = cluster(
        pods,
        policies,
        namespaces=[namespace("dev", {"env": "dev"}), namespace("prod", {"env": "prod"})],
    )
    return base.model_copy(update={"admin_policies": admin, "nodes": (NODE,)})


def test_admin_deny_beats_a_network_policy_that_allows() -> None:
    allow_all = policy("prod", "allow-all", EVERYTHING, ingress=[rule()])
    decision = decide(
        world(cnp("guard", 10, egress=[admin_rule(DENY, TO_PROD)]), policies=[allow_all]), WEB, DB
    )
    assert not decision.allowed
    assert decision.egress.decided_by is Layer.ADMIN_TIER
    assert decision.egress.admin_rule is not None
    assert decision.egress.admin_rule.rule.index == 0


def test_lower_priority_value_decides_first() -> None:
    first = cnp("a-deny", 5, egress=[admin_rule(DENY, TO_PROD)])
    later = cnp("b-accept", 7, egress=[admin_rule(ACCEPT, TO_PROD)])
    assert not decide(world(first, later), WEB, DB).allowed
    first = first.model_copy(update={"priority": 9})
    assert decide(world(first, later), WEB, DB).allowed


def test_first_matching_rule_in_written_order_decides() -> None:
    guard = cnp(
        "guard",
        1,
        egress=[admin_rule(ACCEPT, TO_PROD, ports=[port(80)]), admin_rule(DENY, TO_PROD)],
    )
    w = world(guard)
    assert decide(w, WEB, DB, 80).allowed
    assert not decide(w, WEB, DB, 81).allowed


def test_admin_pass_skips_the_rest_of_the_admin_tier_and_lets_network_policy_decide() -> None:
    guard = cnp("guard", 1, egress=[admin_rule(PASS, TO_PROD, name="pass-prod")])
    deny = cnp("deny", 2, egress=[admin_rule(DENY, TO_PROD)])
    decision = decide(world(guard, deny), WEB, DB)
    assert decision.allowed
    assert decision.egress.passed_by is not None and decision.egress.passed_by.name == "pass-prod"
    isolate = policy("dev", "no-egress", EVERYTHING, egress=())
    assert not decide(world(guard, deny, policies=[isolate]), WEB, DB).allowed


def test_admin_pass_reaches_the_baseline_tier_when_no_network_policy_selects() -> None:
    guard = cnp("guard", 1, egress=[admin_rule(PASS, TO_PROD)])
    baseline = cnp("base", 1, tier=Tier.BASELINE, egress=[admin_rule(DENY, TO_PROD)])
    decision = decide(world(guard, baseline), WEB, DB)
    assert not decision.allowed
    assert decision.egress.decided_by is Layer.BASELINE_TIER


def test_baseline_pass_falls_to_the_default_allow() -> None:
    first = cnp("a", 1, tier=Tier.BASELINE, egress=[admin_rule(PASS, TO_PROD)])
    second = cnp("b", 2, tier=Tier.BASELINE, egress=[admin_rule(DENY, TO_PROD)])
    decision = decide(world(first, second), WEB, DB)
    assert decision.allowed and decision.egress.decided_by is None


def test_network_policy_overrides_the_baseline_tier() -> None:
    deny = banp(ingress=[admin_rule(DENY)])
    allow = policy("prod", "allow-web", EVERYTHING, ingress=[rule()])
    assert not decide(world(deny), WEB, DB).allowed
    decision = decide(world(deny, policies=[allow]), WEB, DB)
    assert decision.allowed and decision.ingress.decided_by is Layer.NETWORK_POLICY


def test_egress_accept_does_not_skip_the_destination_ingress() -> None:
    accept = cnp("accept", 1, egress=[admin_rule(ACCEPT, TO_PROD)])
    isolate = policy("prod", "no-ingress", EVERYTHING, ingress=())
    decision = decide(world(accept, policies=[isolate]), WEB, DB)
    assert decision.egress.allowed and not decision.ingress.allowed and not decision.allowed


def test_networks_peers_match_pod_addresses() -> None:
    deny = cnp(
        "deny-all", 1, egress=[admin_rule(DENY, AdminPeer(networks=(ip_network("0.0.0.0/0"),)))]
    )
    assert not decide(world(deny), WEB, DB).allowed
    assert not decide(world(deny), WEB, external("8.8.8.8")).allowed


def test_host_network_pods_are_matched_only_by_nodes_and_networks_peers() -> None:
    by_namespace = cnp("ns", 1, egress=[admin_rule(DENY, AdminPeer(namespaces=EVERYTHING))])
    by_node = cnp("node", 1, egress=[admin_rule(DENY, AdminPeer(nodes=selector(zone="a")))])
    by_network = cnp(
        "net", 1, egress=[admin_rule(DENY, AdminPeer(networks=(ip_network("192.168.0.0/16"),)))]
    )
    pods = (WEB, AGENT)
    assert decide(world(by_namespace, pods=pods), WEB, AGENT).allowed
    assert not decide(world(by_node, pods=pods), WEB, AGENT).allowed
    assert not decide(world(by_network, pods=pods), WEB, AGENT).allowed
    assert not decide(world(by_node, pods=pods), WEB, external("192.168.0.5")).allowed


def test_an_empty_nodes_selector_matches_a_host_network_pod_on_an_unknown_node() -> None:
    """`nodes: {}` selects every node, so whichever node a host-network pod runs on; a
    selector with labels cannot tell, and matches no pod on an unknown node (an assumption
    `prove` turns into `unknown` where it matters)."""
    roaming = pod("kube-system", "roaming", host_network=True, node="not-loaded")
    every_node = cnp("every", 1, egress=[admin_rule(DENY, AdminPeer(nodes=EVERYTHING))])
    zone_a = cnp("zone-a", 1, egress=[admin_rule(DENY, AdminPeer(nodes=selector(zone="a")))])
    pods = (WEB, roaming)
    assert not decide(world(every_node, pods=pods), WEB, roaming).allowed
    assert decide(world(zone_a, pods=pods), WEB, roaming).allowed
    assert decide(world(every_node, pods=pods), WEB, external("192.168.9.9")).allowed


def test_host_network_pods_are_never_subjects() -> None:
    deny = cnp("deny", 1, egress=[admin_rule(DENY, AdminPeer(networks=(ip_network("0.0.0.0/0"),)))])
    assert decide(world(deny, pods=(WEB, AGENT)), AGENT, WEB).allowed


def test_admin_deny_blocks_node_local_traffic_that_network_policy_never_blocks() -> None:
    deny_nodes = cnp("deny-nodes", 1, egress=[admin_rule(DENY, AdminPeer(nodes=EVERYTHING))])
    isolate = policy("dev", "no-egress", EVERYTHING, egress=())
    local = pod("dev", "local", ip="10.0.0.9", node="n1")
    pods = (local, AGENT)
    assert decide(world(policies=[isolate], pods=pods), local, AGENT, same_node=True).allowed
    assert not decide(world(deny_nodes, pods=pods), local, AGENT, same_node=True).allowed


def test_a_pod_to_itself_is_not_subject_to_admin_policies() -> None:
    deny = cnp("deny", 1, egress=[admin_rule(DENY, AdminPeer(networks=(ip_network("0.0.0.0/0"),)))])
    assert decide(world(deny), WEB, WEB).allowed


def test_domain_names_never_match_a_concrete_flow() -> None:
    accept = cnp("dns", 1, egress=[admin_rule(ACCEPT, AdminPeer(domain_names=("example.com",)))])
    deny = cnp("deny", 2, egress=[admin_rule(DENY, AdminPeer(networks=(ip_network("0.0.0.0/0"),)))])
    assert not decide(world(accept, deny), WEB, external("93.184.216.34")).allowed


def test_named_ports_resolve_on_the_destination_pod() -> None:
    named = [PolicyPort(protocol=p, named_port="http") for p in Protocol]
    deny = cnp("deny-http", 1, egress=[admin_rule(DENY, TO_PROD, ports=named)])
    db = DB.model_copy(update={"ports": (ContainerPort(name="http", port=8080),)})
    assert not decide(world(deny, pods=(WEB, db)), WEB, db, 8080).allowed
    assert decide(world(deny, pods=(WEB, db)), WEB, db, 8081).allowed


def _flow(w: Cluster, source: Pod, destination: Pod) -> Flow:
    return Flow(
        source=pod_endpoint(w, source),
        destination=pod_endpoint(w, destination),
        protocol=Protocol.TCP,
        port=80,
    )


def test_equal_priorities_make_a_differing_verdict_order_dependent() -> None:
    accept = cnp("accept", 3, egress=[admin_rule(ACCEPT, TO_PROD)])
    deny = cnp("deny", 3, egress=[admin_rule(DENY, TO_PROD)])
    w = world(accept, deny)
    assert set(possible_verdicts(w, _flow(w, WEB, DB))) == {True, False}
    both_deny = world(deny, deny.model_copy(update={"name": "deny-2"}))
    assert set(possible_verdicts(both_deny, _flow(both_deny, WEB, DB))) == {False}


def test_policies_of_both_api_versions_have_no_defined_order() -> None:
    accept = cnp("accept", 1, egress=[admin_rule(ACCEPT, TO_PROD)])
    anp_deny = AdminPolicy(
        api_version=ANP_API_VERSION,
        kind="AdminNetworkPolicy",
        name="deny",
        tier=Tier.ADMIN,
        priority=50,
        subject=AdminSubject(pods=NamespacedPods(pod_selector=EVERYTHING)),
        egress=(admin_rule(DENY, TO_PROD),),
    )
    w = world(accept, anp_deny)
    assert evaluate(w, _flow(w, WEB, DB)).allowed
    assert set(possible_verdicts(w, _flow(w, WEB, DB))) == {True, False}


def test_ingress_rules_apply_at_the_destination() -> None:
    deny = cnp(
        "deny-from-dev",
        1,
        subject=AdminSubject(namespaces=selector(env="prod")),
        ingress=[admin_rule(DENY, AdminPeer(namespaces=selector(env="dev")))],
    )
    decision = decide(world(deny), WEB, DB)
    assert not decision.allowed and decision.ingress.decided_by is Layer.ADMIN_TIER
    assert decision.egress.allowed
    assert decide(world(deny), DB, WEB).allowed
    assert Direction.INGRESS is decision.ingress.direction
