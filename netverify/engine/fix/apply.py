"""A candidate applied to an in-memory copy of the loaded cluster."""

from netverify.model import AdminPolicy, Direction, LoadedCluster, NetworkPolicy, PolicyRule
from netverify.model.admin_policy import short_name
from netverify.model.fix import Candidate, PolicyEdit
from netverify.model.refs import ObjectRef


def applied(loaded: LoadedCluster, candidate: Candidate) -> LoadedCluster:
    """The cluster with each edited policy replaced and each new one added, still sorted as
    loading sorts them (NetworkPolicies by namespace and name, admin policies by kind and
    name); sources and warnings are kept."""
    cluster = loaded.cluster
    edited = {edit.key for edit in candidate.edits}
    # NOTE: by namespace and name, not `network_policy_ref`: a reference built per policy
    # of thousands, for each candidate, was most of this function's time.
    replaced = {
        (edit.after.namespace, edit.after.name)
        for edit in candidate.edits
        if isinstance(edit.after, NetworkPolicy)
    }
    policies = [p for p in cluster.policies if (p.namespace, p.name) not in replaced]
    admin = [p for p in cluster.admin_policies if p.ref not in edited]
    for edit in candidate.edits:
        if isinstance(edit.after, AdminPolicy):
            admin.append(edit.after)
        else:
            policies.append(edit.after)
    cluster = cluster.model_copy(
        update={
            "policies": tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
            "admin_policies": tuple(sorted(admin, key=lambda p: (p.kind, p.name))),
        }
    )
    return loaded.model_copy(update={"cluster": cluster})


def composed(first: Candidate, then: Candidate) -> Candidate:
    """`then` (found on the cluster `first` made) on top of `first`: one edit per policy,
    from the original policy to the last version."""
    edits: dict[ObjectRef, PolicyEdit] = {edit.key: edit for edit in first.edits}
    for edit in then.edits:
        earlier = edits.get(edit.key)
        edits[edit.key] = (
            edit if earlier is None else edit.model_copy(update={"before": earlier.before})
        )
    return then.model_copy(
        update={
            "change": first.change,
            "edits": tuple(edits.values()),
            "why": _joined(first, then),
        }
    )


def _joined(first: Candidate, then: Candidate) -> str:
    """Both whys; each says which policies it edits when the two edit different ones (two
    like repairs of two policies read the same)."""
    if {edit.key for edit in first.edits} == {edit.key for edit in then.edits}:
        return f"{first.why}; and {then.why}"
    return f"{first.why} ({_edited(first)}); and {then.why} ({_edited(then)})"


NAMED_EDITS = 3
"""The most policies a why names: a rule repaired in every policy with a rule like it edits
dozens, each of which the fix's own lines name."""


def _edited(candidate: Candidate) -> str:
    names = [
        short_name(edit.key) if edit.key.kind != "NetworkPolicy" else _scoped(edit.key)
        for edit in candidate.edits
    ]
    if len(names) > NAMED_EDITS:
        return f"{', '.join(names[:NAMED_EDITS])} and {len(names) - NAMED_EDITS} more"
    return ", ".join(names)


def _scoped(ref: ObjectRef) -> str:
    return f"{ref.namespace}/{ref.name}"


def merged(first: PolicyEdit, second: PolicyEdit) -> PolicyEdit | None:
    """Two edits of one existing NetworkPolicy as one, when they change different rules
    (each replaces, removes or appends rules, and nothing else): two invariants' fixes often
    touch one policy, and their union is what the user applies. None when they overlap or
    either changes more than its rules; the caller proves the union with the whole spec."""
    base = first.before
    if base is None or second.before != base:
        return None
    if not isinstance(first.after, NetworkPolicy) or not isinstance(second.after, NetworkPolicy):
        return None
    after = base
    for direction in Direction:
        rules = _merged_rules(
            base.rules(direction), first.after.rules(direction), second.after.rules(direction)
        )
        if rules is None:
            return None
        after = after.model_copy(update={_FIELDS[direction]: rules})
    if any(_rules_aside(edited) != _rules_aside(base) for edited in (first.after, second.after)):
        return None
    return first.model_copy(update={"after": after})


_FIELDS = {Direction.INGRESS: "ingress", Direction.EGRESS: "egress"}


def _rules_aside(policy: NetworkPolicy) -> NetworkPolicy:
    return policy.model_copy(update={"ingress": (), "egress": ()})


_Changes = tuple[dict[int, PolicyRule | None], tuple[PolicyRule, ...]]
"""Rules replaced (None: removed) by index of the original, and rules appended."""


def _merged_rules(
    base: tuple[PolicyRule, ...], ours: tuple[PolicyRule, ...], theirs: tuple[PolicyRule, ...]
) -> tuple[PolicyRule, ...] | None:
    if ours in (base, theirs):
        return theirs
    if theirs == base:
        return ours
    mine, other = _rule_changes(base, ours), _rule_changes(base, theirs)
    if mine is None or other is None or mine[0].keys() & other[0].keys():
        return None
    replaced = {**mine[0], **other[0]}
    kept = [replaced.get(index, rule) for index, rule in enumerate(base)]
    return (*(rule for rule in kept if rule is not None), *mine[1], *other[1])


def _rule_changes(base: tuple[PolicyRule, ...], after: tuple[PolicyRule, ...]) -> _Changes | None:
    """How `after` came from `base`: rules replaced in place, one removed, or rules
    appended (what fix candidates do); None for any other shape."""
    if len(after) == len(base):
        return {
            i: rule for i, (old, rule) in enumerate(zip(base, after, strict=True)) if old != rule
        }, ()
    if len(after) > len(base) and after[: len(base)] == base:
        return {}, after[len(base) :]
    if len(after) == len(base) - 1:
        for index in range(len(base)):
            if base[:index] + base[index + 1 :] == after:
                return {index: None}, ()
    return None
