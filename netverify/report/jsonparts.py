"""The JSON shapes every command's output shares (an endpoint, a policy, a rule, a side of
a decision, a decision) and the one way documents are written (`dumps`): `prove`, `diff`,
`explain`, `matrix`, `fix` and SARIF spell them alike."""

import json

from netverify.model import (
    Endpoint,
    FlowDecision,
    ObjectRef,
    PodEndpoint,
    RuleRef,
    SideDecision,
    SourceMap,
    SourceSpan,
)
from netverify.report.describe import admitting_peers

JsonObject = dict[str, object]
"""A JSON object as the formats build it: keys in the order they are written."""


def span_json(span: SourceSpan | None) -> JsonObject | None:
    return None if span is None else {"file": span.file, "line": span.line}


def _endpoint(endpoint: Endpoint) -> JsonObject:
    if not isinstance(endpoint, PodEndpoint):
        return {
            "kind": "external",
            "namespace": None,
            "pod": None,
            "labels": {},
            "ip": str(endpoint.ip),
        }
    return {
        "kind": "pod",
        "namespace": endpoint.namespace.name,
        "pod": endpoint.pod.name,
        "exists": endpoint.pod.name is not None,
        "workload_kind": endpoint.pod.kind if endpoint.pod.name is not None else None,
        "labels": dict(sorted(endpoint.pod.labels.items())),
        "namespace_labels": dict(sorted(endpoint.namespace.labels.items())),
        "named_ports": [
            {"name": port.name, "port": port.port, "protocol": port.protocol.value}
            for port in endpoint.pod.ports
            if port.name
        ],
        "ip": None if endpoint.ip is None else str(endpoint.ip),
    }


def policy_name_json(ref: ObjectRef) -> JsonObject:
    """A policy's namespace and name; its `kind` appears only for admin policies."""
    name: JsonObject = {"namespace": ref.namespace, "name": ref.name}
    if ref.kind != "NetworkPolicy":
        name["kind"] = ref.kind
    return name


def policy_json(ref: ObjectRef, sources: SourceMap) -> JsonObject:
    return {**policy_name_json(ref), "location": span_json(sources.of_object(ref))}


def rule_json(ref: RuleRef, sources: SourceMap) -> JsonObject:
    return {
        "policy": policy_json(ref.policy, sources),
        "direction": ref.direction.value,
        "rule": ref.index,
        "location": span_json(sources.of_rule(ref)),
    }


def _side(side: SideDecision, sources: SourceMap) -> JsonObject:
    """A side; `admin_rule` and `passed_by` appear only when an admin policy rule matched."""
    fields: JsonObject = {
        "allowed": side.allowed,
        "governed": side.governed,
        "decided_by": None if side.decided_by is None else side.decided_by.value,
        "isolated_by": [policy_json(ref, sources) for ref in side.isolated_by],
        "allowed_by": [
            {**rule_json(ref, sources), "peer": peer}
            for ref, peer in zip(side.allowed_by, admitting_peers(side), strict=True)
        ],
    }
    for key, match in (("admin_rule", side.admin_rule), ("passed_by", side.passed_by)):
        if match is not None:
            fields[key] = {
                **rule_json(match.rule, sources),
                "kind": match.rule.policy.kind,
                "name": match.name,
                "action": match.action.value,
            }
    return fields


def decision_json(decision: FlowDecision, sources: SourceMap) -> JsonObject:
    flow = decision.flow
    return {
        "from": _endpoint(flow.source),
        "to": _endpoint(flow.destination),
        "protocol": flow.protocol.value,
        "port": flow.port,
        "allowed": decision.allowed,
        "self_traffic": decision.self_traffic,
        "node_local": decision.node_local,
        "egress": _side(decision.egress, sources),
        "ingress": _side(decision.ingress, sources),
    }


def dumps(document: object) -> str:
    """Deterministic JSON: stable key order as built, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
