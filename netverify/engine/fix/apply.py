"""A candidate applied to an in-memory copy of the loaded cluster."""

from netverify.model import AdminPolicy, LoadedCluster
from netverify.model.fix import Candidate, PolicyEdit
from netverify.model.refs import ObjectRef, network_policy_ref


def applied(loaded: LoadedCluster, candidate: Candidate) -> LoadedCluster:
    """The cluster with each edited policy replaced and each new one added, still sorted as
    loading sorts them (NetworkPolicies by namespace and name, admin policies by kind and
    name); sources and warnings are kept."""
    cluster = loaded.cluster
    edited = {edit.key for edit in candidate.edits}
    policies = [p for p in cluster.policies if network_policy_ref(p) not in edited]
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
            "why": f"{first.why}; and {then.why}",
        }
    )
