"""Why a flow changed between BASE and HEAD: the admin rule, rule or policy a finding names
as its cause, read from both revisions' decisions on the flow."""

from netverify.model import AdminPolicy, Cluster, FlowDecision, NetworkPolicy, ObjectRef
from netverify.model.diff import Change, DiffCause, Revision


def change_cause(
    base_cluster: Cluster,
    head_cluster: Cluster,
    change: Change,
    head: FlowDecision,
    base: FlowDecision,
) -> DiffCause | None:
    """What changed the flow, on a side the blocking revision blocks (egress first): an
    admin rule of a policy that differs between the revisions and that decided the side
    (the blocking revision's Deny first, then the allowing revision's Accept, then a Pass
    of either), read in its revision; else a rule that admits it in the allowing
    revision, of a policy that differs between the revisions (widened or new in HEAD;
    for a removal, BASE's rule that HEAD narrowed or deleted), one that names the peer
    before one without `from`/`to` entries; else a policy that
    isolates it in the blocking revision and differs (new in HEAD for a removal; for an
    addition, BASE's policy that HEAD changed, located in HEAD, or deleted, located in
    BASE). None when no such policy differs. `head` and `base` are the decisions of the
    revisions `head_cluster` and `base_cluster`."""
    allowing, blocking = (head, base) if change is Change.ADDED else (base, head)
    blocking_revision, allowing_revision = (
        (Revision.BASE, Revision.HEAD) if change is Change.ADDED else (Revision.HEAD, Revision.BASE)
    )
    sides = [
        (allowing_side, blocking_side)
        for allowing_side, blocking_side in (
            (allowing.egress, blocking.egress),
            (allowing.ingress, blocking.ingress),
        )
        if not blocking_side.allowed
    ]
    admin_rules = [
        (revision, match.rule)
        for allowing_side, blocking_side in sides
        for revision, match in (
            (blocking_revision, blocking_side.admin_rule),
            (allowing_revision, allowing_side.admin_rule),
            (blocking_revision, blocking_side.passed_by),
            (allowing_revision, allowing_side.passed_by),
        )
        if match is not None and policy_changed(base_cluster, head_cluster, match.rule.policy)
    ]
    if admin_rules:
        revision, rule = admin_rules[0]
        return DiffCause(revision=revision, what=rule)
    admitting = [
        (rule, peer)
        for allowing_side, _ in sides
        for rule, peer in zip(
            allowing_side.allowed_by,
            allowing_side.allowed_by_peer or (None,) * len(allowing_side.allowed_by),
            strict=True,
        )
        if policy_changed(base_cluster, head_cluster, rule.policy)
    ]
    # A rule that names the peer first: an end's own "allow all" rule lets it reach
    # anything, the other rule is the one that chose this peer.
    rules = [rule for rule, peer in admitting if peer is not None] + [
        rule for rule, peer in admitting if peer is None
    ]
    if rules:
        in_head = change is Change.ADDED
        return DiffCause(revision=Revision.HEAD if in_head else Revision.BASE, what=rules[0])
    policies = [
        policy
        for _, blocking_side in sides
        for policy in blocking_side.isolated_by
        if policy_changed(base_cluster, head_cluster, policy)
    ]
    if not policies:
        return None
    in_head = policy_in(head_cluster, policies[0]) is not None
    return DiffCause(revision=Revision.HEAD if in_head else Revision.BASE, what=policies[0])


def policy_changed(base: Cluster, head: Cluster, ref: ObjectRef) -> bool:
    """The policy (a NetworkPolicy or an admin policy) differs between BASE and HEAD (or
    only one of them has it)."""
    return policy_in(base, ref) != policy_in(head, ref)


def policy_in(cluster: Cluster, ref: ObjectRef) -> NetworkPolicy | AdminPolicy | None:
    """The cluster's policy a reference names, if it has one (admin policies are the
    cluster-scoped ones)."""
    if ref.namespace is None:
        return next((p for p in cluster.admin_policies if p.ref == ref), None)
    return next((p for p in cluster.policies_in(ref.namespace) if p.name == ref.name), None)
