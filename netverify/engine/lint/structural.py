"""Checks decided by evaluating the existing pods, namespaces and policies directly."""

from collections.abc import Iterator

from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import finding, register
from netverify.engine.lint.suggest import Labelled, did_you_mean, pod_target
from netverify.engine.podbits import union
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    IPBlock,
    ObjectRef,
    PodEndpoint,
    PolicyPeer,
    Protocol,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity
from netverify.model.system import SYSTEM_WORKLOADS
from netverify.semantics import (
    ip_block_contains,
    policy_selects,
    rule_peers_match,
    selector_matches,
)

_RULES_KEY = {Direction.INGRESS: "ingress", Direction.EGRESS: "egress"}
HOST_NETWORK_REMEDIATION = (
    "A NetworkPolicy cannot isolate a hostNetwork pod: protect it on the node (a host "
    "firewall, or the network plugin's host-endpoint policy), and delete the policy or keep it "
    "only as documentation."
)


def _examples(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@register(
    "NVL001",
    "policy-selects-no-pod",
    "Policy selects no existing pod",
    FindingSeverity.WARNING,
    "Fix spec.podSelector so that it matches the labels of the pods you mean, or delete the "
    "policy if those pods are gone (or run with hostNetwork: no policy isolates those).",
)
def policy_selects_no_pod(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for policy in context.cluster.policies:
        if context.selected(policy):
            continue
        in_namespace = context.pods_by_namespace.get(policy.namespace, [])
        on_host = [
            f"{pod.pod.namespace}/{pod.pod.name}"
            for pod in in_namespace
            if pod.pod.host_network and selector_matches(policy.pod_selector, pod.pod.labels)
        ]
        where = {"span": context.span_of(policy), "object": context.policy_ref(policy)}
        if on_host:
            yield finding(
                info,
                f"spec.podSelector selects only hostNetwork pods ({_examples(on_host)}), which "
                "NetworkPolicy does not apply to: their traffic is the node's",
                **where,
                related=tuple(on_host),
                remediation=HOST_NETWORK_REMEDIATION,
            )
            continue
        hint = did_you_mean(policy.pod_selector, _governed(in_namespace))
        message = f"spec.podSelector selects none of the {len(in_namespace)} pods of namespace "
        message += f"{policy.namespace}" + (f"; {hint}" if hint else "")
        yield finding(info, message, **where)


@register(
    "NVL002",
    "peer-matches-nothing",
    "Peer selector matches no existing namespace or pod",
    FindingSeverity.WARNING,
    "Fix the peer's namespaceSelector or podSelector to match the labels in use (a typo in a "
    "label silently admits nobody).",
)
def peer_matches_nothing(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for policy, direction, index, rule in context.rules():
        for peer_index, peer in enumerate(rule.peers):
            message = _peer_problem(context, policy.namespace, peer)
            if message is None:
                continue
            ref = context.rule_ref(policy, direction, index)
            field = "from" if direction is Direction.INGRESS else "to"
            yield finding(
                info,
                f"{_RULES_KEY[direction]}[{index}].{field}[{peer_index}]: {message}",
                **context.at_rule(ref),
            )


def _peer_problem(context: LintContext, namespace: str, peer: PolicyPeer) -> str | None:
    if peer.ip_block is not None or _may_be_system_workload(namespace, peer):
        return None
    key = (namespace, peer.model_dump_json())
    if key not in context.peer_problems:
        context.peer_problems[key] = _find_peer_problem(context, namespace, peer)
    return context.peer_problems[key]


def _may_be_system_workload(namespace: str, peer: PolicyPeer) -> bool:
    """Whether the peer (of a policy in `namespace`) matches a well-known system workload,
    such as kube-dns, that manifests outside the cluster's own rarely define."""
    for workload in SYSTEM_WORKLOADS:
        namespace_labels = {NAMESPACE_NAME_LABEL: workload.namespace}
        in_namespace = (
            namespace == workload.namespace
            if peer.namespace_selector is None
            else selector_matches(peer.namespace_selector, namespace_labels)
        )
        if in_namespace and (
            peer.pod_selector is None or selector_matches(peer.pod_selector, workload.labels)
        ):
            return True
    return False


def _governed(pods: list[PodEndpoint]) -> list[Labelled]:
    """The labels of the pods a fixed selector could select (not hostNetwork pods: policies
    neither select nor match them), with their targets."""
    return [(pod_target(pod), pod.pod.labels) for pod in pods if not pod.pod.host_network]


def _find_peer_problem(context: LintContext, namespace: str, peer: PolicyPeer) -> str | None:
    if peer.namespace_selector is None:
        namespaces = [context.namespaces[namespace]] if namespace in context.namespaces else []
    else:
        namespaces = [
            ns
            for ns in context.cluster.namespaces
            if selector_matches(peer.namespace_selector, ns.labels)
        ]
        if not namespaces:
            hint = did_you_mean(
                peer.namespace_selector, ((ns.name, ns.labels) for ns in context.cluster.namespaces)
            )
            return "namespaceSelector matches no existing namespace" + (f"; {hint}" if hint else "")
    selector = peer.pod_selector
    if selector is None or (not selector.match_labels and not selector.match_expressions):
        return None
    bits = context.pod_bits
    in_namespaces = union(bits.by_namespace.get(ns.name, 0) for ns in namespaces)
    if in_namespaces & bits.labels_bits(selector):
        return None
    candidates = [pod for ns in namespaces for pod in context.pods_by_namespace.get(ns.name, [])]
    hint = did_you_mean(selector, _governed(candidates))
    where = ", ".join(ns.name for ns in namespaces)
    return f"podSelector matches no existing pod in {where}" + (f"; {hint}" if hint else "")


@register(
    "NVL007",
    "named-port-undefined",
    "Named port that no selected destination defines",
    FindingSeverity.WARNING,
    "Use the containerPort name the destination pods define (or a port number); a name no pod "
    "defines admits nothing.",
)
def named_port_undefined(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    defining: dict[tuple[str, Protocol], list[PodEndpoint]] = {}
    for pod in context.pods:
        for port in pod.pod.ports:
            if port.name:
                defining.setdefault((port.name, port.protocol), []).append(pod)
    for policy, direction, index, rule in context.rules():
        selected = context.selected(policy)
        if direction is Direction.INGRESS and not selected:
            continue
        for entry in rule.ports:
            name = entry.named_port
            if name is None:
                continue
            candidates = defining.get((name, entry.protocol), [])
            if direction is Direction.INGRESS:
                defined = any(any(pod is c for c in candidates) for pod in selected)
                where = f"none of the {len(selected)} pods the policy selects"
            else:
                defined = any(
                    rule_peers_match(rule, policy.namespace, addressed, context.settings)
                    for pod in candidates
                    for addressed in context.addresses.of(pod)
                )
                where = "no pod the rule's peers match"
            if defined:
                continue
            ref = context.rule_ref(policy, direction, index)
            yield finding(
                info,
                f"{_RULES_KEY[direction]}[{index}]: port `{name}` ({entry.protocol.value})"
                f" is defined by {where}",
                **context.at_rule(ref),
            )


@register(
    "NVL008",
    "ipblock-covers-pods",
    "ipBlock covers pod addresses",
    FindingSeverity.WARNING,
    "Select pods with podSelector/namespaceSelector instead of addresses (pod IPs change, and "
    "network plugins disagree on whether ipBlock matches pods), or add the pod CIDR to except.",
)
def ip_block_covers_pods(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    covered: dict[IPBlock, list[str]] = {}
    for policy, direction, index, rule in context.rules():
        for peer in rule.peers:
            block = peer.ip_block
            if block is None:
                continue
            if block not in covered:
                covered[block] = [
                    f"{pod.pod.namespace}/{pod.pod.name} ({ip})"
                    for pod in context.pods
                    for ip in pod.pod.ips
                    if ip_block_contains(block, ip)
                ]
            pods = covered[block]
            cidrs = [
                str(cidr)
                for cidr in context.settings.pod_cidrs
                if cidr.version == block.cidr.version
                and cidr.overlaps(block.cidr)
                and not any(cidr.subnet_of(e) for e in block.excepts)  # type: ignore[arg-type]
            ]
            if not pods and not cidrs:
                continue
            what = []
            if pods:
                what.append(f"{len(pods)} pod addresses: {_examples(pods)}")
            if cidrs:
                what.append(f"the pod CIDRs {', '.join(cidrs)}")
            ref = context.rule_ref(policy, direction, index)
            yield finding(
                info,
                f"{_RULES_KEY[direction]}[{index}]: ipBlock {block.cidr} covers "
                + " and ".join(what),
                **context.at_rule(ref),
                related=tuple(pods),
            )


@register(
    "NVL009",
    "rules-ignored-by-policy-types",
    "Rules of a direction that policyTypes leaves out",
    FindingSeverity.ERROR,
    "Add the direction to spec.policyTypes (or delete the rules): rules of a direction not in "
    "policyTypes have no effect.",
)
def rules_ignored(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for policy in context.cluster.policies:
        for direction in Direction:
            rules = policy.rules(direction)
            if not rules or direction in policy.policy_types:
                continue
            ref = context.rule_ref(policy, direction, 0)
            types = ", ".join(sorted(t.value for t in policy.policy_types))
            yield finding(
                info,
                f"{len(rules)} {_RULES_KEY[direction]} rule(s) but policyTypes is [{types}]: "
                f"they have no effect",
                **context.at_rule(ref),
            )


@register(
    "NVL010",
    "partial-isolation",
    "Namespace where some pods are isolated and others are not",
    FindingSeverity.INFO,
    "Add a default-deny policy (podSelector: {}) for the direction, or make sure the pods left "
    "open are meant to be.",
)
def partial_isolation(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for namespace in context.cluster.namespaces:
        pods = [
            p for p in context.pods_by_namespace.get(namespace.name, []) if not p.pod.host_network
        ]
        policies = [p for p in context.cluster.policies if p.namespace == namespace.name]
        for direction in Direction:
            isolated = [
                pod
                for pod in pods
                if any(direction in p.policy_types and policy_selects(p, pod) for p in policies)
            ]
            if not isolated or len(isolated) == len(pods):
                continue
            open_pods = [f"{p.pod.namespace}/{p.pod.name}" for p in pods if p not in isolated]
            ref = next(
                (context.policy_ref(p) for p in policies if direction in p.policy_types),
                None,
            )
            yield finding(
                info,
                f"{len(isolated)} of {len(pods)} pods are isolated "
                f"for {direction.value.lower()}; not isolated: {_examples(open_pods)}",
                span=context.sources.of_object(_namespace_ref(namespace.name))
                or (context.sources.of_object(ref) if ref else None),
                object=_namespace_ref(namespace.name),
                related=tuple(open_pods),
            )


def _namespace_ref(name: str) -> ObjectRef:
    return ObjectRef(kind="Namespace", namespace=None, name=name)


@register(
    "NVL019",
    "port-entry-without-port",
    "Ports entry that names only a protocol beside entries that name ports",
    FindingSeverity.WARNING,
    "If the entry was meant as the protocol of the port before it, write the two as one list "
    "item (`- port: 5558` with `protocol: TCP` under it); an entry with only a protocol admits "
    "every port of that protocol.",
)
def port_entry_without_port(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    """Argo CD's dex policy (argoproj/argo-cd#6420) wrote `- port: 5558` and `- protocol:
    TCP` as two items, opening every TCP port to every namespace until the next PR fixed the
    indentation. The API server takes it, and the rule is valid: only the mix says typo."""
    for policy, direction, index, rule in context.rules():
        numbered = [
            position
            for position, port in enumerate(rule.ports)
            if port.port_range is not None or port.named_port is not None
        ]
        if not numbered:
            continue
        for position, port in enumerate(rule.ports):
            if port.port_range is not None or port.named_port is not None:
                continue
            protocol = port.protocol.value
            subsumed = [p for p in numbered if rule.ports[p].protocol is port.protocol]
            effect = (
                f"so ports[{subsumed[0]}] adds nothing"
                if subsumed
                else f"beside the ports that ports[{numbered[0]}] names"
            )
            ref = context.rule_ref(policy, direction, index)
            yield finding(
                info,
                f"{_RULES_KEY[direction]}[{index}].ports[{position}] names only {protocol}: it "
                f"admits every {protocol} port, {effect}",
                **context.at_rule(ref),
            )
