"""Candidate repairs of one violated invariant, read off its counterexample.

A forbid is violated by an allowed flow: the rules that admitted it are narrowed (the peer
that matched excludes the violating endpoints, or the rule drops the port), or, when no
policy isolates the endpoint (nothing, or only the Baseline tier, decided it), a new policy
isolates it. Where admin tiers are in use, or the flow is node-local (which NetworkPolicy
cannot block), a new Admin tier Deny ahead of every Admin policy is a candidate too. A
require or reachable is violated by a blocked flow: its candidates open it (`openings`).
Candidates are only proposals: `netverify.engine.fix` proves each on the whole spec before
showing it.
"""

from collections.abc import Iterator
from functools import partial

from netverify.engine.fix.admin_deny import admin_deny
from netverify.engine.fix.alike import alike_rules, everywhere
from netverify.engine.fix.openings import require_candidates
from netverify.engine.fix.patterns import (
    admitting,
    describe,
    excluding,
    exclusions,
    matching_peers,
    matching_ports,
    may_admit,
    may_select_alike,
    only_forbidden,
    pods_selector,
    port_text,
)
from netverify.engine.fix.policies import free_policy_name, policy_named, policy_with
from netverify.model import (
    Cluster,
    Direction,
    Invariant,
    InvariantKind,
    LabelRequirement,
    LabelSelector,
    NetworkPolicy,
    PolicyPeer,
    PolicyRule,
)
from netverify.model.decision import FlowDecision, Layer
from netverify.model.fix import Candidate, ChangeKind, PolicyEdit
from netverify.model.flow import Endpoint, Flow, PodEndpoint
from netverify.model.invariants import EndpointPattern
from netverify.semantics.matching import selector_matches


def candidates(
    cluster: Cluster, invariant: Invariant, decision: FlowDecision, spec: tuple[Invariant, ...]
) -> list[Candidate]:
    """Repairs of `invariant`, whose counterexample is `decision` (allowed for a forbid,
    blocked for a require or reachable); `spec` supplies the flows a new isolating policy
    must keep admitting."""
    if invariant.kind is InvariantKind.FORBID:
        return list(_forbid_candidates(cluster, invariant, decision, spec))
    return list(require_candidates(cluster, invariant, decision))


def no_candidate_reason(decision: FlowDecision) -> str:
    """Why `candidates` proposed nothing for this counterexample."""
    for side in (decision.egress, decision.ingress):
        if not side.allowed and side.decided_by is Layer.ADMIN_TIER and side.admin_rule:
            return (
                f"{side.direction.value.lower()} is denied by the Admin tier "
                f"({side.admin_rule.rule}); fixes never weaken the cluster admin's guardrails"
            )
    return "no policy change netverify can propose decides this flow"


def _forbid_candidates(
    cluster: Cluster, invariant: Invariant, decision: FlowDecision, spec: tuple[Invariant, ...]
) -> Iterator[Candidate]:
    flow = decision.flow
    everywhere_candidates: list[Candidate] = []
    """The rule repairs made in every policy with the same rule, after all the others."""
    for side, pattern, own in (
        (decision.ingress, invariant.source, invariant.destination),
        (decision.egress, invariant.destination, invariant.source),
    ):
        if not side.governed:
            continue
        if side.decided_by in (None, Layer.BASELINE_TIER):
            yield from _isolating(cluster, invariant, flow, side.direction, spec)
            continue
        if side.decided_by is not Layer.NETWORK_POLICY:
            continue
        for rule_ref, peer_index in zip(side.allowed_by, side.allowed_by_peer, strict=True):
            policy = policy_named(cluster, rule_ref.policy.namespace, rule_ref.policy.name)
            if policy is None:
                continue
            repairs = partial(
                _rule_repairs, cluster, invariant, side.direction, peer_index, pattern, decision
            )
            yield from repairs(policy, rule_ref.index)
            alike = alike_rules(cluster, policy, side.direction, rule_ref.index, own, pattern)
            everywhere_candidates += everywhere(repairs, policy, rule_ref.index, alike)
    if cluster.admin_policies or decision.node_local:
        for side in (decision.ingress, decision.egress):
            if side.governed:
                yield from admin_deny(cluster, invariant, flow, side.direction)
    yield from everywhere_candidates


def _rule_repairs(
    cluster: Cluster,
    invariant: Invariant,
    direction: Direction,
    peer_index: int | None,
    pattern: EndpointPattern,
    decision: FlowDecision,
    policy: NetworkPolicy,
    index: int,
) -> list[Candidate]:
    """The repairs of the policy's rule that admitted the forbidden flow (through its peer
    `peer_index`, from an endpoint of `pattern`): its peers or its ports narrowed, else the
    rule removed."""
    flow = decision.flow
    other = flow.source if direction is Direction.INGRESS else flow.destination
    narrowed = [
        *_narrowed_peers(cluster, invariant, policy, direction, index, peer_index, pattern, other),
        *_narrowed_ports(invariant, policy, direction, index, decision),
    ]
    # A rule admitting the flow on its every port, from peers the pattern cannot exclude
    # (argo-cd's metrics rule from every namespace against a forbid of everything on that
    # port), can only go.
    return narrowed or [
        _rule_edit(
            invariant,
            ChangeKind.REMOVE_RULE,
            policy,
            direction,
            index,
            None,
            "removes the rule: neither its peers nor its ports can leave the forbidden flows out",
        )
    ]


def _narrowed_peers(
    cluster: Cluster,
    invariant: Invariant,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    peer_index: int | None,
    pattern: EndpointPattern,
    other: Endpoint,
) -> Iterator[Candidate]:
    rule = policy.rules(direction)[index]
    for on_namespace, requirement in exclusions(pattern, other):
        if peer_index is None:
            peer = excluding(
                PolicyPeer(namespace_selector=LabelSelector()), on_namespace, requirement
            )
            peers: tuple[PolicyPeer, ...] = (peer,)
        else:
            matched = rule.peers[peer_index]
            if matched.ip_block is not None or (
                on_namespace and matched.namespace_selector is None
            ):
                continue
            narrowed_peer = excluding(matched, on_namespace, requirement)
            if _selects_nothing(narrowed_peer, on_namespace) or (
                on_namespace and not _selects_a_namespace(cluster, narrowed_peer)
            ):
                yield _dropped_peer(invariant, policy, direction, index, peer_index, requirement)
                continue
            peers = tuple(
                narrowed_peer if i == peer_index else peer for i, peer in enumerate(rule.peers)
            )
        where = "namespace" if on_namespace else "pod"
        yield _rule_edit(
            invariant,
            ChangeKind.NARROW_PEER,
            policy,
            direction,
            index,
            rule.model_copy(update={"peers": peers}),
            f"the admitting {where} selector now admits {admitting(requirement, where)}",
        )


def _selects_a_namespace(cluster: Cluster, peer: PolicyPeer) -> bool:
    """Whether the peer's namespace selector selects an existing namespace. Narrowed so that
    it selects none (`role=client` less the namespace `client`), the peer admitted, of the
    existing namespaces, just the forbidden ones: it goes rather than narrows, as a person
    would write the fix."""
    assert peer.namespace_selector is not None
    selector = peer.namespace_selector
    return any(selector_matches(selector, namespace.labels) for namespace in cluster.namespaces)


def _selects_nothing(peer: PolicyPeer, on_namespace: bool) -> bool:
    """Whether the narrowed peer's selector can select no label set at all: it asked for
    label values the exclusion removes (`name=cortex` less `name not in {front-end}`), so
    the peer admitted only the forbidden endpoints, and goes rather than narrows."""
    selector = peer.namespace_selector if on_namespace else peer.pod_selector
    return selector is not None and not may_select_alike(selector, LabelSelector())


def _dropped_peer(
    invariant: Invariant,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    peer_index: int,
    requirement: LabelRequirement,
) -> Candidate:
    rule = policy.rules(direction)[index]
    peers = rule.peers[:peer_index] + rule.peers[peer_index + 1 :]
    if not peers:
        why = f"removes the rule, whose only peer admits just {describe(requirement)}"
        return _rule_edit(invariant, ChangeKind.REMOVE_RULE, policy, direction, index, None, why)
    why = f"drops the peer that admits just {describe(requirement)}"
    narrowed = rule.model_copy(update={"peers": peers})
    return _rule_edit(invariant, ChangeKind.NARROW_PEER, policy, direction, index, narrowed, why)


def _narrowed_ports(
    invariant: Invariant,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    decision: FlowDecision,
) -> Iterator[Candidate]:
    """The rule without the port entries that admit the flow, nor those whose every port the
    invariant forbids (kept, they would admit the forbidden peers there: a rule of ports
    443 and 8443 against a forbid of every port loses both, or goes, not one per
    counterexample)."""
    rule = policy.rules(direction)[index]
    flow = decision.flow
    kept = tuple(
        port
        for port in rule.ports
        if not may_admit(port, flow) and not only_forbidden(port, invariant)
    )
    if kept and len(kept) < len(rule.ports):
        also = [
            port_text(port) for port in rule.ports if port not in kept and not may_admit(port, flow)
        ]
        why = f"the admitting rule no longer names {flow.protocol.value}/{flow.port}"
        if also:
            why += f" nor {', '.join(also)}, which the invariant forbids too"
        yield _rule_edit(
            invariant,
            ChangeKind.NARROW_PORTS,
            policy,
            direction,
            index,
            rule.model_copy(update={"ports": kept}),
            why,
        )


def _isolating(
    cluster: Cluster,
    invariant: Invariant,
    flow: Flow,
    direction: Direction,
    spec: tuple[Invariant, ...],
) -> Iterator[Candidate]:
    """A new policy isolating the unprotected end: admitting everything but the forbidden
    endpoints, or only what the spec's require and reachable invariants need."""
    own = flow.destination if direction is Direction.INGRESS else flow.source
    if not isinstance(own, PodEndpoint) or cluster.namespace(own.namespace.name) is None:
        # A namespace that could be created has no name yet: a policy written for the
        # witness's stand-in name would govern nothing.
        return
    own_pattern = invariant.destination if direction is Direction.INGRESS else invariant.source
    other_pattern = invariant.source if direction is Direction.INGRESS else invariant.destination
    other = flow.source if direction is Direction.INGRESS else flow.destination
    selector = pods_selector(own_pattern, own) or LabelSelector()
    name = free_policy_name(cluster, own.namespace.name, f"isolate-{invariant.name}")
    isolating = partial(_new_policy, invariant, own.namespace.name, name, selector, direction)
    for on_namespace, requirement in exclusions(other_pattern, other):
        peer = excluding(PolicyPeer(namespace_selector=LabelSelector()), on_namespace, requirement)
        yield isolating(
            (PolicyRule(peers=(peer,)),),
            f"isolates the unprotected endpoints and admits {admitting(requirement)}",
        )
    needed = tuple(
        rule
        for kept in spec
        if kept.kind is not InvariantKind.FORBID
        and (rule := _admitting_rule(cluster, kept, direction, own, selector)) is not None
    )
    yield isolating(
        needed, "isolates the unprotected endpoints and admits only what the spec requires"
    )


def _admitting_rule(
    cluster: Cluster,
    kept: Invariant,
    direction: Direction,
    own: PodEndpoint,
    selected: LabelSelector,
) -> PolicyRule | None:
    """The rule that admits `kept`'s flows on `own`'s side, or None when `kept` is about
    other endpoints: another namespace, or pods the new policy's `selected` pods cannot be
    (a rule for them would only admit flows nobody asked for)."""
    own_pattern = kept.destination if direction is Direction.INGRESS else kept.source
    other_pattern = kept.source if direction is Direction.INGRESS else kept.destination
    if own_pattern.namespace_name not in (None, own.namespace.name):
        return None
    kept_pods = _pattern_pods(cluster, own_pattern)
    if kept_pods is not None and not may_select_alike(selected, kept_pods):
        return None
    return PolicyRule(peers=matching_peers(other_pattern, None), ports=matching_ports(kept.ports))


def _pattern_pods(cluster: Cluster, pattern: EndpointPattern) -> LabelSelector | None:
    """The labels a pattern's pods carry: its pod selector, or the named pod's labels (None:
    any pod, or a name that is not one pod)."""
    if pattern.pod_name is None:
        return pattern.pod_selector
    named = [
        pod
        for pod in cluster.pods
        if pod.name == pattern.pod_name and pod.namespace == pattern.namespace_name
    ]
    return LabelSelector(match_labels=dict(named[0].labels)) if len(named) == 1 else None


def _rule_edit(
    invariant: Invariant,
    change: ChangeKind,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    rule: PolicyRule | None,
    why: str,
) -> Candidate:
    """The policy with rule `index` of `direction` replaced, or removed when `rule` is None."""
    rules = list(policy.rules(direction))
    if rule is None:
        del rules[index]
    else:
        rules[index] = rule
    field = "ingress" if direction is Direction.INGRESS else "egress"
    after = policy.model_copy(update={field: tuple(rules)})
    edit = PolicyEdit(before=policy, after=after, direction=direction, rule_index=index)
    return Candidate(invariant=invariant.name, change=change, edits=(edit,), why=why)


def _new_policy(
    invariant: Invariant,
    namespace: str,
    name: str,
    selector: LabelSelector,
    direction: Direction,
    rules: tuple[PolicyRule, ...],
    why: str,
) -> Candidate:
    policy = policy_with(namespace, name, selector, direction, rules)
    edit = PolicyEdit(before=None, after=policy, direction=direction, rule_index=None)
    return Candidate(invariant=invariant.name, change=ChangeKind.ADD_POLICY, edits=(edit,), why=why)
