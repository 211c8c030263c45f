"""The NetworkPolicies a candidate edits or adds: found by name, named so as not to clash,
built whole. Forbid repairs and require openings both write them, so they live apart
from either."""

from netverify.engine.fix.patterns import unique_name
from netverify.model import Cluster, Direction, LabelSelector, NetworkPolicy, PolicyRule


def policy_with(
    namespace: str,
    name: str,
    selector: LabelSelector,
    direction: Direction,
    rules: tuple[PolicyRule, ...],
) -> NetworkPolicy:
    """A new policy of one direction: `selector`'s pods isolated, `rules` admitting."""
    field = "ingress" if direction is Direction.INGRESS else "egress"
    return NetworkPolicy.model_validate(
        {
            "namespace": namespace,
            "name": name,
            "pod_selector": selector,
            "policy_types": frozenset({direction}),
            field: rules,
        }
    )


def free_policy_name(cluster: Cluster, namespace: str, wanted: str) -> str:
    """`wanted` cut to a valid object name, made unique in the namespace."""
    return unique_name(wanted, {policy.name for policy in cluster.policies_in(namespace)})


def policy_named(cluster: Cluster, namespace: str | None, name: str) -> NetworkPolicy | None:
    """The cluster's policy of that name in the namespace, if any."""
    return next(
        (policy for policy in cluster.policies_in(namespace or "") if policy.name == name), None
    )
