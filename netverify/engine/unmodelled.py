"""Verdicts that policy objects netverify does not model may overturn
(`semantics.unmodelled` says which flows they may decide):

- a flow NetworkPolicy allows (a forbid's counterexample, a reachable's witness) stands unless
  an object that can block applies to one of its ends;
- a flow NetworkPolicy blocks (a require's counterexample) stands unless an object that can
  allow applies to an end;
- a statement about every matched flow (a forbid or require that holds, a reachable with no
  allowed flow) stands unless such an object applies to a pod the invariant can match.

Otherwise the verdict is `unknown`, naming the objects: never a `holds` the cluster may not
honour (`--strict` refuses such objects outright).
"""

from netverify.engine.tiers import flow_name
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    EndpointPattern,
    Invariant,
    InvariantKind,
    InvariantResult,
    Namespace,
    PodEndpoint,
    PodScope,
    Status,
    UnmodelledObject,
)
from netverify.semantics.matching import selector_matches
from netverify.semantics.patterns import endpoint_matches
from netverify.semantics.unmodelled import able, object_scope, objects_deciding


def unmodelled_doubt(
    cluster: Cluster, invariant: Invariant, result: InvariantResult
) -> InvariantResult:
    """The result, or `unknown` where objects netverify does not model may decide a flow it
    rests on (see the module's docstring)."""
    if not cluster.unmodelled or result.status not in (Status.HOLDS, Status.VIOLATED):
        return result
    kind, holds = invariant.kind, result.status is Status.HOLDS
    flow_allowed = (kind is InvariantKind.FORBID and not holds) or (
        kind is InvariantKind.REACHABLE and holds
    )
    shown = result.counterexample if result.counterexample is not None else result.witness
    if flow_allowed and shown is not None:
        deciding = objects_deciding(cluster, shown.decision.flow, can_allow=False)
        what = f"may block {flow_name(shown.decision.flow)}, which NetworkPolicy allows"
    elif kind is InvariantKind.REQUIRE and not holds and shown is not None:
        deciding = objects_deciding(cluster, shown.decision.flow, can_allow=True)
        what = f"may allow {flow_name(shown.decision.flow)}, which NetworkPolicy blocks"
    else:
        # Every matched flow: blocked (forbid holds, reachable violated) or allowed.
        can_allow = kind is not InvariantKind.REQUIRE
        deciding = _applying_to_invariant(cluster, invariant, can_allow)
        what = f"may {'allow' if can_allow else 'block'} flows this invariant matches"
    if not deciding:
        return result
    verb = "is" if len(deciding) == 1 else "are"
    return result.model_copy(
        update={
            "status": Status.UNKNOWN,
            "reason": f"{', '.join(map(str, deciding))} {verb} not modelled by netverify: {what} "
            "(remove them from the input, or see what the network plugin enforces)",
        }
    )


def _applying_to_invariant(
    cluster: Cluster, invariant: Invariant, can_allow: bool
) -> list[UnmodelledObject]:
    return [
        obj
        for obj in able(cluster.unmodelled, can_allow)
        if (scope := object_scope(obj)) is None
        or any(
            _may_match_in(cluster, invariant, pattern, scope)
            for pattern in (invariant.source, invariant.destination)
        )
    ]


def _may_match_in(
    cluster: Cluster, invariant: Invariant, pattern: EndpointPattern, namespace: str
) -> bool:
    """Whether a pod of `namespace` can match the pattern: an existing pod that does, or,
    where the invariant speaks of pods that could exist, any pod the namespace's name and
    labels let it select."""
    if pattern.external:
        return False
    found = cluster.namespace(namespace) or Namespace(
        name=namespace, labels={NAMESPACE_NAME_LABEL: namespace}, defined=False
    )
    if invariant.pods is PodScope.ANY and pattern.pod_name is None:
        return pattern.namespace_name in (None, namespace) and (
            pattern.namespace_selector is None
            or selector_matches(pattern.namespace_selector, found.labels)
        )
    return any(
        endpoint_matches(pattern, PodEndpoint(namespace=found, pod=pod, ip=ip))
        for pod in cluster.pods
        if pod.namespace == namespace
        for ip in pod.ips or (None,)
    )


def unmodelled_difference(base: Cluster, head: Cluster) -> str | None:
    """Why a diff cannot be complete: policy objects netverify does not model that one
    revision has and the other lacks, or has with another spec (their effect on
    connectivity is not in the diff); None when they are the same in both."""
    before = {str(obj): obj.digest for obj in base.unmodelled}
    after = {str(obj): obj.digest for obj in head.unmodelled}
    changed = [
        f"{name}: {'added' if name not in before else 'deleted' if name not in after else 'edited'}"
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]
    if not changed:
        return None
    return (
        "policy objects netverify does not model differ between the revisions ("
        + "; ".join(changed)
        + "): what they change is not in this diff"
    )


def undecided_cells(cluster: Cluster) -> tuple[str, ...]:
    """For `matrix`: which cells objects netverify does not model may decide otherwise than
    the NetworkPolicy verdict they show, one note per scope (every cell, or the cells with an
    end in one namespace)."""
    scopes: dict[str | None, list[UnmodelledObject]] = {}
    for obj in cluster.unmodelled:
        scopes.setdefault(object_scope(obj), []).append(obj)
    return tuple(
        f"{', '.join(map(str, objects))} {'is' if len(objects) == 1 else 'are'} not modelled by "
        "netverify and may decide "
        + ("every cell" if scope is None else f"cells with an end in namespace {scope}")
        + " otherwise than shown (NetworkPolicy's verdict)"
        for scope, objects in sorted(scopes.items(), key=lambda item: item[0] or "")
    )
