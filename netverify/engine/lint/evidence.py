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
    NetworkPolicy,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
    Protocol,
)
from netverify.semantics import evaluate, ip_block_contains, peer_matches, policy_selects

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
        found += _take(
            pod
            for pod in context.pods
            if peer_matches(peer, policy.namespace, pod, context.settings)
        )
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
    no other rule of a policy selecting the same subject does, with their subject."""
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
                decision = evaluate(local, flow, context.settings)
                side = decision.ingress if direction is Direction.INGRESS else decision.egress
                if side.allowed_by == (ref,):
                    yield subject, flow


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
