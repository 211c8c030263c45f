"""A confirmed change and its groups, as the `DiffFinding` people read.

Group keys are the search's names (class indices, cells of networks, label codes); a finding
names pods, namespaces and labels instead. Findings that differ only in their protocol are
one finding (`merged_protocols`).
"""

from netverify.encoding.classes import PodClass
from netverify.encoding.groups import ClassGroup, ExternalGroup, GroupKey, GroupTerms, NewPodGroup
from netverify.engine.diff.revisions import ChangedFlow
from netverify.model import Endpoint, FlowDecision, PodEndpoint
from netverify.model.diff import DiffFinding, EndpointGroup


def diff_finding(
    groups: GroupTerms,
    witness: ChangedFlow,
    sources: list[GroupKey],
    destinations: list[GroupKey],
) -> DiffFinding:
    """The finding of a witness and the groups changed like it (the witness's first)."""
    flow = witness.flow
    source = _group(groups, flow.source, sources[0])
    destination = _group(groups, flow.destination, destinations[0])
    return DiffFinding(
        change=witness.change,
        source=source,
        destination=destination,
        protocol=flow.protocol,
        ports=witness.ports,
        head=witness.head,
        base=witness.base,
        other_sources=_described(groups, sources, source),
        other_destinations=_described(groups, destinations, destination),
        cause=witness.cause,
    )


def _described(
    groups: GroupTerms, keys: list[GroupKey], witness: EndpointGroup
) -> tuple[EndpointGroup, ...]:
    """The groups after the witness's (keys[0]), for people: each class by its pods;
    new pods by namespace, with the witness's labels (they are like it); external
    addresses once (their cells mean nothing to a reader), unless the witness's group
    is external addresses already."""
    described = [
        _class_group(groups.encoding.classes[key.index], None)
        if isinstance(key, ClassGroup)
        else EndpointGroup(kind="new-pod", namespace=key.namespace, labels=witness.labels)
        for key in keys[1:]
        if isinstance(key, ClassGroup | NewPodGroup)
    ]
    if not isinstance(keys[0], ExternalGroup) and any(
        isinstance(key, ExternalGroup) for key in keys[1:]
    ):
        described.append(EndpointGroup(kind="external"))
    return tuple(described)


def _group(groups: GroupTerms, endpoint: Endpoint, key: GroupKey) -> EndpointGroup:
    """The witness's group for people; new pods with the witness's labels that the
    group pins (a widened group takes pods with any value of the others)."""
    if not isinstance(endpoint, PodEndpoint):
        return EndpointGroup(kind="external")
    if isinstance(key, NewPodGroup):
        label_keys = groups.encoding.universe.pod_labels.keys
        codes = dict(zip(label_keys, key.label_codes, strict=True))
        labels = {k: v for k, v in endpoint.pod.labels.items() if codes.get(k) is not None}
        return EndpointGroup(kind="new-pod", namespace=endpoint.namespace.name, labels=labels)
    pod_class = groups.class_of(endpoint)
    assert pod_class is not None, "an existing pod's group is its class"
    return _class_group(pod_class, endpoint.pod.labels)


def _class_group(pod_class: PodClass, labels: dict[str, str] | None) -> EndpointGroup:
    """The class's pods, described with `labels` (one pod's, by default the first's: the
    class shares the codes of the labels that matter, not every label value)."""
    return EndpointGroup(
        kind="pods",
        namespace=pod_class.namespace,
        pods=tuple(pod.name or "" for pod in pod_class.pods),
        labels=pod_class.pods[0].labels if labels is None else labels,
    )


def merged_protocols(findings: list[DiffFinding]) -> list[DiffFinding]:
    """The findings, each merged with the later ones that differ only in protocol (the same
    groups, ports and cause, decided by the same rules and policies), in order."""
    merged: dict[str, DiffFinding] = {}
    for finding in findings:
        key = finding.model_dump_json(exclude={"protocol", "other_protocols", "head", "base"})
        key += _reasons(finding.head) + _reasons(finding.base)
        first = merged.get(key)
        merged[key] = (
            finding
            if first is None
            else first.model_copy(
                update={"other_protocols": (*first.protocols[1:], finding.protocol)}
            )
        )
    return list(merged.values())


def _reasons(decision: FlowDecision) -> str:
    """What decided the flow on each side, whatever its protocol and port."""
    return "".join(
        f"{side.allowed}{side.allowed_by}{side.isolated_by}"
        for side in (decision.egress, decision.ingress)
    )
