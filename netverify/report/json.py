"""JSON output of every command. Contracts (fields may be added, never changed):

- `prove`: `{"results": [{"name", "kind", "status", "counterexample": null | {"from":
  {"namespace", "pod", "labels", "ip"}, "to": {...}, "protocol", "port", ...}, ...,
  "spec"}], "summary": {...}, "specs": [{"file", "assumptions"}]}`; with `--all`, a violated
  forbid or require also has `"findings": [{"from", "also_from", "to", "also_to", "protocol",
  "ports", "witness"}]`, `"findings_complete"` and `"findings_incomplete_reason"`.
- `explain`: one decision, as a counterexample above.
- `diff`: `{"base", "head", "findings": [{"change", "from", ..., "witness", "cause": null |
  {"revision": "base" | "head", "rule": null | {...}, "policy": null | {...}}}], "summary":
  {...}, "scope", "assumptions"}`.
- `lint`: `{"findings": [{"id", "name", "severity", "message", "location": null | {"file",
  "line"}, "object", "rule", "related", "remediation"}], "summary": {...}, "checks": [...]}`.
- `matrix`: `{"cells": [{"from": "ns/pod", "to": "ns/pod", "protocol": null | "TCP", "port":
  null | 80, "allowed": true | false, "witness": null | {...}, "allowed_by": [...]}], ...}`.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Sequence

from netverify.model import (
    Explanation,
    InvariantResult,
    ObjectRef,
    Report,
    RuleRef,
    ServiceExplanation,
    SourceMap,
    Status,
    ViolationFinding,
    ViolationFindings,
    Witness,
)
from netverify.model.diff import Change, DiffCause, DiffFinding, DiffReport, EndpointGroup
from netverify.model.lint import Finding, FindingSeverity, LintReport
from netverify.model.matrix import ConnectivityMatrix, MatrixRow
from netverify.report.describe import GroupedFlows, only_node_local, unaddressed_note
from netverify.report.jsonparts import (
    JsonObject,
    decision_json,
    dumps,
    policy_json,
    policy_name_json,
    rule_json,
    span_json,
)


def _witness(witness: Witness | None, sources: SourceMap) -> JsonObject | None:
    return None if witness is None else decision_json(witness.decision, sources)


def _result(result: InvariantResult, sources: SourceMap) -> JsonObject:
    profiles: JsonObject = (
        {}
        if result.profiles is None
        else {"profiles": {name: status.value for name, status in result.profiles.items()}}
    )
    return {
        "name": result.name,
        "kind": result.kind.value,
        "status": result.status.value,
        "description": result.description,
        "location": span_json(result.location),
        "scope": result.scope,
        "reason": result.reason,
        "counterexample": _witness(result.counterexample, sources),
        **({} if result.all_findings is None else _all_findings(result.all_findings, sources)),
        "witness": _witness(result.witness, sources),
        **profiles,
    }


def _all_findings(found: ViolationFindings, sources: SourceMap) -> JsonObject:
    """`prove --all`: every finding, and whether they cover every violating flow."""
    return {
        "findings": [_violation_finding(finding, sources) for finding in found.findings],
        "findings_complete": found.complete,
        "findings_incomplete_reason": found.incomplete_reason,
    }


def _violation_finding(finding: ViolationFinding, sources: SourceMap) -> JsonObject:
    return {
        **_groups(finding),
        **_open_rules(finding, sources),
        "witness": decision_json(finding.witness.decision, sources),
    }


def _open_rules(finding: GroupedFlows, sources: SourceMap) -> JsonObject:
    """`other_open_rules`, where further groups are admitted by rules of their own that
    admit every peer (located in the revision that allows the flows)."""
    if not finding.other_open_rules:
        return {}
    return {"other_open_rules": [rule_json(rule, sources) for rule in finding.other_open_rules]}


def _groups(finding: GroupedFlows) -> JsonObject:
    """The groups and ports of a finding of `diff` or `prove --all`."""
    return {
        "from": _group(finding.source),
        "also_from": [_group(group) for group in finding.other_sources],
        "to": _group(finding.destination),
        "also_to": [_group(group) for group in finding.other_destinations],
        "protocol": finding.protocol.value,
        "protocols": [protocol.value for protocol in finding.protocols],
        "ports": [{"start": port.start, "end": port.end} for port in finding.ports],
        **({} if finding.named_port is None else {"named_port": finding.named_port}),
        **(
            {"except_named_ports": list(finding.except_named_ports)}
            if finding.except_named_ports
            else {}
        ),
        **_node_local(finding),
    }


def _node_local(finding: GroupedFlows) -> JsonObject:
    """`"node_local": "only"` for a finding of node-local flows only, `"also"` for one of
    flows that changed alike across nodes and on the same node; nothing for flows across
    nodes only, or that are never node-local."""
    if only_node_local(finding):
        return {"node_local": "only"}
    return {"node_local": "also"} if finding.also_node_local else {}


def prove_json(reports: Sequence[Report]) -> JsonObject:
    """One document for every spec: results tagged with their spec, one summary of all."""
    results = [
        {**_result(result, report.sources), "spec": report.spec_file}
        for report in reports
        for result in report.results
    ]
    summary: JsonObject = {"total": len(results)}
    for status in Status:
        summary[status.value] = sum(
            1 for report in reports for result in report.results if result.status is status
        )
    return {
        "results": results,
        "summary": summary,
        "specs": [
            {"file": report.spec_file, "assumptions": list(report.assumptions)}
            for report in reports
        ],
    }


def _group(group: EndpointGroup) -> JsonObject:
    """The group; for new pods, what it excludes and asks of named ports, where it does."""
    found: JsonObject = {
        "kind": group.kind,
        "namespace": group.namespace,
        "pods": list(group.pods),
        "labels": dict(sorted(group.labels.items())),
    }
    if group.labels_not_in:
        found["labels_not_in"] = {k: list(v) for k, v in sorted(group.labels_not_in.items())}
    if group.except_labels:
        found["except_labels"] = [dict(sorted(c.items())) for c in group.except_labels]
    if group.labels_absent:
        found["labels_absent"] = sorted(group.labels_absent)
    if group.named_ports:
        found["named_ports"] = dict(sorted(group.named_ports.items()))
    if group.new_namespace:
        found["new_namespace"] = True
    return found


def _finding(finding: DiffFinding, report: DiffReport) -> JsonObject:
    return {
        "change": finding.change.value,
        **_groups(finding),
        **_open_rules(
            finding,
            report.head_sources if finding.change is Change.ADDED else report.base_sources,
        ),
        "witness": {
            "base": decision_json(finding.base, report.base_sources),
            "head": decision_json(finding.head, report.head_sources),
        },
        "cause": None if finding.cause is None else _cause(finding.cause, report),
    }


def _cause(cause: DiffCause, report: DiffReport) -> JsonObject:
    """The changed rule or the changed policy (the other null), located in its revision."""
    sources = report.sources_in(cause.revision)
    what = cause.what
    return {
        "revision": cause.revision.value,
        "rule": rule_json(what, sources) if isinstance(what, RuleRef) else None,
        "policy": policy_json(what, sources) if isinstance(what, ObjectRef) else None,
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


def _lint_finding(found: Finding, remediation: str) -> JsonObject:
    target, rule = found.object, found.rule
    return {
        "id": found.check,
        "name": found.name,
        "severity": found.severity.value,
        "message": found.message,
        "location": span_json(found.span),
        "object": None
        if target is None
        else {"kind": target.kind, "namespace": target.namespace, "name": target.name},
        "rule": None if rule is None else {"direction": rule.direction.value, "index": rule.index},
        "related": list(found.related),
        "remediation": remediation,
    }


def lint_json(report: LintReport) -> JsonObject:
    summary: JsonObject = {"total": len(report.findings)}
    for severity in FindingSeverity:
        summary[severity.value] = sum(1 for f in report.findings if f.severity is severity)
    summary["suppressed"] = len(report.suppressed)
    return {
        "findings": [_lint_finding(f, report.remediation(f)) for f in report.findings],
        "suppressed": [_lint_finding(f, report.remediation(f)) for f in report.suppressed],
        "summary": summary,
        "checks": [
            {
                "id": check.id,
                "name": check.name,
                "title": check.title,
                "severity": check.severity.value,
                "remediation": check.remediation,
                "proved": check.proved,
            }
            for check in report.checks
        ],
    }


def _matrix_rule(ref: RuleRef, sources: SourceMap) -> JsonObject:
    return {
        "policy": policy_name_json(ref.policy),
        "direction": ref.direction.value,
        "rule": ref.index,
        "location": span_json(sources.of_rule(ref)),
    }


def _cell(row: MatrixRow, index: int, destination: str, sources: SourceMap) -> JsonObject:
    witness = row.witness(index)
    return {
        "from": row.source,
        "to": destination,
        "protocol": None if row.port is None else row.port.protocol.value,
        "port": None if row.port is None else row.port.port,
        "allowed": row.allowed[index],
        "witness": None
        if witness is None
        else {
            "from": witness.source,
            "to": witness.destination,
            "protocol": witness.protocol.value,
            "port": witness.port,
            "self_traffic": witness.self_traffic,
            "node_local": witness.node_local,
        },
        "allowed_by": []
        if witness is None
        else [_matrix_rule(r, sources) for r in witness.allowed_by],
    }


def _streamed(
    head: JsonObject, key: str, items: Iterable[object], tail: Callable[[], JsonObject]
) -> Iterator[str]:
    """`dumps({**head, key: list(items), **tail()})`, written one item at a time: the list
    is never held, and `tail` is called after its last item."""
    opening = dumps({**head, key: []})
    yield opening[: opening.rindex("[]")] + "["
    written = 0
    for item in items:
        text = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        yield ("," if written else "") + "\n    " + text
        written += 1
    yield "\n  ]" if written else "]"
    closing = dumps({key: [], **tail()})
    yield closing[closing.index("[]") + 2 :]


def format_matrix(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[str]:
    """One JSON document, written a row of the matrix at a time."""
    allowed = 0

    def cells() -> Iterator[JsonObject]:
        nonlocal allowed
        for row in rows:
            allowed += sum(row.allowed)
            for index, destination in enumerate(matrix.entities):
                yield _cell(row, index, destination.name, matrix.sources)

    def summary() -> JsonObject:
        return {
            "summary": {
                "entities": len(matrix.entities),
                "cells": matrix.cell_count,
                "allowed": allowed,
                "classes": matrix.classes,
                "explained": matrix.explained,
            },
            "assumptions": list(matrix.assumptions),
            **({"undecided": list(matrix.undecided)} if matrix.undecided else {}),
        }

    head: JsonObject = {
        "group_by": matrix.group_by.value,
        "ports": [{"protocol": p.protocol.value, "port": p.port} for p in matrix.ports],
        "entities": [
            {"name": e.name, "namespace": e.namespace, "pods": list(e.pods)}
            for e in matrix.entities
        ],
    }
    return _streamed(head, "cells", cells(), summary)


def explanation_json(explanation: Explanation, sources: SourceMap) -> JsonObject:
    """`explain`'s answer: the flow across nodes, and `same_node` (the flow placed on one
    node) when one end is a hostNetwork pod that may share a node with the other."""
    same_node = explanation.same_node
    answer: JsonObject = {
        **decision_json(explanation.decision, sources),
        "allowed": explanation.allowed,
        "across_nodes_allowed": explanation.decision.allowed,
        "same_node": None if same_node is None else decision_json(same_node, sources),
    }
    if explanation.may_be_decided_by:
        answer["may_be_decided_by"] = [
            obj.model_dump(include={"api_version", "kind", "namespace", "name"})
            for obj in explanation.may_be_decided_by
        ]
    if explanation.doubt is not None:
        answer["doubt"] = explanation.doubt
    if explanation.addresses:
        answer["addresses"] = [str(cidr) for cidr in explanation.addresses]
    if explanation.address_dependent is not None:
        answer["address_dependent"] = decision_json(explanation.address_dependent, sources)
    if (note := unaddressed_note(explanation)) is not None:
        answer["assumptions"] = [note]
    if explanation.order_dependent:
        answer["order_dependent"] = [
            {"kind": ref.kind, **policy_json(ref, sources)} for ref in explanation.order_dependent
        ]
    return answer


def format_explain(explanation: Explanation, sources: SourceMap) -> str:
    return dumps(explanation_json(explanation, sources))


def format_service_explain(explanation: ServiceExplanation, sources: SourceMap) -> str:
    flows = explanation.flows
    return dumps(
        {
            "service": str(flows.service),
            "port": str(flows.port),
            "translation": flows.describe(),
            "allowed": explanation.allowed,
            "backends": [
                explanation_json(backend, sources) for backend in explanation.explanations
            ],
        }
    )


def format_prove(reports: Sequence[Report]) -> str:
    return dumps(prove_json(reports))


def format_diff(report: DiffReport) -> str:
    return dumps(diff_json(report))


def format_lint(report: LintReport) -> str:
    return dumps(lint_json(report))
