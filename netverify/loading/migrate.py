"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1) as ClusterNetworkPolicy
(v1alpha2) manifests, for `netverify migrate`.

The conversion starts from the normalised model (`netverify.model.admin_policy`), so it
writes what netverify understood, field by field: `Allow` -> `Accept`; an
AdminNetworkPolicy -> tier Admin with its priority; the BaselineAdminNetworkPolicy -> tier
Baseline with priority `BASELINE_PRIORITY`; `ports` -> `protocols` (`portNumber` ->
`destinationPort.number`, `portRange` -> `destinationPort.range`, a one-port range ->
`number`, `namedPort` -> `destinationNamedPort`); subjects, peers, policy and rule names
unchanged. What v1alpha2 cannot say (more than 25 rules, peers or ports, where v1alpha1
allows 100) is an error, never a silent change.
"""

from collections.abc import Callable
from dataclasses import dataclass

import yaml

from netverify.loading.adminpolicy import MAX_PRIORITY
from netverify.loading.render import selector_manifest
from netverify.model import (
    ANP_API_VERSION,
    CNP_API_VERSION,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    Diagnostic,
    Direction,
    InputError,
    LoadedCluster,
    NamespacedPods,
    PolicyPort,
    Protocol,
    RuleRef,
    Severity,
    SourceSpan,
    short_name,
)

BASELINE_PRIORITY = MAX_PRIORITY
"""The converted BaselineAdminNetworkPolicy's priority. It was its tier's only policy, so
any priority keeps its meaning in a cluster without Baseline ClusterNetworkPolicies; the
last one (lowest precedence) keeps the catch-all default behind any Baseline
ClusterNetworkPolicy written since, whose author meant it to be more specific."""
CNP_MAX_ITEMS = 25
"""v1alpha2's most rules per direction, peers per rule and `protocols` per rule."""
_ACTIONS = {AdminAction.ACCEPT: "Accept", AdminAction.DENY: "Deny", AdminAction.PASS: "Pass"}
_V1ALPHA1_ACTIONS = {**_ACTIONS, AdminAction.ACCEPT: "Allow"}
_PEERS_KEY = {Direction.INGRESS: "from", Direction.EGRESS: "to"}
_RULES_KEY = {Direction.INGRESS: "ingress", Direction.EGRESS: "egress"}

Manifest = dict[str, object]


@dataclass(frozen=True)
class ConvertedPolicy:
    """One v1alpha1 policy and the ClusterNetworkPolicy that replaces it."""

    original: AdminPolicy
    manifest: Manifest

    @property
    def file_name(self) -> str:
        """`NAME.yaml` (a policy name is a DNS subdomain: safe as a file name)."""
        return f"{self.original.name}.yaml"

    @property
    def yaml_text(self) -> str:
        text: str = yaml.safe_dump(self.manifest, sort_keys=False, default_flow_style=False)
        return text


def convert_v1alpha1(loaded: LoadedCluster) -> list[ConvertedPolicy]:
    """Every AdminNetworkPolicy and BaselineAdminNetworkPolicy of the cluster as a
    ClusterNetworkPolicy, sorted by name; raises `InputError` (file:line) for whatever has
    no v1alpha2 equivalent or would clash with another ClusterNetworkPolicy's name."""
    sources = loaded.sources
    olds = [p for p in loaded.cluster.admin_policies if p.api_version == ANP_API_VERSION]
    taken: dict[str, AdminPolicy] = {
        p.name: p for p in loaded.cluster.admin_policies if p.api_version == CNP_API_VERSION
    }
    errors: list[Diagnostic] = []
    for policy in olds:
        for where, problem in _v1alpha2_gaps(policy):
            span = sources.of_object(policy.ref) if where is None else sources.of_rule(where)
            errors.append(_error(policy, problem, span))
        if (clash := taken.get(policy.name)) is not None:
            errors.append(
                _error(
                    policy,
                    f"its ClusterNetworkPolicy would be named like {short_name(clash.ref)}; "
                    "rename one of them first",
                    sources.of_object(policy.ref),
                )
            )
        taken[policy.name] = policy
    if errors:
        raise InputError(errors)
    converted = (ConvertedPolicy(policy, cluster_network_policy(policy)) for policy in olds)
    return sorted(converted, key=lambda one: one.original.name)


def migrated_cluster(cluster: Cluster, converted: Cluster) -> Cluster:
    """`cluster` with its v1alpha1 admin policies replaced by `converted`'s policies."""
    kept = [p for p in cluster.admin_policies if p.api_version != ANP_API_VERSION]
    policies = sorted([*kept, *converted.admin_policies], key=lambda p: (p.kind, p.name))
    return cluster.model_copy(update={"admin_policies": tuple(policies)})


def cluster_network_policy(policy: AdminPolicy) -> Manifest:
    """The ClusterNetworkPolicy manifest that means what `policy` means."""
    spec: Manifest = {
        "tier": policy.tier.value,
        "priority": BASELINE_PRIORITY if policy.priority is None else policy.priority,
        "subject": _subject(policy.subject),
    }
    for direction in Direction:
        if rules := policy.rules(direction):
            spec[_RULES_KEY[direction]] = [_rule(rule, direction) for rule in rules]
    return {
        "apiVersion": CNP_API_VERSION,
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": policy.name},
        "spec": spec,
    }


def admin_policy_manifest(policy: AdminPolicy) -> Manifest:
    """The manifest of `policy` in its own API version: a ClusterNetworkPolicy as above, a
    v1alpha1 policy with `Allow` and `ports` (`portNumber`, `portRange`, `namedPort`), as
    `fix` writes a new Admin tier policy among v1alpha1 ones."""
    if policy.api_version == CNP_API_VERSION:
        return cluster_network_policy(policy)
    spec: Manifest = {} if policy.priority is None else {"priority": policy.priority}
    spec["subject"] = _subject(policy.subject)
    for direction in Direction:
        if rules := policy.rules(direction):
            spec[_RULES_KEY[direction]] = [_rule(rule, direction, v1alpha1=True) for rule in rules]
    return {
        "apiVersion": ANP_API_VERSION,
        "kind": policy.kind,
        "metadata": {"name": policy.name},
        "spec": spec,
    }


def _error(policy: AdminPolicy, problem: str, span: SourceSpan | None) -> Diagnostic:
    return Diagnostic(
        severity=Severity.ERROR,
        message=f"no ClusterNetworkPolicy equivalent: {problem}",
        span=span,
        object=str(policy.ref),
    )


def _v1alpha2_gaps(policy: AdminPolicy) -> list[tuple[RuleRef | None, str]]:
    """What v1alpha2 cannot say of the policy, each at its rule (None: the policy)."""
    gaps: list[tuple[RuleRef | None, str]] = []
    for direction in Direction:
        rules = policy.rules(direction)
        key = _RULES_KEY[direction]
        if len(rules) > CNP_MAX_ITEMS:
            gaps.append((None, f"{len(rules)} {key} rules (a ClusterNetworkPolicy has at most 25)"))
        for index, rule in enumerate(rules):
            where = RuleRef(policy=policy.ref, direction=direction, index=index)
            peers, protocols = len(rule.peers), len(_protocols(rule.ports))
            if peers > CNP_MAX_ITEMS:
                gaps.append((where, f"{key}[{index}] has {peers} peers (at most 25 in v1alpha2)"))
            if protocols > CNP_MAX_ITEMS:
                gaps.append(
                    (where, f"{key}[{index}] has {protocols} ports (at most 25 in v1alpha2)")
                )
    return gaps


def _rule(rule: AdminRule, direction: Direction, v1alpha1: bool = False) -> Manifest:
    converted: Manifest = {} if rule.name is None else {"name": rule.name}
    converted["action"] = (_V1ALPHA1_ACTIONS if v1alpha1 else _ACTIONS)[rule.action]
    converted[_PEERS_KEY[direction]] = [_peer(peer) for peer in rule.peers]
    if rule.ports and v1alpha1:
        converted["ports"] = _v1alpha1_ports(rule.ports)
    elif rule.ports:
        converted["protocols"] = _protocols(rule.ports)
    return converted


def _pods(pods: NamespacedPods) -> Manifest:
    return {
        "namespaceSelector": selector_manifest(pods.namespace_selector),
        "podSelector": selector_manifest(pods.pod_selector),
    }


def _subject(subject: AdminSubject) -> Manifest:
    if subject.namespaces is not None:
        return {"namespaces": selector_manifest(subject.namespaces)}
    assert subject.pods is not None
    return {"pods": _pods(subject.pods)}


def _peer(peer: AdminPeer) -> Manifest:
    """The peer's one field, in v1alpha2's spelling (the same as v1alpha1's)."""
    if peer.namespaces is not None:
        return {"namespaces": selector_manifest(peer.namespaces)}
    if peer.pods is not None:
        return {"pods": _pods(peer.pods)}
    if peer.nodes is not None:
        return {"nodes": selector_manifest(peer.nodes)}
    if peer.networks:
        return {"networks": [str(network) for network in peer.networks]}
    return {"domainNames": list(peer.domain_names)}


def _protocols(ports: tuple[PolicyPort, ...]) -> list[Manifest]:
    """v1alpha2 `protocols` entries: a named port once, as `destinationNamedPort`; a number
    or range under its protocol."""

    def numbered(protocol: Protocol, start: int, end: int) -> Manifest:
        destination = {"number": start} if start == end else {"range": {"start": start, "end": end}}
        return {protocol.value.lower(): {"destinationPort": destination}}

    return _port_entries(ports, "destinationNamedPort", numbered)


def _v1alpha1_ports(ports: tuple[PolicyPort, ...]) -> list[Manifest]:
    """v1alpha1 `ports` entries: a named port once, as `namedPort`; a number or range with
    its protocol."""

    def numbered(protocol: Protocol, start: int, end: int) -> Manifest:
        if start == end:
            return {"portNumber": {"protocol": protocol.value, "port": start}}
        return {"portRange": {"protocol": protocol.value, "start": start, "end": end}}

    return _port_entries(ports, "namedPort", numbered)


def _port_entries(
    ports: tuple[PolicyPort, ...],
    named_key: str,
    numbered: Callable[[Protocol, int, int], Manifest],
) -> list[Manifest]:
    """The ports as either API version writes them: a named port was normalised to one
    `PolicyPort` per protocol and is written once; a number or range by `numbered`."""
    entries: list[Manifest] = []
    for port in ports:
        if port.named_port is not None:
            entry: Manifest = {named_key: port.named_port}
            if entry not in entries:
                entries.append(entry)
            continue
        # NOTE: admin policies' ports always name a number or a range (there is no "every
        # port of a protocol" entry), so `port_range` is set.
        assert port.port_range is not None
        entries.append(numbered(port.protocol, port.port_range.start, port.port_range.end))
    return entries
