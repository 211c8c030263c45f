"""Checks of admin policies (ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy) read off the manifests: Pass rules in the Baseline tier, and the
syntactic cover of one admin rule by another that `shadowing` (NVL012) tries first."""

from collections.abc import Iterator

from netverify.engine.lint.context import LintContext
from netverify.engine.lint.evidence import selects_superset
from netverify.engine.lint.registry import finding, register
from netverify.model import (
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    Direction,
    NamespacedPods,
    PolicyPort,
    RuleRef,
    Tier,
    short_name,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity

_RULES_KEY = {Direction.INGRESS: "ingress", Direction.EGRESS: "egress"}


def rule_name(policy: AdminPolicy, direction: Direction, index: int) -> str:
    """`egress[1] "name"`: a rule as messages name it."""
    rule = policy.rules(direction)[index]
    named = f' "{rule.name}"' if rule.name else ""
    return f"{_RULES_KEY[direction]}[{index}]{named}"


def qualified_rule_name(policy: AdminPolicy, direction: Direction, index: int) -> str:
    """`cnp/NAME egress[1] "name"`: a rule with its policy, as messages name it."""
    return f"{short_name(policy.ref)} {rule_name(policy, direction, index)}"


def admin_sites(context: LintContext) -> Iterator[tuple[AdminPolicy, Direction, int, RuleRef]]:
    for policy in context.cluster.admin_policies:
        for direction in Direction:
            for index in range(len(policy.rules(direction))):
                yield (
                    policy,
                    direction,
                    index,
                    RuleRef(policy=policy.ref, direction=direction, index=index),
                )


@register(
    "NVL013",
    "baseline-pass",
    "Pass rule in the Baseline tier",
    FindingSeverity.INFO,
    "Write Accept if the flows are meant to be allowed (the same effect, said plainly), or "
    "Deny; Pass delegates only in the Admin tier, to NetworkPolicy.",
)
def baseline_pass(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for policy, direction, index, ref in admin_sites(context):
        if policy.tier is not Tier.BASELINE:
            continue
        if policy.rules(direction)[index].action is not AdminAction.PASS:
            continue
        # NOTE: v1alpha2 "Pass: ... passes evaluation to the next tier", and after the
        # Baseline tier "the default kubernetes policy is applied": all pods may communicate.
        yield finding(
            info,
            f"{rule_name(policy, direction, index)} is a Pass in the Baseline tier: no tier "
            "comes after it, so the flows it matches are allowed (Kubernetes' default), as "
            "with Accept",
            span=context.rule_span(ref),
            object=policy.ref,
            rule=ref,
        )


def rule_covers(wide: AdminRule, narrow: AdminRule) -> bool:
    """Syntactically, every flow `narrow` matches `wide` matches too (both of one policy,
    so of one subject): each of its peers is within one of `wide`'s, each of its ports
    within one of `wide`'s (no ports: every port)."""
    peers = all(any(_peer_covers(w, n) for w in wide.peers) for n in narrow.peers)
    ports = not wide.ports or (
        bool(narrow.ports)
        and all(any(_port_covers(w, n) for w in wide.ports) for n in narrow.ports)
    )
    return peers and ports


def _pods_cover(wide: NamespacedPods, narrow: NamespacedPods) -> bool:
    return selects_superset(wide.namespace_selector, narrow.namespace_selector) and (
        selects_superset(wide.pod_selector, narrow.pod_selector)
    )


def _peer_covers(wide: AdminPeer, narrow: AdminPeer) -> bool:
    """What `narrow` matches, `wide` does: `namespaces: S` is `pods` in S with an empty pod
    selector; `networks` by subnet; `nodes` by selector; `domainNames` by name."""
    as_pods = _as_pods(wide)
    if as_pods is not None and (narrow_pods := _as_pods(narrow)) is not None:
        return _pods_cover(as_pods, narrow_pods)
    if wide.nodes is not None and narrow.nodes is not None:
        return selects_superset(wide.nodes, narrow.nodes)
    if wide.networks and narrow.networks:
        return all(
            any(n.version == w.version and n.subnet_of(w) for w in wide.networks)  # type: ignore[arg-type]
            for n in narrow.networks
        )
    return bool(narrow.domain_names) and set(narrow.domain_names) <= set(wide.domain_names)


def _as_pods(peer: AdminPeer) -> NamespacedPods | None:
    if peer.namespaces is not None:
        return NamespacedPods(namespace_selector=peer.namespaces)
    return peer.pods


def _port_covers(wide: PolicyPort, narrow: PolicyPort) -> bool:
    if wide.protocol is not narrow.protocol:
        return False
    if wide.named_port is not None or narrow.named_port is not None:
        return wide.named_port == narrow.named_port
    if wide.port_range is None:
        return True
    if narrow.port_range is None:
        return False
    return (
        wide.port_range.start
        <= narrow.port_range.start
        <= narrow.port_range.end
        <= (wide.port_range.end)
    )
