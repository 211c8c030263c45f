"""JSON output. Contract (fields may be added, never changed):
`{"results": [{"name", "kind", "status", "counterexample": null | {"from": {"namespace",
"pod", "labels", "ip"}, "to": {...}, "protocol", "port", ...}, ...}], "summary": {...}}`.
"""

import json

from netverify.model import (
    Endpoint,
    Explanation,
    FlowDecision,
    InvariantResult,
    ObjectRef,
    PodEndpoint,
    Report,
    RuleRef,
    SideDecision,
    SourceMap,
    SourceSpan,
    Status,
    Witness,
)
from netverify.model.diff import Change, DiffFinding, DiffReport, EndpointGroup

JsonObject = dict[str, object]


def _span(span: SourceSpan | None) -> JsonObject | None:
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


def _policy(ref: ObjectRef, sources: SourceMap) -> JsonObject:
    return {
        "namespace": ref.namespace,
        "name": ref.name,
        "location": _span(sources.of_object(ref)),
    }


def _rule(ref: RuleRef, sources: SourceMap) -> JsonObject:
    return {
        "policy": _policy(ref.policy, sources),
        "direction": ref.direction.value,
        "rule": ref.index,
        "location": _span(sources.of_rule(ref)),
    }


def _side(side: SideDecision, sources: SourceMap) -> JsonObject:
    return {
        "allowed": side.allowed,
        "governed": side.governed,
        "decided_by": None if side.decided_by is None else side.decided_by.value,
        "isolated_by": [_policy(ref, sources) for ref in side.isolated_by],
        "allowed_by": [_rule(ref, sources) for ref in side.allowed_by],
    }


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


def explanation_json(explanation: Explanation, sources: SourceMap) -> JsonObject:
    """`explain`'s answer: the flow across nodes, and `same_node` (the flow placed on one
    node) when one end is a hostNetwork pod that may share a node with the other."""
    same_node = explanation.same_node
    return {
        **decision_json(explanation.decision, sources),
        "allowed": explanation.allowed,
        "across_nodes_allowed": explanation.decision.allowed,
        "same_node": None if same_node is None else decision_json(same_node, sources),
    }


def _witness(witness: Witness | None, sources: SourceMap) -> JsonObject | None:
    return None if witness is None else decision_json(witness.decision, sources)


def _result(result: InvariantResult, sources: SourceMap) -> JsonObject:
    return {
        "name": result.name,
        "kind": result.kind.value,
        "status": result.status.value,
        "description": result.description,
        "location": _span(result.location),
        "scope": result.scope,
        "reason": result.reason,
        "counterexample": _witness(result.counterexample, sources),
        "witness": _witness(result.witness, sources),
    }


def report_json(report: Report) -> JsonObject:
    summary: JsonObject = {"total": len(report.results)}
    for status in Status:
        summary[status.value] = sum(1 for result in report.results if result.status is status)
    return {
        "spec": report.spec_file,
        "results": [_result(result, report.sources) for result in report.results],
        "summary": summary,
        "assumptions": list(report.assumptions),
    }


def dumps(document: object) -> str:
    """Deterministic JSON: stable key order as built, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _group(group: EndpointGroup) -> JsonObject:
    return {
        "kind": group.kind,
        "namespace": group.namespace,
        "pods": list(group.pods),
        "labels": dict(sorted(group.labels.items())),
    }


def _finding(finding: DiffFinding, report: DiffReport) -> JsonObject:
    return {
        "change": finding.change.value,
        "from": _group(finding.source),
        "also_from": [_group(group) for group in finding.other_sources],
        "to": _group(finding.destination),
        "also_to": [_group(group) for group in finding.other_destinations],
        "protocol": finding.protocol.value,
        "ports": [{"start": port.start, "end": port.end} for port in finding.ports],
        "witness": {
            "base": decision_json(finding.base, report.base_sources),
            "head": decision_json(finding.head, report.head_sources),
        },
    }


def diff_json(report: DiffReport) -> JsonObject:
    added = sum(1 for finding in report.findings if finding.change is Change.ADDED)
    return {
        "base": report.base_label,
        "head": report.head_label,
        "findings": [_finding(finding, report) for finding in report.findings],
        "summary": {
            "added": added,
            "removed": len(report.findings) - added,
            "complete": report.complete,
            "incomplete_reason": report.incomplete_reason,
            "error": report.error,
        },
        "scope": report.scope,
        "assumptions": list(report.assumptions),
    }
