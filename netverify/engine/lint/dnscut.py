"""Admin policy Deny rules that cut cluster DNS, proved with Z3 over every pod that could
exist and replayed through the reference evaluator: an Admin tier Deny on either side of the
flow (`NVL017`: final, whatever NetworkPolicy says), and a Baseline tier Deny on either side
where the Admin tier and NetworkPolicy leave the side to it (`NVL020`)."""

from collections.abc import Iterator

import z3

from netverify.encoding.capi import conj
from netverify.encoding.terms import SymbolicEndpoint, protocol_code
from netverify.encoding.universe import ip_number
from netverify.engine.lint.admin import rule_name
from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import finding, register
from netverify.engine.lint.tierterms import rule_sites, surely_decides
from netverify.engine.lint.witness import endpoint_text, flow_text, replay_mismatch, witness
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    AdminAction,
    Direction,
    Flow,
    Namespace,
    Pod,
    PodEndpoint,
    Protocol,
    RuleRef,
    Tier,
    pod_at_first_address,
)
from netverify.model.lint import CheckInfo, Finding, FindingSeverity
from netverify.model.system import SYSTEM_WORKLOADS
from netverify.semantics import evaluate

DNS_PORT = 53


def dns_endpoints(context: LintContext) -> list[PodEndpoint]:
    """The existing cluster DNS pods (the well-known kube-dns/CoreDNS workloads); when the
    manifests hold none, one kube-dns pod in kube-system as every cluster runs it."""
    found = [
        pod
        for pod in context.pods
        for workload in SYSTEM_WORKLOADS
        if pod.pod.namespace == workload.namespace
        and workload.labels.items() <= pod.pod.labels.items()
        and not pod.pod.host_network
    ]
    if found:
        return found
    workload = SYSTEM_WORKLOADS[0]
    namespace = context.namespaces.get(workload.namespace) or Namespace(
        name=workload.namespace, labels={NAMESPACE_NAME_LABEL: workload.namespace}
    )
    pod = Pod(namespace=workload.namespace, name=workload.name, labels=workload.labels)
    return [pod_at_first_address(namespace, pod)]


def _pinned(context: LintContext, endpoint: SymbolicEndpoint, pod: PodEndpoint) -> list[z3.BoolRef]:
    """The symbolic endpoint is a pod with the concrete pod's namespace labels, labels and
    (when known) address: every peer matches it exactly when it matches the concrete pod."""
    universe = context.encoding.universe
    terms = [endpoint.is_pod, z3.Not(endpoint.host_network)]
    for symbols, labels, values in (
        (endpoint.namespace_labels, universe.namespace_labels, pod.namespace.labels),
        (endpoint.pod_labels, universe.pod_labels, pod.pod.labels),
    ):
        codes = labels.codes(values)
        terms += [symbols[key] == code for key, code in zip(labels.keys, codes, strict=True)]
    if pod.ip is not None:
        terms += [endpoint.has_ip, endpoint.ip == ip_number(pod.ip)]
    return terms


def _dns_cut(context: LintContext, check: str, ref: RuleRef, decides: z3.BoolRef) -> Flow | None:
    """A DNS query (UDP/53, else TCP/53) from a pod (not host-network, not the DNS pod
    itself: its traffic to itself bypasses both sides) to a cluster DNS pod on which
    `decides` holds, replayed: the side of `ref`'s direction must be denied by `ref`."""
    encoding = context.encoding
    flow_terms = encoding.flow
    for target in dns_endpoints(context):
        for protocol in (Protocol.UDP, Protocol.TCP):
            flow = witness(
                context,
                decides,
                flow_terms.source.is_pod,
                z3.Not(flow_terms.source.host_network),
                z3.Not(encoding.self_traffic),
                flow_terms.port == DNS_PORT,
                flow_terms.protocol == protocol_code(protocol),
                *_pinned(context, flow_terms.destination, target),
            )
            if flow is None:
                continue
            # The target keeps the address the solver gave it where the manifests give
            # none (one of the pod CIDRs): a networks peer may match it there.
            placed = target.model_copy(update={"ip": target.ip or flow.destination.ip})
            found = flow.model_copy(update={"destination": placed, "same_node": False})
            decision = evaluate(context.cluster, found, context.settings)
            side = decision.egress if ref.direction is Direction.EGRESS else decision.ingress
            if side.allowed or side.admin_rule is None or side.admin_rule.rule != ref:
                raise replay_mismatch(check, found)
            return found
    return None


@register(
    "NVL017",
    "admin-deny-cuts-dns",
    "Admin tier Deny that blocks DNS, at the clients or at the DNS pods",
    FindingSeverity.WARNING,
    "Put a Pass (or Accept) rule for UDP and TCP port 53 to the cluster DNS pods (kube-system, "
    "k8s-app=kube-dns), or for an ingress Deny at them from the pods that query them, before "
    "the Deny, or narrow the Deny's peers; without DNS the pods cannot resolve names.",
    proved=True,
)
def admin_deny_cuts_dns(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    for direction in Direction:
        for admin, policy, index, ref in rule_sites(
            context, Tier.ADMIN, direction, AdminAction.DENY
        ):
            found = _dns_cut(context, info.id, ref, surely_decides(admin, policy, direction, index))
            if found is None:
                continue
            # NOTE: an Admin tier Deny is final: no NetworkPolicy, and no Accept of the
            # other side, lets the flow through.
            cut = (
                "the pods it applies to"
                if direction is Direction.EGRESS
                else "the pods whose queries it blocks"
            )
            yield finding(
                info,
                f"{rule_name(policy, direction, index)} denies DNS whichever order "
                f"the admin policies take: {flow_text(found)} is blocked, so {cut} cannot "
                "resolve names",
                **context.at_rule(ref),
                related=(flow_text(found),),
            )


@register(
    "NVL020",
    "baseline-deny-cuts-dns",
    "Baseline tier Deny that blocks DNS where no NetworkPolicy decides it",
    FindingSeverity.WARNING,
    "Put an Accept rule for UDP and TCP port 53 to (for an ingress Deny: at) the cluster DNS "
    "pods (kube-system, k8s-app=kube-dns) before the Deny, or narrow the Deny; a NetworkPolicy "
    "that admits DNS on that side (the clients' egress, or the DNS pods' ingress) decides "
    "before the Baseline tier and does as well. Without DNS the pods cannot resolve names.",
    proved=True,
)
def baseline_deny_cuts_dns(context: LintContext, info: CheckInfo) -> Iterator[Finding]:
    encoding = context.encoding
    for direction in Direction:
        sites = list(rule_sites(context, Tier.BASELINE, direction, AdminAction.DENY))
        if not sites:
            continue
        network_policy = encoding.policies.network_policy_layer(direction)
        for admin, policy, index, ref in sites:
            admin_tier = admin.tier(Tier.ADMIN, direction)
            # The Admin tier passes the side on in every order, NetworkPolicy leaves it
            # alone, and the Deny decides the Baseline tier in every order.
            decides = conj(
                [
                    z3.Not(admin_tier.can_accept),
                    z3.Not(admin_tier.can_deny),
                    z3.Not(network_policy.decides),
                    surely_decides(admin, policy, direction, index),
                ]
            )
            found = _dns_cut(context, info.id, ref, decides)
            if found is None:
                continue
            where = (
                "no NetworkPolicy isolates the client for egress"
                if direction is Direction.EGRESS
                else f"no NetworkPolicy isolates {endpoint_text(found.destination)} for ingress"
            )
            yield finding(
                info,
                f"{rule_name(policy, direction, index)} denies DNS whichever order "
                f"the admin policies take, where {where}: {flow_text(found)} is blocked, so "
                "the pods it blocks cannot resolve names",
                **context.at_rule(ref),
                related=(flow_text(found),),
            )
