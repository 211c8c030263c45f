"""Concrete evidence that a rule or policy matters: a flow between existing endpoints that
only this rule admits. Evidence settles "not redundant" without the solver; only rules and
policies without evidence are handed to Z3 (which alone can prove redundancy)."""

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address

from netverify.engine.lint.context import LintContext
from netverify.model import (
    Cluster,
    Direction,
    Endpoint,
    ExternalEndpoint,
    Flow,
    IPAddress,
    LabelSelector,
    NetworkPolicy,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
    Protocol,
    RuleRef,
)
from netverify.semantics import evaluate, ip_block_contains, policy_selects

SAMPLES = 3
"""How many subjects, peers and ports are tried per rule."""
EXAMPLE_ADDRESS = IPv4Address("203.0.113.1")


def _take(items: Iterator[Endpoint], count: int = SAMPLES) -> list[Endpoint]:
    taken: list[Endpoint] = []
    for item in items:
        taken.append(item)
        if len(taken) == count:
            break
    return taken


def _block_address(peer: PolicyPeer) -> IPAddress | None:
    block = peer.ip_block
    assert block is not None
    network = block.cidr
    for candidate in (network.network_address, network.broadcast_address):
        if ip_block_contains(block, candidate):
            return candidate
    for excepted in block.excepts:
        after = int(excepted.broadcast_address) + 1
        address: IPAddress = IPv4Address(after) if network.version == 4 else IPv6Address(after)
        if address in network and ip_block_contains(block, address):
            return address
    return None


def _peers(context: LintContext, policy: NetworkPolicy, rule: PolicyRule) -> list[Endpoint]:
    if not rule.peers:
        return [ExternalEndpoint(ip=EXAMPLE_ADDRESS), *_take(iter(context.pods))]
    found: list[Endpoint] = []
    for peer in rule.peers:
        if peer.ip_block is not None:
            address = _block_address(peer)
            if address is not None:
                found.append(ExternalEndpoint(ip=address))
            continue
        key = (policy.namespace, peer.model_dump_json())
        if key not in context.peer_samples:
            context.peer_samples[key] = list(context.peer_pods(peer, policy.namespace)[:SAMPLES])
        found += context.peer_samples[key]
    return found


def _ports(rule: PolicyRule, destination: Endpoint) -> list[tuple[Protocol, int]]:
    if not rule.ports:
        return [(Protocol.TCP, 1)]
    ports: list[tuple[Protocol, int]] = []
    for entry in rule.ports:
        if entry.port_range is not None:
            ports.append((entry.protocol, entry.port_range.start))
        elif entry.named_port is not None:
            if isinstance(destination, PodEndpoint):
                ports += [
                    (entry.protocol, port.port)
                    for port in destination.pod.ports
                    if port.name == entry.named_port and port.protocol == entry.protocol
                ]
        else:
            ports.append((entry.protocol, 1))
    return ports[:SAMPLES]


def sole_admissions(
    context: LintContext, policy: NetworkPolicy, direction: Direction, index: int
) -> Iterator[tuple[PodEndpoint, Flow]]:
    """Flows between existing endpoints (or an example address) that rule `index` admits and
    no other rule of a policy selecting the same subject does, with their subject; a pod
    without a known address at some address `podCIDRs` may give it (an ipBlock peer may
    match it there)."""
    rule = policy.rules(direction)[index]
    ref = context.rule_ref(policy, direction, index)
    local = Cluster.model_construct(policies=tuple(context.namespace_policies(policy.namespace)))
    subjects = context.selected(policy)[:SAMPLES]
    peers = _peers(context, policy, rule)
    for subject in subjects:
        for peer in peers:
            source, destination = (
                (peer, subject) if direction is Direction.INGRESS else (subject, peer)
            )
            if source == destination:
                continue
            for protocol, port in _ports(rule, destination):
                flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
                for addressed in context.addresses.flows(flow):
                    decision = evaluate(local, addressed, context.settings)
                    side = decision.ingress if direction is Direction.INGRESS else decision.egress
                    if side.allowed_by == (ref,):
                        yield subject, addressed


def rule_matters(
    context: LintContext, policy: NetworkPolicy, direction: Direction, index: int
) -> bool:
    return next(sole_admissions(context, policy, direction, index), None) is not None


def policy_matters(context: LintContext, policy: NetworkPolicy) -> bool:
    """Removing the policy changes a flow between existing endpoints: it alone isolates a pod
    and does not admit everything, or one of its rules alone admits a flow to a pod that
    another policy isolates too."""
    others = [p for p in context.namespace_policies(policy.namespace) if p is not policy]
    for direction in policy.policy_types:
        rivals = [p for p in others if direction in p.policy_types]
        selected = context.selected(policy)
        admits_all = any(not r.peers and not r.ports for r in policy.rules(direction))
        shared = [pod for pod in selected if any(policy_selects(p, pod) for p in rivals)]
        if not admits_all and len(shared) < len(selected):
            return True
        for index in range(len(policy.rules(direction))):
            for subject, _ in sole_admissions(context, policy, direction, index):
                if any(subject is pod for pod in shared):
                    return True
    return False


def selects_superset(wide: LabelSelector, narrow: LabelSelector) -> bool:
    """Every requirement of `wide` is one of `narrow`'s: what `narrow` matches, `wide` does."""
    return all(narrow.match_labels.get(k) == v for k, v in wide.match_labels.items()) and all(
        requirement in narrow.match_expressions for requirement in wide.match_expressions
    )


def _rule_covers(wide: PolicyRule, narrow: PolicyRule) -> bool:
    """Syntactically: every peer and port of `narrow` is one of `wide`'s (or `wide` has none,
    which means all)."""
    peers = not wide.peers or (bool(narrow.peers) and all(p in wide.peers for p in narrow.peers))
    ports = not wide.ports or (bool(narrow.ports) and all(p in wide.ports for p in narrow.ports))
    return peers and ports


def syntactic_cover(
    context: LintContext, policy: NetworkPolicy, direction: Direction, index: int
) -> RuleRef | None:
    """A rule of a policy of the same namespace that selects at least the same pods and whose
    peers and ports include this rule's, read off the manifests (a proof without the solver)."""
    rule = policy.rules(direction)[index]
    others = context.namespace_policies(policy.namespace)
    for other, _, other_index, candidate in context.rules(others, direction, active=True):
        if other is policy and other_index == index:
            continue
        if selects_superset(other.pod_selector, policy.pod_selector) and _rule_covers(
            candidate, rule
        ):
            return context.rule_ref(other, direction, other_index)
    return None


def syntactic_policy_cover(context: LintContext, policy: NetworkPolicy) -> list[str] | None:
    """Other policies that isolate at least the same pods in each of its directions and
    cover each of its rules syntactically (a policy that covers a rule and isolates is not
    joined by another that only isolates); None when the manifests do not show it."""
    covering: set[str] = set()
    for direction in policy.policy_types:
        isolating = [
            other
            for other in context.namespace_policies(policy.namespace)
            if other is not policy
            and direction in other.policy_types
            and selects_superset(other.pod_selector, policy.pod_selector)
        ]
        if not isolating:
            return None
        for index in range(len(policy.rules(direction))):
            cover = syntactic_cover(context, policy, direction, index)
            if cover is None or cover.policy.name == policy.name:
                return None
            covering.add(f"{cover.policy.namespace}/{cover.policy.name}")
        names = [f"{other.namespace}/{other.name}" for other in isolating]
        if not covering.intersection(names):
            covering.add(names[0])
    return sorted(covering)
