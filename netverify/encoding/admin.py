"""Admin policy tiers as Z3 terms over one symbolic flow, meaning what the reference evaluator
means (`netverify.semantics.evaluator`, `netverify.semantics.admin`).

Where the API leaves the order of a tier's policies open (equal priorities; policies of both
API versions) the terms say what *some* order does: `may_allow` and `may_block` then both
hold on a flow whose verdict depends on the order, and prove reports such a flow as
`unknown`. With a defined order exactly one policy can come first and the two are each
other's negation.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import z3

from netverify.encoding.capi import conj, disj, negate
from netverify.encoding.classes import PodClass
from netverify.encoding.policies import LayerTerms, PolicyEncoding, governed
from netverify.encoding.selectors import in_network, selector_term
from netverify.encoding.terms import SymbolicEndpoint
from netverify.encoding.universe import ip_number
from netverify.model import (
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    Direction,
    LabelSelector,
    NamespacedPods,
    Tier,
)
from netverify.semantics import selector_matches
from netverify.semantics.admin import selects_every_node


@dataclass(frozen=True)
class TierTerms:
    """What the first matching policy of a tier can do to one side of the flow."""

    can_accept: z3.BoolRef
    can_deny: z3.BoolRef
    can_continue: z3.BoolRef
    """No policy matched, or the first one's rule is a Pass."""


@dataclass(frozen=True)
class SideTerms:
    may_allow: z3.BoolRef
    may_block: z3.BoolRef


def on_node_choice(endpoint: SymbolicEndpoint, selector: LabelSelector) -> z3.BoolRef:
    """Whether the endpoint, a host-network pod whose node netverify cannot tell, runs on a
    node the `nodes` selector selects: the solver's free choice."""
    return z3.Bool(f"{endpoint.role}.on_node[{selector.model_dump_json()}]")


class AdminEncoding:
    """The Admin and Baseline tiers around a cluster's NetworkPolicy encoding."""

    def __init__(
        self, cluster: Cluster, classes: Sequence[PodClass], policies: PolicyEncoding
    ) -> None:
        self.cluster = cluster
        self.classes = tuple(classes)
        self.policies = policies
        self.universe = policies.universe
        self.flow = policies.flow

    # -- sides -----------------------------------------------------------------------------

    def side(self, direction: Direction, node_local: bool) -> SideTerms:
        """Admin tier -> NetworkPolicy -> Baseline tier -> allowed, for one side.

        `node_local`: the flow is node-local, which NetworkPolicy never blocks (admin tiers
        can: see `netverify.semantics.evaluator.is_node_local`)."""
        network_policy: LayerTerms = self.policies.network_policy_layer(direction)
        admin, baseline = self.tier(Tier.ADMIN, direction), self.tier(Tier.BASELINE, direction)
        np_allows = z3.BoolVal(True) if node_local else network_policy.allows
        rest_allow = z3.If(
            network_policy.decides, np_allows, z3.Or(baseline.can_accept, baseline.can_continue)
        )
        rest_block = z3.If(network_policy.decides, z3.Not(np_allows), baseline.can_deny)
        subject = self.flow.destination if direction is Direction.INGRESS else self.flow.source
        is_governed = governed(subject)
        return SideTerms(
            may_allow=z3.Or(
                z3.Not(is_governed), admin.can_accept, z3.And(admin.can_continue, rest_allow)
            ),
            may_block=z3.And(
                is_governed, z3.Or(admin.can_deny, z3.And(admin.can_continue, rest_block))
            ),
        )

    def flow_verdict(
        self, allowed: bool, self_traffic: z3.BoolRef, same_node: z3.BoolRef | None
    ) -> z3.BoolRef:
        """The flow may be allowed (`allowed`) or may be blocked (not `allowed`): both sides,
        unless it is a pod's traffic to itself; node-local traffic (`same_node`, None when
        no flow can be node-local) passes NetworkPolicy whatever it says."""

        def both_sides(node_local: bool) -> z3.BoolRef:
            sides = [self.side(direction, node_local) for direction in Direction]
            if allowed:
                return z3.And([side.may_allow for side in sides])
            return z3.Or([side.may_block for side in sides])

        verdict = both_sides(node_local=False)
        if same_node is not None:
            verdict = z3.If(same_node, both_sides(node_local=True), verdict)
        if allowed:
            return z3.Or(self_traffic, verdict)
        return z3.And(z3.Not(self_traffic), verdict)

    # -- tiers -----------------------------------------------------------------------------

    def tier(self, tier: Tier, direction: Direction) -> TierTerms:
        return self._tiers[(tier, direction)]

    @cached_property
    def _tiers(self) -> dict[tuple[Tier, Direction], TierTerms]:
        return {
            (tier, direction): self._tier_terms(self.cluster.tier(tier), direction)
            for tier in Tier
            for direction in Direction
        }

    def _tier_terms(self, policies: Sequence[AdminPolicy], direction: Direction) -> TierTerms:
        """Some policy that no matching policy must precede comes first (`possible_firsts`)."""
        matched: list[z3.BoolRef] = []
        actions: list[dict[AdminAction, z3.BoolRef]] = []
        for policy in policies:
            selects = self.subject_selects(policy.subject, direction)
            first_rule = self._first_rule_actions(policy.rules(direction), direction)
            matched.append(conj([selects, disj(list(first_rule.values()))]))
            actions.append(first_rule)
        outcomes: dict[AdminAction, list[z3.BoolRef]] = {action: [] for action in AdminAction}
        for index, policy in enumerate(policies):
            before = [
                negate(matched[other])
                for other, earlier in enumerate(policies)
                if earlier.precedes(policy)
            ]
            first = conj([matched[index], *before])
            for action, term in actions[index].items():
                outcomes[action].append(conj([first, term]))
        nothing = conj([negate(term) for term in matched])
        return TierTerms(
            can_accept=disj(outcomes[AdminAction.ACCEPT]),
            can_deny=disj(outcomes[AdminAction.DENY]),
            can_continue=disj([*outcomes[AdminAction.PASS], nothing]),
        )

    def _first_rule_actions(
        self, rules: Sequence[AdminRule], direction: Direction
    ) -> dict[AdminAction, z3.BoolRef]:
        """For each action, "the first rule that matches has this action"."""
        by_action: dict[AdminAction, list[z3.BoolRef]] = {action: [] for action in AdminAction}
        earlier: list[z3.BoolRef] = []
        for rule in rules:
            matches = self.rule_matches(rule, direction)
            by_action[rule.action].append(conj([matches, *earlier]))
            earlier.append(negate(matches))
        return {action: disj(terms) for action, terms in by_action.items()}

    # -- matching --------------------------------------------------------------------------

    def _subject(self, direction: Direction) -> SymbolicEndpoint:
        return self.flow.destination if direction is Direction.INGRESS else self.flow.source

    def _peer(self, direction: Direction) -> SymbolicEndpoint:
        return self.flow.source if direction is Direction.INGRESS else self.flow.destination

    def subject_selects(self, subject: AdminSubject, direction: Direction) -> z3.BoolRef:
        endpoint = self._subject(direction)
        if subject.namespaces is not None:
            return self._namespaces(subject.namespaces, endpoint)
        assert subject.pods is not None
        return self._pods(subject.pods, endpoint)

    def rule_matches(self, rule: AdminRule, direction: Direction) -> z3.BoolRef:
        peer = self._peer(direction)
        terms = [disj([self.peer_matches(entry, peer) for entry in rule.peers])]
        if rule.ports:
            terms.append(disj([self.policies.port_matches(entry) for entry in rule.ports]))
        return conj(terms)

    def _namespaces(self, selector: LabelSelector, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        return conj(
            [
                governed(endpoint),
                selector_term(selector, endpoint.namespace_labels, self.universe.namespace_labels),
            ]
        )

    def _pods(self, pods: NamespacedPods, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        return conj(
            [
                self._namespaces(pods.namespace_selector, endpoint),
                selector_term(pods.pod_selector, endpoint.pod_labels, self.universe.pod_labels),
            ]
        )

    def peer_matches(self, peer: AdminPeer, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        if peer.networks:
            return conj(
                [endpoint.has_ip, disj([in_network(endpoint.ip, net) for net in peer.networks])]
            )
        if peer.nodes is not None:
            return self._nodes(peer.nodes, endpoint)
        if peer.domain_names:
            return z3.BoolVal(False)
        if peer.namespaces is not None:
            return self._namespaces(peer.namespaces, endpoint)
        assert peer.pods is not None
        return self._pods(peer.pods, endpoint)

    def _nodes(self, selector: LabelSelector, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """The endpoint is a selected node: an address of one (an external address, or a
        host-network pod not bound by `nodeName`), or a host-network pod bound to one.

        A host-network pod whose node is unknown (bound to a node that was not loaded, or
        unbound at no loaded node's address) may be on any node: whether it matches is left
        to the solver, one free choice per selector, so a proof covers every node."""
        selected = [node for node in self.cluster.nodes if selector_matches(selector, node.labels)]
        addresses = [ip_number(address) for node in selected for address in node.addresses]
        all_addresses = [ip_number(a) for node in self.cluster.nodes for a in node.addresses]
        unbound: list[int] = []
        bound_to_selected: list[int] = []
        bound_to_unknown: list[int] = []
        for host in (c for c in self.classes if c.host_network):
            # NOTE: with `nodes` peers, host-network classes are split by node (one name).
            for name in host.node_names if host.node_names is not None else ():
                node = self.cluster.node(name)
                if node is None:
                    bound_to_unknown.append(host.index)
                elif node in selected:
                    bound_to_selected.append(host.index)
            if host.node_names is None:
                unbound.append(host.index)
        in_class = self._class_in
        by_address = z3.And(
            z3.Or(z3.Not(endpoint.is_pod), in_class(endpoint, unbound)),
            endpoint.has_ip,
            z3.Or([endpoint.ip == address for address in addresses]),
        )
        unknown_node = z3.Or(
            in_class(endpoint, bound_to_unknown),
            z3.And(
                in_class(endpoint, unbound),
                z3.Not(z3.And(endpoint.has_ip, z3.Or([endpoint.ip == a for a in all_addresses]))),
            ),
        )
        choice = (
            z3.BoolVal(True) if selects_every_node(selector) else on_node_choice(endpoint, selector)
        )
        return z3.Or(
            by_address,
            in_class(endpoint, bound_to_selected),
            z3.And(unknown_node, choice),
        )

    @staticmethod
    def _class_in(endpoint: SymbolicEndpoint, indices: Sequence[int]) -> z3.BoolRef:
        return z3.And(endpoint.is_pod, z3.Or([endpoint.pod_class == index for index in indices]))
