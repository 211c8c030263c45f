"""NetworkPolicies as Z3 terms over one symbolic flow: "this flow is allowed" meaning
exactly what the reference evaluator means.

Every side of a flow is decided by an ordered list of policy layers (as in
`netverify.semantics.evaluator`): the first layer that has an opinion decides, and a side no
layer has an opinion on is allowed. Today the only layer is NetworkPolicy; AdminNetworkPolicy
(before it) and BaselineAdminNetworkPolicy (after it) become further entries of `_layers`.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import z3

from netverify.encoding.capi import at_least, at_most, conj, disj, equals, negate
from netverify.encoding.selectors import in_ip_block, selector_term
from netverify.encoding.terms import SymbolicEndpoint, SymbolicFlow, protocol_code
from netverify.encoding.universe import Universe
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    Frozen,
    NetworkPolicy,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Protocol,
    Settings,
)

REMEMBERED_KEYS = 100_000
"""How many `content_key`s are kept before they are all forgotten (a few per policy)."""

_CONTENT_KEYS: dict[int, tuple[Frozen, str]] = {}


def content_key(value: Frozen) -> str:
    """The value's JSON, the key its term is filed under (`PolicyEncoding._once`: equal
    selectors, peers and ports share a term). Remembered by the value's id, the value kept
    so that its id is not reused (a frozen value's JSON does not change): the encodings of
    `fix`'s candidates read the same thousands of policies, and writing a value as JSON
    costs ten lookups."""
    known = _CONTENT_KEYS.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    if len(_CONTENT_KEYS) >= REMEMBERED_KEYS:
        _CONTENT_KEYS.clear()
    key = value.model_dump_json()
    _CONTENT_KEYS[id(value)] = (value, key)
    return key


def namespace_is(universe: Universe, endpoint: SymbolicEndpoint, name: str) -> z3.BoolRef:
    """The endpoint's namespace is called `name`."""
    code = universe.namespace_labels.code(NAMESPACE_NAME_LABEL, name)
    return equals(endpoint.namespace_labels[NAMESPACE_NAME_LABEL], code)


def governed(endpoint: SymbolicEndpoint) -> z3.BoolRef:
    """A pod that NetworkPolicy can select (not an address, not hostNetwork)."""
    return conj([endpoint.is_pod, negate(endpoint.host_network)])


@dataclass(frozen=True)
class LayerTerms:
    """A layer's opinion on one side of the symbolic flow."""

    decides: z3.BoolRef
    allows: z3.BoolRef


class PolicyEncoding:
    """One set of policies over one symbolic flow (a cluster's, or one side of a diff)."""

    def __init__(
        self,
        policies: Sequence[NetworkPolicy],
        universe: Universe,
        flow: SymbolicFlow,
        settings: Settings,
        memo: dict[tuple[str, ...], z3.BoolRef] | None = None,
        admits_memo: dict[tuple[int, Direction], tuple[NetworkPolicy, z3.BoolRef]] | None = None,
    ) -> None:
        """`memo` is another encoding's, over the same universe and flow, to share terms
        with (see `_once`); so is `admits_memo`, kept only by encodings that share it
        (see `_policy_admits`)."""
        self.policies = tuple(policies)
        self.universe = universe
        self.flow = flow
        self.settings = settings
        self._layers: tuple[Callable[[Direction], LayerTerms], ...] = (self.network_policy_layer,)
        self.memo: dict[tuple[str, ...], z3.BoolRef] = {} if memo is None else memo
        self.admits_memo = admits_memo

    def _once(self, key: tuple[str, ...], build: Callable[[], z3.BoolRef]) -> z3.BoolRef:
        """One term per distinct selector, peer or port: thousands of policies repeat a few
        dozen of them, and every z3py term costs."""
        term = self.memo.get(key)
        if term is None:
            term = self.memo[key] = build()
        return term

    def namespace_is(self, endpoint: SymbolicEndpoint, name: str) -> z3.BoolRef:
        return self._once(
            ("namespace", endpoint.role, name), lambda: namespace_is(self.universe, endpoint, name)
        )

    @cached_property
    def allowed(self) -> z3.BoolRef:
        """Egress at the source and ingress at the destination both allow the flow."""
        return z3.And(self.side_allowed(Direction.EGRESS), self.side_allowed(Direction.INGRESS))

    def side_allowed(self, direction: Direction) -> z3.BoolRef:
        subject = self._subject(direction)
        decision: z3.BoolRef = z3.BoolVal(True)
        for layer in reversed(self._layers):
            terms = layer(direction)
            decision = z3.If(terms.decides, terms.allows, decision)
        return z3.Or(z3.Not(governed(subject)), decision)

    def _subject(self, direction: Direction) -> SymbolicEndpoint:
        return self.flow.destination if direction is Direction.INGRESS else self.flow.source

    def _peer(self, direction: Direction) -> SymbolicEndpoint:
        return self.flow.source if direction is Direction.INGRESS else self.flow.destination

    def policy_selects(self, policy: NetworkPolicy, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        key = ("selects", endpoint.role, policy.namespace, content_key(policy.pod_selector))
        return self._once(
            key,
            lambda: conj(
                [
                    governed(endpoint),
                    self.namespace_is(endpoint, policy.namespace),
                    selector_term(
                        policy.pod_selector, endpoint.pod_labels, self.universe.pod_labels
                    ),
                ]
            ),
        )

    def network_policy_layer(self, direction: Direction) -> LayerTerms:
        """NetworkPolicy: a selected endpoint is isolated and needs some rule to admit it."""
        subject = self._subject(direction)
        policies = [p for p in self.policies if direction in p.policy_types]
        selects = [self.policy_selects(policy, subject) for policy in policies]
        admits = [
            self._policy_admits(policy, selected, direction)
            for policy, selected in zip(policies, selects, strict=True)
            if policy.rules(direction)
        ]
        return LayerTerms(decides=disj(selects), allows=disj(admits))

    def _policy_admits(
        self, policy: NetworkPolicy, selected: z3.BoolRef, direction: Direction
    ) -> z3.BoolRef:
        """The policy selects the subject and a rule of it admits the flow. With an
        `admits_memo`, kept per policy object (held, so that its id is not reused): the
        encodings `fix` makes of one cluster's candidates (`with_policies`) share every
        policy a candidate leaves alone, thousands. Not in a fresh encoding: a term built
        again there takes term ids, and Z3 breaks ties between models by them, so the
        flows `prove` shows would change."""
        memo = self.admits_memo
        known = None if memo is None else memo.get((id(policy), direction))
        if known is not None and known[0] is policy:
            return known[1]
        rules = policy.rules(direction)
        term = conj([selected, disj([self.rule_admits(policy, rule, direction) for rule in rules])])
        if memo is not None:
            memo[id(policy), direction] = (policy, term)
        return term

    def rule_admits(
        self, policy: NetworkPolicy, rule: PolicyRule, direction: Direction
    ) -> z3.BoolRef:
        peer = self._peer(direction)
        terms = []
        if rule.peers:
            terms.append(
                disj([self.peer_matches(entry, policy.namespace, peer) for entry in rule.peers])
            )
        if rule.ports:
            terms.append(disj([self.port_matches(entry) for entry in rule.ports]))
        return conj(terms)

    def peer_matches(
        self, peer: PolicyPeer, policy_namespace: str, endpoint: SymbolicEndpoint
    ) -> z3.BoolRef:
        key = ("peer", endpoint.role, policy_namespace, content_key(peer))
        return self._once(key, lambda: self._peer_matches(peer, policy_namespace, endpoint))

    def _peer_matches(
        self, peer: PolicyPeer, policy_namespace: str, endpoint: SymbolicEndpoint
    ) -> z3.BoolRef:
        if peer.ip_block is not None:
            in_block = conj([endpoint.has_ip, in_ip_block(endpoint.ip, peer.ip_block)])
            if self.settings.ip_block_matches_pods:
                return in_block
            return conj([negate(endpoint.is_pod), in_block])
        in_namespace = (
            self.namespace_is(endpoint, policy_namespace)
            if peer.namespace_selector is None
            else selector_term(
                peer.namespace_selector,
                endpoint.namespace_labels,
                self.universe.namespace_labels,
            )
        )
        terms = [governed(endpoint), in_namespace]
        if peer.pod_selector is not None:
            terms.append(
                selector_term(peer.pod_selector, endpoint.pod_labels, self.universe.pod_labels)
            )
        return conj(terms)

    def port_matches(self, entry: PolicyPort) -> z3.BoolRef:
        return self._once(("port", content_key(entry)), lambda: self._port_matches(entry))

    def _port_matches(self, entry: PolicyPort) -> z3.BoolRef:
        flow = self.flow
        protocol = protocol_code(entry.protocol)
        same_protocol = equals(flow.protocol, protocol)
        if entry.port_range is not None:
            return conj(
                [
                    same_protocol,
                    at_least(flow.port, entry.port_range.start),
                    at_most(flow.port, entry.port_range.end),
                ]
            )
        if entry.named_port is not None:
            return conj([same_protocol, self.has_named_port(entry.named_port, [entry.protocol])])
        return same_protocol

    def has_named_port(self, name: str, protocols: Iterable[Protocol]) -> z3.BoolRef:
        """The destination is a pod whose port `name` (of one of `protocols`) is the flow's
        port, with the flow's protocol."""
        destination = self.flow.destination
        return z3.And(
            destination.is_pod,
            z3.Or(
                [
                    z3.And(
                        named_port.defined,
                        named_port.number == self.flow.port,
                        self.flow.protocol == protocol_code(protocol),
                    )
                    for (port_name, protocol), named_port in destination.named_ports.items()
                    if port_name == name and protocol in protocols
                ]
            ),
        )
