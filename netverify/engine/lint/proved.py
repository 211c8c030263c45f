"""Checks proved with Z3 over every pod that could exist (any labels, any named ports, in
the existing namespaces or, where said, in namespaces that could be created); the
redundancy checks, proved too, live in `redundancy`."""

from collections.abc import Iterator

import z3

from netverify.encoding.decode import decode_flow
from netverify.encoding.terms import SymbolicEndpoint, protocol_code
from netverify.encoding.universe import ABSENT
from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import finding, register
from netverify.engine.lint.tierterms import egress_may_allow, side_may_allow
from netverify.engine.lint.witness import new_pod_text
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    Flow,
    LabelSelector,
    NetworkPolicy,
    Operator,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
    Protocol,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity

DNS_PORT = 53
KUBE_DNS_LABEL = ("k8s-app", "kube-dns")


@register(
    "NVL006",
    "egress-without-dns",
    "Egress isolation without a DNS path",
    FindingSeverity.WARNING,
    "Add an egress rule that admits UDP (and TCP) port 53 to kube-dns, e.g. to namespace "
    "kube-system pods k8s-app=kube-dns; without it the pods cannot resolve names.",
    proved=True,
)
def egress_without_dns(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    dns_pods = [
        pod for pod in context.pods if pod.pod.labels.get(KUBE_DNS_LABEL[0]) == KUBE_DNS_LABEL[1]
    ]
    verdicts: dict[int, bool] = {}
    for policy in context.cluster.policies:
        if Direction.EGRESS not in policy.policy_types:
            continue
        where = {"span": context.span_of(policy), "object": context.policy_ref(policy)}
        if not context.selected(policy):
            if _dns_allowed(context, context.selects(policy, Direction.EGRESS)) is False:
                yield finding(
                    info,
                    f"egress of every pod this policy selects to any destination on "
                    f"UDP/{DNS_PORT} is blocked: no egress rule that applies to those pods "
                    "admits it",
                    **where,
                )
            continue
        stuck = []
        for pod in context.selected(policy):
            if id(pod) not in verdicts:
                verdicts[id(pod)] = _reaches_dns(context, pod, dns_pods)
            if not verdicts[id(pod)]:
                stuck.append(f"{pod.pod.namespace}/{pod.pod.name}")
        if not stuck:
            continue
        target = "the kube-dns pods" if dns_pods else "any destination"
        shown = ", ".join(stuck[:3]) + (f" and {len(stuck) - 3} more" if len(stuck) > 3 else "")
        yield finding(
            info,
            f"egress of {len(stuck)} selected pod(s) to {target} on UDP/{DNS_PORT} is blocked: "
            f"{shown}",
            **where,
            related=tuple(stuck),
        )


def _reaches_dns(context: LintContext, pod: PodEndpoint, dns_pods: list[PodEndpoint]) -> bool:
    """Whether egress lets the pod send UDP/53 to a kube-dns pod (evaluated), or, when there
    is none, to any endpoint that could exist (proved); through the admin tiers, in some
    order of their policies."""
    if dns_pods:
        return any(
            egress_may_allow(
                context, Flow(source=pod, destination=dns, protocol=Protocol.UDP, port=DNS_PORT)
            )
            for dns in dns_pods
        )
    encoding = context.encoding
    source = encoding.flow.source
    labels = encoding.universe.pod_labels
    outcome = _dns_allowed(
        context,
        source.is_pod,
        z3.Not(source.host_network),
        encoding.namespace_is(source, pod.pod.namespace),
        *[
            source.pod_labels[key] == code
            for key, code in zip(labels.keys, labels.codes(pod.pod.labels), strict=True)
        ],
    )
    return outcome is not False


def _dns_allowed(context: LintContext, *source: z3.BoolRef) -> bool | None:
    """Whether egress lets a source that satisfies `source` send UDP/53 to some endpoint
    that could exist, through the admin tiers in some order of their policies: True, False
    (proved for every such source) or None (unknown)."""
    flow = context.encoding.flow
    return context.satisfiable(
        *source,
        flow.protocol == protocol_code(Protocol.UDP),
        flow.port == DNS_PORT,
        side_may_allow(context, Direction.EGRESS),
    )


@register(
    "NVL011",
    "peer-admits-future-pods",
    "Peer admits pods that do not exist yet, by label alone",
    FindingSeverity.WARNING,
    "Narrow the peer's namespaceSelector to the namespaces you mean (e.g. "
    "kubernetes.io/metadata.name), so that a pod created elsewhere with the same labels is not "
    "admitted.",
    proved=True,
)
def peer_admits_future_pods(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    encoding = context.encoding
    witnesses: dict[tuple[str, Direction, str], tuple[str, list[str]] | None] = {}
    for policy, direction, index, rule in context.rules(active=True):
        endpoint = (
            encoding.flow.source if direction is Direction.INGRESS else encoding.flow.destination
        )
        for peer_index, peer in enumerate(rule.peers):
            if (
                peer.namespace_selector is None
                or peer.pod_selector is None
                or _pinned_by_name(peer.namespace_selector)
            ):
                continue
            key = (policy.namespace, direction, peer.model_dump_json())
            if key not in witnesses:
                today = sorted(
                    {pod.pod.namespace for pod in context.peer_pods(peer, policy.namespace)}
                )
                witnesses[key] = _future_pod(context, policy, peer_index, rule, endpoint, today)
            witness = witnesses[key]
            if witness is None:
                continue
            found_pod, today = witness
            ref = context.rule_ref(policy, direction, index)
            field = "from" if direction is Direction.INGRESS else "to"
            where = ", ".join(today) if today else "no namespace"
            yield finding(
                info,
                f"{direction.value.lower()}[{index}].{field}[{peer_index}] admits "
                f"{found_pod}, a pod that does not exist yet but could be created; today "
                f"the peer matches pods in {where}",
                **context.at_rule(ref),
                related=(found_pod,),
            )


def _pinned_by_name(selector: LabelSelector) -> bool:
    """Whether the selector already names its namespaces (`kubernetes.io/metadata.name`),
    as NVL011's remediation asks: a namespace of that name can only be the one meant."""
    return NAMESPACE_NAME_LABEL in selector.match_labels or any(
        requirement.key == NAMESPACE_NAME_LABEL and requirement.operator is Operator.IN
        for requirement in selector.match_expressions
    )


def _future_pod(
    context: LintContext,
    policy: NetworkPolicy,
    peer_index: int,
    rule: PolicyRule,
    endpoint: SymbolicEndpoint,
    today: list[str],
) -> tuple[str, list[str]] | None:
    """A new pod the peer admits in a namespace where it admits no existing pod: in an
    existing namespace if possible, else in one that could be created."""
    encoding = context.encoding
    matches = encoding.policies.peer_matches(rule.peers[peer_index], policy.namespace, endpoint)
    base = [
        endpoint.is_pod,
        endpoint.pod_class == -1,
        matches,
        *[z3.Not(encoding.namespace_is(endpoint, name)) for name in today],
    ]
    selector = rule.peers[peer_index].pod_selector
    mentioned = (
        set()
        if selector is None
        else {*selector.match_labels, *(r.key for r in selector.match_expressions)}
    )
    plain = [label == ABSENT for key, label in endpoint.pod_labels.items() if key not in mentioned]
    scopes = [[encoding.existing_namespace(endpoint)]]
    if peer_selects_every_namespace(rule.peers[peer_index]):
        scopes.append([])
    solver = context.solver
    for scope in scopes:
        solver.push()
        try:
            solver.add(*base, *scope, *plain)
            if solver.check() != z3.sat:
                continue
            flow = decode_flow(encoding, solver.model())
        finally:
            solver.pop()
        found = flow.source if endpoint is encoding.flow.source else flow.destination
        if isinstance(found, PodEndpoint):
            text = new_pod_text(found)
            return (text if scope else text + " in a namespace that could be created"), today
    return None


def peer_selects_every_namespace(peer: PolicyPeer) -> bool:
    """`namespaceSelector: {}`: every namespace, including ones that could be created."""
    selector = peer.namespace_selector
    return selector is not None and not selector.match_labels and not selector.match_expressions
