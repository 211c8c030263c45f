"""Admin policies (`policy.networking.k8s.io`) from raw manifests: validated as the
CRDs and their CEL rules validate them, then normalised (see `netverify.model.admin_policy`).

The limits and rules are those of the kubebuilder markers in kubernetes-sigs/network-policy-api
(`apis/v1alpha2/clusternetworkpolicy_types.go`, `apis/v1alpha1/*_types.go`).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from netverify.loading.adminports import read_admin_ports
from netverify.loading.fields import ObjectFields
from netverify.loading.networkpolicy import RULES_KEY, ignored_checks
from netverify.loading.selectors import read_selector
from netverify.loading.validation import (
    choice_error,
    cidr_error,
    parse_cidr,
)
from netverify.loading.yamlconvert import Path
from netverify.model import (
    ANP_API_VERSION,
    CNP_API_VERSION,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Direction,
    IPNetwork,
    LabelSelector,
    NamespacedPods,
    Tier,
)

MAX_PRIORITY = 1000
MAX_RULE_NAME = 100
MAX_CIDR_LENGTH = 43
MAX_LIST = 25
"""The most `networks` and `domainNames` entries of a peer (both versions)."""
PEERS_KEY = {Direction.INGRESS: "from", Direction.EGRESS: "to"}
_DOMAIN_NAME = re.compile(
    r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$"
)
"""The CRD's pattern for a `domainNames` entry (its `A-z` range is upstream's, kept as is)."""


@dataclass(frozen=True)
class AdminKind:
    """What one admin policy kind allows: its limits, actions, peers and port syntax."""

    api_version: str
    kind: str
    max_items: int
    """The most rules per direction, peers per rule and ports per rule."""
    actions: dict[str, AdminAction]
    """The action words of the API and their normal form."""
    egress_peers: tuple[str, ...]
    ports_key: str
    fixed_tier: Tier | None
    """The tier of a v1alpha1 kind; None for ClusterNetworkPolicy, which says in `spec.tier`."""
    renamed_actions: Mapping[str, str] = field(default_factory=dict)
    """Action words an earlier schema of the kind used, by the word that replaced them with
    the same meaning: read as the new word, with a warning (an error under `--strict`)."""


_ACCEPT_DENY_PASS = {
    "Accept": AdminAction.ACCEPT,
    "Deny": AdminAction.DENY,
    "Pass": AdminAction.PASS,
}
INGRESS_PEERS = ("namespaces", "pods")
ADMIN_KINDS = {
    (CNP_API_VERSION, "ClusterNetworkPolicy"): AdminKind(
        api_version=CNP_API_VERSION,
        kind="ClusterNetworkPolicy",
        max_items=25,
        actions=_ACCEPT_DENY_PASS,
        egress_peers=(*INGRESS_PEERS, "nodes", "networks", "domainNames"),
        ports_key="protocols",
        fixed_tier=None,
        # NOTE: network-policy-api renamed `Allow` to `Accept` in September 2025 (issue 291,
        # commit c95036e): a name change only, both "accept the selected traffic; no
        # further ClusterNetworkPolicy or NetworkPolicy rules will be processed".
        renamed_actions={"Allow": "Accept"},
    ),
    (ANP_API_VERSION, "AdminNetworkPolicy"): AdminKind(
        api_version=ANP_API_VERSION,
        kind="AdminNetworkPolicy",
        max_items=100,
        actions={"Allow": AdminAction.ACCEPT, "Deny": AdminAction.DENY, "Pass": AdminAction.PASS},
        egress_peers=(*INGRESS_PEERS, "nodes", "networks", "domainNames"),
        ports_key="ports",
        fixed_tier=Tier.ADMIN,
    ),
    (ANP_API_VERSION, "BaselineAdminNetworkPolicy"): AdminKind(
        api_version=ANP_API_VERSION,
        kind="BaselineAdminNetworkPolicy",
        max_items=100,
        actions={"Allow": AdminAction.ACCEPT, "Deny": AdminAction.DENY},
        egress_peers=(*INGRESS_PEERS, "nodes", "networks"),
        ports_key="ports",
        fixed_tier=Tier.BASELINE,
    ),
}
"""The admin policy kinds netverify models, by (apiVersion, kind)."""


def read_admin_policy(
    fields: ObjectFields, data: dict[str, object], kind: AdminKind, name: str
) -> AdminPolicy | None:
    """The policy, or None when any error was reported for it."""
    fields.check_fields(data, (), ("apiVersion", "kind", "metadata", "spec", "status"))
    if kind.kind == "BaselineAdminNetworkPolicy" and name != "default":
        fields.error(
            ("metadata", "name"),
            f'must be "default": only one BaselineAdminNetworkPolicy, named "default", '
            f'can exist in a cluster (got "{name}")',
        )
    raw_spec = fields.required(data, (), "spec")
    spec = None if raw_spec is None else fields.mapping(raw_spec, ("spec",))
    if spec is None:
        return None
    known = ["subject", "ingress", "egress"]
    if kind.fixed_tier is None:
        known.append("tier")
    if kind.kind != "BaselineAdminNetworkPolicy":
        known.append("priority")
    fields.check_fields(spec, ("spec",), known)
    tier = kind.fixed_tier or _read_tier(fields, spec)
    priority = None if "priority" not in known else _read_priority(fields, spec)
    subject = _read_subject(fields, spec, kind)
    rules = {direction: _read_rules(fields, spec, kind, direction) for direction in Direction}
    if fields.failed or tier is None or subject is None:
        return None
    return AdminPolicy(
        api_version=kind.api_version,
        kind=kind.kind,
        name=name,
        tier=tier,
        priority=priority,
        subject=subject,
        ingress=rules[Direction.INGRESS],
        egress=rules[Direction.EGRESS],
        ignored_checks=ignored_checks(data),
    )


def _read_tier(fields: ObjectFields, spec: dict[str, object]) -> Tier | None:
    raw = fields.required(spec, ("spec",), "tier")
    text = None if raw is None else fields.string(raw, ("spec", "tier"))
    if text is None:
        return None
    if (problem := choice_error("tier", text, [tier.value for tier in Tier])) is not None:
        fields.error(("spec", "tier"), problem)
        return None
    return Tier(text)


def _read_priority(fields: ObjectFields, spec: dict[str, object]) -> int | None:
    raw = fields.required(spec, ("spec",), "priority")
    priority = None if raw is None else fields.integer(raw, ("spec", "priority"))
    if priority is not None and not 0 <= priority <= MAX_PRIORITY:
        fields.error(
            ("spec", "priority"),
            f"must be between 0 and {MAX_PRIORITY}, inclusive (got {priority})",
        )
    return priority


def _read_subject(
    fields: ObjectFields, spec: dict[str, object], kind: AdminKind
) -> AdminSubject | None:
    path: Path = ("spec", "subject")
    raw = fields.required(spec, ("spec",), "subject")
    subject = None if raw is None else fields.mapping(raw, path)
    if subject is None:
        return None
    match fields.one_of(subject, path, INGRESS_PEERS):
        case "namespaces":
            selector = read_selector(fields, subject["namespaces"], (*path, "namespaces"))
            return None if selector is None else AdminSubject(namespaces=selector)
        case "pods":
            pods = _read_namespaced_pods(fields, subject["pods"], (*path, "pods"), kind)
            return None if pods is None else AdminSubject(pods=pods)
    return None


def _read_namespaced_pods(
    fields: ObjectFields, raw: object, path: Path, kind: AdminKind, before_v015: bool = False
) -> NamespacedPods | None:
    """`pods`: `podSelector` required; `namespaceSelector` required in v1alpha1 only. A
    peer written `before_v015` has `namespaces` (a `NamespacedPeer`, required) instead."""
    pods = fields.mapping(raw, path)
    if pods is None:
        return None
    namespaces_key = "namespaces" if before_v015 else "namespaceSelector"
    fields.check_fields(pods, path, (namespaces_key, "podSelector"))
    selectors: dict[str, LabelSelector | None] = {}
    for key in (namespaces_key, "podSelector"):
        optional = key == "namespaceSelector" and kind.api_version == CNP_API_VERSION
        value = pods.get(key) if optional else fields.required(pods, path, key)
        if value is None:
            selectors[key] = LabelSelector()
        elif key == "namespaces":
            selectors[key] = _read_namespaced_peer(fields, value, (*path, key))
        else:
            selectors[key] = read_selector(fields, value, (*path, key))
    namespaces, pod_selector = selectors[namespaces_key], selectors["podSelector"]
    if namespaces is None or pod_selector is None:
        return None
    return NamespacedPods(namespace_selector=namespaces, pod_selector=pod_selector)


def _read_rules(
    fields: ObjectFields, spec: dict[str, object], kind: AdminKind, direction: Direction
) -> tuple[AdminRule, ...]:
    path: Path = ("spec", RULES_KEY[direction])
    raw = spec.get(RULES_KEY[direction])
    if raw is None:
        return ()
    raw_rules = fields.sequence(raw, path) or []
    if len(raw_rules) > kind.max_items:
        fields.error(path, f"must have at most {kind.max_items} rules (has {len(raw_rules)})")
    rules = (
        _read_rule(fields, raw_rule, (*path, index), kind, direction)
        for index, raw_rule in enumerate(raw_rules)
    )
    return tuple(rule for rule in rules if rule is not None)


def _read_rule(
    fields: ObjectFields, raw: object, path: Path, kind: AdminKind, direction: Direction
) -> AdminRule | None:
    rule = fields.mapping(raw, path)
    if rule is None:
        return None
    peers_key = PEERS_KEY[direction]
    ports_key = _ports_key(fields, rule, path, kind)
    fields.check_fields(rule, path, ("name", "action", peers_key, ports_key))
    name = None
    if (raw_name := rule.get("name")) is not None:
        name = fields.string(raw_name, (*path, "name"))
        if name is not None and len(name) > MAX_RULE_NAME:
            fields.error((*path, "name"), f"must be no more than {MAX_RULE_NAME} characters")
    action = _read_action(fields, rule, path, kind)
    peers: list[AdminPeer] = []
    raw_peers = fields.required(rule, path, peers_key)
    peers_path: Path = (*path, peers_key)
    peer_items = [] if raw_peers is None else fields.sequence(raw_peers, peers_path)
    if peer_items is not None and raw_peers is not None:
        fields.check_count(peer_items, peers_path, kind.max_items)
        for index, raw_peer in enumerate(peer_items):
            peer = _read_peer(fields, raw_peer, (*peers_path, index), kind, direction)
            if peer is not None:
                peers.append(peer)
    ports = read_admin_ports(
        fields, rule.get(ports_key), (*path, ports_key), kind.max_items, ports_key == "protocols"
    )
    if any(peer.domain_names for peer in peers) and action is not AdminAction.ACCEPT:
        fields.error(peers_path, "domainNames peers are only supported for Accept/Allow rules")
    named = any(port.named_port is not None for port in ports)
    if named and any(peer.nodes or peer.networks or peer.domain_names for peer in peers):
        fields.error(
            (*path, ports_key),
            "networks/nodes/domainNames peer cannot be set with named ports since there are "
            "no named ports for networks/nodes/domainNames",
        )
    if action is None or fields.failed:
        return None
    return AdminRule(name=name, action=action, peers=tuple(peers), ports=ports)


def _ports_key(fields: ObjectFields, rule: dict[str, object], path: Path, kind: AdminKind) -> str:
    """The key of the rule's ports: the kind's, or, in a ClusterNetworkPolicy rule written
    with `ports` and no `protocols`, `ports`, as v1alpha2 named them before `protocols`
    replaced them (network-policy-api, February 2026; the conformance tests' manifests until
    then). Read as written (`portNumber`, `portRange`, `namedPort`, as in v1alpha1), not
    dropped as an unknown field, which would make a rule of three ports match every port."""
    if kind.ports_key != "protocols" or "ports" not in rule or "protocols" in rule:
        return kind.ports_key
    fields.warn_or_fail(
        (*path, "ports"),
        "the v1alpha2 schema before `protocols` replaced `ports`: read as written; a cluster "
        "whose CRD has `protocols` refuses the rule, or (without field validation) drops "
        "`ports` and applies the rule to every port",
    )
    return "ports"


def _read_action(
    fields: ObjectFields, rule: dict[str, object], path: Path, kind: AdminKind
) -> AdminAction | None:
    raw = fields.required(rule, path, "action")
    text = None if raw is None else fields.string(raw, (*path, "action"))
    if text is None:
        return None
    if (renamed := kind.renamed_actions.get(text)) is not None:
        fields.warn_or_fail(
            (*path, "action"),
            f"`{text}` is the {kind.api_version} action renamed `{renamed}` in September 2025 "
            f"(same meaning): read as `{renamed}`; write `action: {renamed}`, as a cluster "
            f"whose CRD has `{renamed}` refuses `{text}`",
        )
        return kind.actions[renamed]
    if (problem := choice_error("action", text, kind.actions)) is not None:
        fields.error((*path, "action"), problem)
        return None
    return kind.actions[text]


def _read_peer(
    fields: ObjectFields, raw: object, path: Path, kind: AdminKind, direction: Direction
) -> AdminPeer | None:
    peer = fields.mapping(raw, path)
    if peer is None:
        return None
    choices = kind.egress_peers if direction is Direction.EGRESS else INGRESS_PEERS
    key = fields.one_of(peer, path, choices)
    if key is None:
        return None
    value, field_path = peer[key], (*path, key)
    before_v015 = _written_before_v015(kind, key, value)
    match key:
        case "namespaces" | "nodes":
            if before_v015:
                selector = _read_namespaced_peer(fields, value, field_path)
            else:
                selector = read_selector(fields, value, field_path)
            return None if selector is None else AdminPeer.model_validate({key: selector})
        case "pods":
            pods = _read_namespaced_pods(fields, value, field_path, kind, before_v015)
            return None if pods is None else AdminPeer(pods=pods)
        case "networks":
            return AdminPeer(networks=_read_networks(fields, value, field_path))
        case _:
            return AdminPeer(domain_names=_read_domain_names(fields, value, field_path))


OLD_NAMESPACED_PEER = ("namespaceSelector", "sameLabels", "notSameLabels")
"""The fields of a peer's `namespaces` in v1alpha1 as released before network-policy-api
v0.1.5 (a `NamespacedPeer`, exactly one of them; `namespaces` is a label selector since),
as manifests written then (policy-assistant's walkthrough demo) still have them."""


def _written_before_v015(kind: AdminKind, key: str, value: object) -> bool:
    """Whether a v1alpha1 peer is written in the shape released before v0.1.5: `namespaces`
    with a `NamespacedPeer` field, or `pods` with `namespaces` (not `namespaceSelector`).
    Read as the label selector it was, not with the unknown field dropped, which would make
    `namespaces: {namespaceSelector: {matchLabels: ...}}` select every namespace."""
    if kind.api_version == CNP_API_VERSION or not isinstance(value, dict):
        return False
    if key == "namespaces":
        return any(key in value for key in OLD_NAMESPACED_PEER)
    return key == "pods" and "namespaces" in value


def _read_namespaced_peer(fields: ObjectFields, raw: object, path: Path) -> LabelSelector | None:
    """A `NamespacedPeer` (before v0.1.5) as the namespace selector it means; `sameLabels`
    and `notSameLabels` (namespaces that share, or do not share, label values with the
    subject's; removed in v0.1.5) are not modelled: an error, never a guess."""
    peer = fields.mapping(raw, path)
    if peer is None:
        return None
    key = fields.one_of(peer, path, OLD_NAMESPACED_PEER)
    if key is None:
        return None
    if key != "namespaceSelector":
        fields.error(
            (*path, key),
            f"{key} (v1alpha1 before network-policy-api v0.1.5, removed since) is not "
            "modelled: select the namespaces with namespaceSelector",
        )
        return None
    return read_selector(fields, peer[key], (*path, key))


def _strings(fields: ObjectFields, raw: object, path: Path) -> list[tuple[Path, str]] | None:
    """A list of 1-25 strings (`networks`, `domainNames`), each with its path."""
    items = fields.sequence(raw, path)
    if items is None:
        return None
    fields.check_count(items, path, MAX_LIST)
    texts = (
        (((*path, index)), fields.string(item, (*path, index))) for index, item in enumerate(items)
    )
    return [(item_path, text) for item_path, text in texts if text is not None]


def _read_networks(fields: ObjectFields, raw: object, path: Path) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for item_path, text in _strings(fields, raw, path) or ():
        network = parse_cidr(text)
        if network is None or len(text) > MAX_CIDR_LENGTH:
            fields.error(
                item_path, cidr_error(text) or f"must be at most {MAX_CIDR_LENGTH} characters"
            )
        else:
            networks.append(network)
    return tuple(networks)


def _read_domain_names(fields: ObjectFields, raw: object, path: Path) -> tuple[str, ...]:
    names: list[str] = []
    for item_path, text in _strings(fields, raw, path) or ():
        if not _DOMAIN_NAME.fullmatch(text):
            fields.error(
                item_path,
                f'invalid domain name "{text}": must be a DNS name, optionally starting with "*."',
            )
        names.append(text)
    return tuple(names)
