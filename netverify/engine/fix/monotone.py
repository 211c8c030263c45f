"""Edits that can only take flows away, or only add them: an invariant that held before
such an edit still holds after it, without a proof.

Most of `fix`'s candidates narrow a rule or remove it, and each is checked against every
invariant that held and whose slice holds the edited policy. A policy that still selects
the same pods in the same directions, each of whose rules admits no more than a rule it
had, allows a subset of the flows it allowed: a `forbid` that held still holds. So does a
new policy in a namespace where no loaded policy isolates pods in its directions (`fix`'s
isolating candidates): every pod it selects was open in those directions, and its rules
admit only some flows. One that keeps every rule it had and gains others allows a
superset: a `require` or `reachable` that held still holds. Anything else (a new policy
where pods may be isolated already, whose rules may then admit more, an admin policy) is
proved as before.
"""

from collections.abc import Collection, Sequence

from netverify.model import (
    Direction,
    InvariantKind,
    LabelSelector,
    NetworkPolicy,
    PolicyPeer,
    PolicyRule,
)
from netverify.model.fix import PolicyEdit


def keeps_holding(
    kind: InvariantKind,
    edits: Sequence[PolicyEdit],
    isolating: Collection[tuple[str, Direction]] = (),
) -> bool:
    """Whether an invariant of `kind` that held still holds after `edits` (the edits of
    policies its verdict can depend on), for the edits' shape alone; False when that
    cannot tell. `isolating`: the (namespace, direction) pairs in which a policy of the
    cluster the edits start from isolates pods."""
    if not edits:
        return False
    changed, added = [], []
    for edit in edits:
        if not isinstance(edit.after, NetworkPolicy):
            return False
        if edit.before is None:
            added.append(edit.after)
        else:
            changed.append((edit.before, edit.after))
    if kind is InvariantKind.FORBID:
        return all(_narrows(before, after) for before, after in changed) and all(
            _isolates_open_pods(policy, isolating) for policy in added
        )
    return not added and all(_widens(before, after) for before, after in changed)


def _isolates_open_pods(
    policy: NetworkPolicy, isolating: Collection[tuple[str, Direction]]
) -> bool:
    """A new policy allows no flow that was not allowed: no policy of its namespace
    isolated pods in its directions, so each pod it selects admitted every flow there (an
    edited policy keeps its directions, as `_narrows` asks)."""
    return not any((policy.namespace, direction) in isolating for direction in policy.policy_types)


def _same_subjects(before: NetworkPolicy, after: NetworkPolicy) -> bool:
    """The policies isolate the same pods in the same directions."""
    return (before.namespace, before.pod_selector, before.policy_types) == (
        after.namespace,
        after.pod_selector,
        after.policy_types,
    )


def _narrows(before: NetworkPolicy, after: NetworkPolicy) -> bool:
    """`after` allows no flow `before` did not: each of its rules admits no more than
    one of `before`'s in the same direction."""
    return _same_subjects(before, after) and all(
        any(_rule_narrows(old, new) for old in before.rules(direction))
        for direction in Direction
        for new in after.rules(direction)
    )


def _widens(before: NetworkPolicy, after: NetworkPolicy) -> bool:
    """`after` allows every flow `before` did: it keeps each of its rules."""
    return _same_subjects(before, after) and all(
        rule in after.rules(direction)
        for direction in Direction
        for rule in before.rules(direction)
    )


def _rule_narrows(old: PolicyRule, new: PolicyRule) -> bool:
    """`new` admits no flow `old` does not (empty peers or ports admit every one)."""
    peers = not old.peers or (
        bool(new.peers) and all(any(_peer_narrows(p, q) for p in old.peers) for q in new.peers)
    )
    ports = not old.ports or (bool(new.ports) and set(new.ports) <= set(old.ports))
    return peers and ports


def _peer_narrows(old: PolicyPeer, new: PolicyPeer) -> bool:
    """`new` matches no endpoint `old` does not: equal, or the same selectors, each with
    requirements added (how a candidate excludes the forbidden endpoints)."""
    if old == new:
        return True
    if old.ip_block is not None or new.ip_block is not None:
        return False
    if (old.namespace_selector is None) != (new.namespace_selector is None) or (
        old.namespace_selector is None and old.pod_selector is None
    ):
        return False
    if (
        old.namespace_selector is not None
        and new.namespace_selector is not None
        and not _selector_narrows(old.namespace_selector, new.namespace_selector)
    ):
        return False
    if old.pod_selector is None:
        return True
    return new.pod_selector is not None and _selector_narrows(old.pod_selector, new.pod_selector)


def _selector_narrows(old: LabelSelector, new: LabelSelector) -> bool:
    """`new` asks for every label and requirement `old` does (and maybe more)."""
    return old.match_labels.items() <= new.match_labels.items() and all(
        requirement in new.match_expressions for requirement in old.match_expressions
    )
