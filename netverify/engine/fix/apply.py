"""A candidate applied to an in-memory copy of the loaded cluster."""

from netverify.model import LoadedCluster
from netverify.model.fix import Candidate, PolicyEdit


def applied(loaded: LoadedCluster, candidate: Candidate) -> LoadedCluster:
    """The cluster with each edited policy replaced and each new one added, still sorted by
    namespace and name (the order loading gives); sources and warnings are kept."""
    replaced = {edit.key: edit.after for edit in candidate.edits}
    kept = [
        policy
        for policy in loaded.cluster.policies
        if (policy.namespace, policy.name) not in replaced
    ]
    policies = sorted([*kept, *replaced.values()], key=lambda p: (p.namespace, p.name))
    cluster = loaded.cluster.model_copy(update={"policies": tuple(policies)})
    return loaded.model_copy(update={"cluster": cluster})


def composed(first: Candidate, then: Candidate) -> Candidate:
    """`then` (found on the cluster `first` made) on top of `first`: one edit per policy,
    from the original policy to the last version."""
    edits: dict[tuple[str, str], PolicyEdit] = {edit.key: edit for edit in first.edits}
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
