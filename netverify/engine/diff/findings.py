"""Confirmed changes and their groups, as the `DiffFinding` people read.

The search confirms products: a witness, its source groups and its destination groups, every
flow between them changed like the witness on its protocol. Group keys are the search's
names (class indices, cells of networks, label codes); a product names pods, namespaces and
labels instead. Products that changed alike (the same change, ports, cause and deciding
rules) are then one finding where they differ only in protocol, in sources or in
destinations (`merged_findings`): one rule that opens a port to existing pods and to the
pods that could exist like them is one finding, not one per group of pods.
"""

from dataclasses import dataclass, replace

from netverify.encoding.classes import PodClass
from netverify.encoding.groups import ClassGroup, GroupKey, GroupTerms, NewPodGroup, Wild
from netverify.encoding.universe import ABSENT
from netverify.engine.diff.revisions import ChangedFlow
from netverify.model import (
    Endpoint,
    FlowDecision,
    PodEndpoint,
    PortRange,
    Protocol,
    RuleRef,
    SideDecision,
)
from netverify.model.diff import DiffFinding, EndpointGroup

Described = tuple[tuple[GroupKey, EndpointGroup], ...]
"""Groups of one end of a product, each with its description, the witness's first."""


@dataclass(frozen=True)
class Product:
    """Flows the search confirmed changed like one witness: on its protocol, on exactly its
    ports, between any of the sources and any of the destinations (each such flow in no
    other product of the same change)."""

    witness: ChangedFlow
    sources: Described
    destinations: Described


def product_of(
    groups: GroupTerms,
    witness: ChangedFlow,
    sources: list[GroupKey],
    destinations: list[GroupKey],
) -> Product:
    """The product of a witness and the groups changed like it (the witness's first)."""
    flow = witness.flow
    return Product(
        witness=witness,
        sources=_described(groups, flow.source, sources, witness.ports),
        destinations=_described(groups, flow.destination, destinations, witness.ports),
    )


def _described(
    groups: GroupTerms, endpoint: Endpoint, keys: list[GroupKey], ports: tuple[PortRange, ...]
) -> Described:
    """Each group for people: the witness's (keys[0]) by its endpoint; each other class by
    its pods; new pods by what their group asks of them, label values as the witness's
    (they are like it)."""
    return tuple(
        (
            key,
            _class_group(groups.encoding.classes[key.index])
            if isinstance(key, ClassGroup)
            else _new_pod_group(groups, key, endpoint, ports)
            if isinstance(key, NewPodGroup) and isinstance(endpoint, PodEndpoint)
            else _group(groups, endpoint)
            if index == 0
            else EndpointGroup(kind="external"),
        )
        for index, key in enumerate(keys)
    )


def _group(groups: GroupTerms, endpoint: Endpoint) -> EndpointGroup:
    """The witness's group for people, where it is external addresses or existing pods."""
    if not isinstance(endpoint, PodEndpoint):
        return EndpointGroup(kind="external")
    pod_class = groups.class_of(endpoint)
    assert pod_class is not None, "an existing pod's group is its class"
    return _class_group(pod_class)


def _new_pod_group(
    groups: GroupTerms, key: NewPodGroup, witness: PodEndpoint, ports_of_flow: tuple[PortRange, ...]
) -> EndpointGroup:
    """New pods of the key's namespace, by what the group asks of them: the witness's
    values of the labels it pins (or that it has none of them), the values and
    combinations of labels it excludes, and its named ports (a widened group takes pods
    with any value of the rest): "undefined or not the flow's port" or "the flow's port"
    where the group's `outside` ranges are the witness's ports (`ports_of_flow`), else
    those ranges."""
    universe = groups.encoding.universe.pod_labels
    label_keys = universe.keys

    def value(index: int, code: int) -> str:
        label = label_keys[index]
        if code == ABSENT:
            return "(none)"
        if code == universe.other(label):
            return "(other)"
        return universe.value(label, code) or ""

    pinned = {label_keys[i] for i, code in enumerate(key.label_codes) if isinstance(code, int)}
    ports = {}
    for (name, protocol), number in zip(
        groups.encoding.flow.source.named_ports, key.named_ports, strict=True
    ):
        if number is Wild.OUTSIDE and key.outside != ports_of_flow:
            ports[f"{name}/{protocol.value}"] = f"undefined or not {_numbers(key.outside)}"
        elif number is Wild.OUTSIDE:
            ports[f"{name}/{protocol.value}"] = "undefined or not the flow's port"
        elif number is Wild.INSIDE and key.outside != ports_of_flow:
            ports[f"{name}/{protocol.value}"] = f"in {_numbers(key.outside)}"
        elif number is Wild.INSIDE:
            single = len(key.outside) == 1 and key.outside[0].start == key.outside[0].end
            ports[f"{name}/{protocol.value}"] = (
                "the flow's port" if single else "one of the flow's ports"
            )
        elif number is None:
            ports[f"{name}/{protocol.value}"] = "undefined"
        elif isinstance(number, int):
            ports[f"{name}/{protocol.value}"] = str(number)
    return EndpointGroup(
        kind="new-pod",
        namespace=key.namespace,
        new_namespace=not witness.namespace.exists,
        labels={k: v for k, v in witness.pod.labels.items() if k in pinned},
        labels_absent=tuple(
            label_keys[i] for i, code in enumerate(key.label_codes) if code == ABSENT
        ),
        labels_not_in={
            label_keys[i]: tuple(value(i, c) for c in sorted(code))
            for i, code in enumerate(key.label_codes)
            if isinstance(code, frozenset)
        },
        except_labels=tuple(
            {label_keys[i]: value(i, code) for i, code in combination}
            for combination in key.excluded
        ),
        named_ports=ports,
    )


def _numbers(ranges: tuple[PortRange, ...]) -> str:
    return ",".join(f"{r.start}" if r.start == r.end else f"{r.start}-{r.end}" for r in ranges)


def _class_group(pod_class: PodClass) -> EndpointGroup:
    """The class's pods, described with the labels they all have: a class shares the codes
    of the labels that matter, not every label value (sock-shop's carts and session-db, which
    no policy names, are one class: not "name=carts" both)."""
    first, *others = (pod.labels for pod in pod_class.pods)
    return EndpointGroup(
        kind="pods",
        namespace=pod_class.namespace,
        pods=tuple(pod.name or "" for pod in pod_class.pods),
        labels={
            key: value
            for key, value in first.items()
            if all(labels.get(key) == value for labels in others)
        },
    )


@dataclass(frozen=True)
class _Merged:
    """Products merged so far: every flow on one of the protocols from one of the sources
    to one of the destinations is one of theirs."""

    first: Product
    protocols: tuple[Protocol, ...]
    sources: Described
    destinations: Described
    open_rules: tuple[RuleRef, ...]
    """The rules of every merged product's sides that admit every endpoint at the other end
    (`_admits_every_peer`), the first product's first."""
    also_node_local: bool = False
    """Node-local products that changed like it were merged in (`_placements_merged`)."""

    @property
    def source_keys(self) -> frozenset[GroupKey]:
        return frozenset(key for key, _ in self.sources)

    @property
    def destination_keys(self) -> frozenset[GroupKey]:
        return frozenset(key for key, _ in self.destinations)


def merged_findings(products: list[Product]) -> list[DiffFinding]:
    """The products as findings, in order: products that changed alike are merged while two
    differ only in their protocols, their sources or their destinations (as the products are
    disjoint, each changed flow is still in exactly one finding)."""
    merged = [
        _Merged(p, (p.witness.protocol,), p.sources, p.destinations, _open_rules(p.witness))
        for p in products
    ]
    while True:
        fewer = _merged_once(merged)
        if len(fewer) == len(merged):
            return [_finding(item) for item in _placements_merged(merged)]
        merged = fewer


def _placements_merged(items: list[_Merged]) -> list[_Merged]:
    """Each node-local item that changed like an item across nodes with the same groups
    and protocols merged into it: a hostNetwork pod's flows that changed alike wherever the
    pods run are one finding, not one per placement (products are of one placement, as a
    pair's node-local flows may change on other ports than its flows across nodes)."""
    across = {
        _placement_free(item): index
        for index, item in enumerate(items)
        if not item.first.witness.head.node_local
    }
    both: set[int] = set()
    kept: dict[int, _Merged] = {}
    for index, item in enumerate(items):
        into = across.get(_placement_free(item)) if item.first.witness.head.node_local else None
        if into is None or into in both:
            kept[index] = item
        else:
            both.add(into)
    return [
        replace(item, also_node_local=True) if index in both else item
        for index, item in kept.items()
    ]


def _placement_free(item: _Merged) -> tuple[object, ...]:
    """What an item across nodes and a node-local one must share to be one finding: the
    change, its ports and cause (`_change`), the protocols and the groups; not the rules
    that decided each side, which differ by placement (NetworkPolicy lets node-local
    traffic through whatever its rules say)."""
    return (
        _change(item.first.witness),
        frozenset(item.protocols),
        item.source_keys,
        item.destination_keys,
    )


def _merged_once(items: list[_Merged]) -> list[_Merged]:
    """One pass: each item merged into the first earlier one it changed alike with that
    has the same protocols and sources, or protocols and destinations, or sources and
    destinations."""
    kept: list[_Merged] = []
    index: dict[tuple[object, ...], int] = {}
    filed: list[list[tuple[object, ...]]] = []
    for item in items:
        alike = _alike(item.first.witness)
        protocols = frozenset(item.protocols)
        sources, destinations = item.source_keys, item.destination_keys
        keys: list[tuple[object, ...]] = [
            (alike, "protocols", sources, destinations),
            (alike, "sources", protocols, destinations),
            (alike, "destinations", protocols, sources),
        ]
        into = next((index[key] for key in keys if key in index), None)
        if into is None:
            index.update(dict.fromkeys(keys, len(kept)))
            filed.append(keys)
            kept.append(item)
            continue
        for key in filed[into]:
            # Merged once per pass: its old keys no longer say what it covers.
            del index[key]
        filed[into] = []
        first = kept[into]
        kept[into] = _Merged(
            first.first,
            tuple(dict.fromkeys((*first.protocols, *item.protocols))),
            _union(first.sources, item.sources),
            _union(first.destinations, item.destinations),
            tuple(dict.fromkeys((*first.open_rules, *item.open_rules))),
        )
    return kept


def _union(first: Described, second: Described) -> Described:
    keys = {key for key, _ in first}
    return (*first, *((key, group) for key, group in second if key not in keys))


def _alike(witness: ChangedFlow) -> str:
    """What products must share to be one finding: the change (`_change`), whether it is
    node-local, and what decided the witness on each side in each revision (a side whose
    rules admit every endpoint at the other end only as such)."""
    return (
        f"{_change(witness)}{witness.head.node_local}"
        f"{_reasons(witness.head)}{_reasons(witness.base)}"
    )


def _change(witness: ChangedFlow) -> str:
    """The change, its ports (or the name of the destination's port it follows, whatever
    the protocol, and where), the names of the destination's ports it leaves out, and its
    cause."""
    return (
        f"{witness.change}{witness.named_port[0] if witness.named_port else witness.ports}"
        f"{witness.named_within}{[name for name, _ in witness.excepted]}{witness.cause}"
    )


def _reasons(decision: FlowDecision) -> str:
    """What decided the flow on each side, whatever its protocol and port; a side that
    admits every peer says only that: sources each let out by their own "allow all egress"
    rule are let into a destination by one cause, its rule. Node-local traffic is decided
    by the admin tiers alone (NetworkPolicy lets it through whatever its rules say)."""
    if decision.node_local:
        return "".join(
            f"{side.allows_node_local}{side.admin_rule}"
            for side in (decision.egress, decision.ingress)
        )
    return "".join(
        f"{side.allowed} every peer {side.passed_by}"
        if _admits_every_peer(side)
        else f"{side.allowed}{side.allowed_by}{side.isolated_by}{side.admin_rule}{side.passed_by}"
        for side in (decision.egress, decision.ingress)
    )


def _admits_every_peer(side: SideDecision) -> bool:
    """The side is allowed by NetworkPolicy rules that each admit every endpoint at the
    other end (no `to`/`from` entries; the evaluator names the entry that matched
    otherwise)."""
    return (
        side.allowed
        and side.admin_rule is None
        and bool(side.allowed_by)
        and len(side.allowed_by_peer) == len(side.allowed_by)
        and all(peer is None for peer in side.allowed_by_peer)
    )


def _open_rules(witness: ChangedFlow) -> tuple[RuleRef, ...]:
    """The rules of the allowing decision's sides that admit every peer."""
    decision = witness.allowing
    return tuple(
        rule
        for side in (decision.egress, decision.ingress)
        if _admits_every_peer(side)
        for rule in side.allowed_by
    )


def _finding(item: _Merged) -> DiffFinding:
    """The merged products as one finding, told by the first product's witness; groups
    that read alike are told once (external addresses whatever their cells, new pods of a
    namespace with the same labels whatever their named ports)."""
    witness = item.first.witness
    source, destination = item.sources[0][1], item.destinations[0][1]
    return DiffFinding(
        change=witness.change,
        source=source,
        destination=destination,
        protocol=item.protocols[0],
        ports=witness.ports,
        head=witness.head,
        base=witness.base,
        other_sources=_others(item.sources),
        other_destinations=_others(item.destinations),
        cause=witness.cause,
        other_protocols=item.protocols[1:],
        named_port=witness.named_port[0] if witness.named_port else None,
        except_named_ports=tuple(name for name, _ in witness.excepted),
        other_open_rules=tuple(
            rule for rule in item.open_rules if rule not in _open_rules(witness)
        ),
        also_node_local=item.also_node_local,
    )


def _others(described: Described) -> tuple[EndpointGroup, ...]:
    told = {described[0][1].model_dump_json()}
    others = []
    for _, group in described[1:]:
        text = group.model_dump_json()
        if text not in told:
            told.add(text)
            others.append(group)
    return tuple(others)
