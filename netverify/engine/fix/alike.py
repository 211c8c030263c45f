"""The same rule in other policies: one repair written once per policy.

Generated and templated clusters repeat a rule across the policies of many apps (every prod
frontend admits 0.0.0.0/0 except 10.0.0.0/8 on its http port). A forbid violated through
one of them is violated through each: repaired one policy at a time, the next
counterexample names the next policy, and a cluster with more such policies than `fix`
combines changes (`MAX_DEPTH`) gets no fix at all, where a person would edit them all. So a
candidate that edits a rule also comes as the same edit of every other policy whose rule is
the same and that selects endpoints of the invariant.
"""

from collections.abc import Callable, Sequence

from netverify.model import (
    Cluster,
    Direction,
    IPBlock,
    NetworkPolicy,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
)
from netverify.model.fix import Candidate
from netverify.model.invariants import EndpointPattern
from netverify.semantics.matching import selector_matches
from netverify.semantics.patterns import endpoint_matches


def alike_rules(
    cluster: Cluster,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    own: EndpointPattern,
    forbidden: EndpointPattern,
) -> list[tuple[NetworkPolicy, int]]:
    """The other policies with a rule of `direction` like `policy`'s rule `index`, and that
    rule's index, where the policy selects an existing pod that `own` (the invariant's
    endpoint on the policy's side) matches: the rule admits forbidden flows there too. Like:
    equal, but that ipBlocks inside the forbidden addresses (`forbidden`, the other end)
    may differ (partners' networks, each admitted on the same ports)."""
    shape = _shape(policy.rules(direction)[index], forbidden)
    found = []
    for other in cluster.policies:
        if other is policy or direction not in other.policy_types or _same(other, policy):
            continue
        rules = other.rules(direction)
        position = next(
            (
                k
                for k, rule in enumerate(rules)
                if len(rule.peers) == len(shape.peers)
                and len(rule.ports) == len(shape.ports)
                and _shape(rule, forbidden) == shape
            ),
            None,
        )
        if position is not None and _selects(cluster, other, own):
            found.append((other, position))
    return found


def _same(other: NetworkPolicy, policy: NetworkPolicy) -> bool:
    """Equal policies (a copy of `policy`): compared field by field only when their names
    are (a cluster's thousands of policies each compared whole took a tenth of a second)."""
    return other.namespace == policy.namespace and other.name == policy.name and other == policy


def _shape(rule: PolicyRule, forbidden: EndpointPattern) -> PolicyRule:
    """The rule with every ipBlock peer inside the forbidden addresses as those addresses."""
    network = forbidden.ip
    if network is None or not any(peer.ip_block is not None for peer in rule.peers):
        return rule
    peers = tuple(
        PolicyPeer(ip_block=IPBlock(cidr=network))
        if peer.ip_block is not None
        and peer.ip_block.cidr.version == network.version
        and peer.ip_block.cidr.subnet_of(network)  # type: ignore[arg-type]
        else peer
        for peer in rule.peers
    )
    return rule.model_copy(update={"peers": peers})


def _selects(cluster: Cluster, policy: NetworkPolicy, own: EndpointPattern) -> bool:
    namespace = cluster.namespace(policy.namespace)
    if namespace is None:
        return False
    return any(
        selector_matches(policy.pod_selector, pod.labels)
        and endpoint_matches(own, PodEndpoint(namespace=namespace, pod=pod, ip=ip))
        for pod in cluster.pods_in(policy.namespace)
        for ip in pod.ips or (None,)
    )


def everywhere(
    repairs: Callable[[NetworkPolicy, int], Sequence[Candidate]],
    policy: NetworkPolicy,
    index: int,
    alike: list[tuple[NetworkPolicy, int]],
) -> list[Candidate]:
    """Each of `repairs(policy, index)` made in the alike policies too, as one candidate
    (`repairs` makes the same edits of equal rules, in the same order)."""
    if not alike:
        return []
    others = [repairs(other, position) for other, position in alike]
    combined = []
    for k, first in enumerate(repairs(policy, index)):
        if any(len(made) <= k or made[k].change is not first.change for made in others):
            continue
        edits = (*first.edits, *(edit for made in others for edit in made[k].edits))
        count = len(alike)
        combined.append(
            first.model_copy(
                update={
                    "edits": edits,
                    "why": f"{first.why}; and the same in the {count} other "
                    f"polic{'y' if count == 1 else 'ies'} with a rule like it",
                }
            )
        )
    return combined
