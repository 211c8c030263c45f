"""The matrix as JSON. Contract (fields may be added, never changed):
`{"cells": [{"from": "ns/pod", "to": "ns/pod", "protocol": null | "TCP", "port": null | 80,
"allowed": true | false, "witness": null | {...}, "allowed_by": [...]}], ...}`.
"""

from netverify.model.matrix import ConnectivityMatrix, MatrixCell
from netverify.model.refs import RuleRef, SourceMap

JsonObject = dict[str, object]


def _rule(ref: RuleRef, sources: SourceMap) -> JsonObject:
    span = sources.of_rule(ref)
    return {
        "policy": {"namespace": ref.policy.namespace, "name": ref.policy.name},
        "direction": ref.direction.value,
        "rule": ref.index,
        "location": None if span is None else {"file": span.file, "line": span.line},
    }


def _cell(cell: MatrixCell, sources: SourceMap) -> JsonObject:
    witness = cell.witness
    return {
        "from": cell.source,
        "to": cell.destination,
        "protocol": None if cell.protocol is None else cell.protocol.value,
        "port": cell.port,
        "allowed": cell.allowed,
        "witness": None
        if witness is None
        else {
            "from": witness.source,
            "to": witness.destination,
            "protocol": witness.protocol.value,
            "port": witness.port,
            "self_traffic": witness.self_traffic,
        },
        "allowed_by": [] if witness is None else [_rule(r, sources) for r in witness.allowed_by],
    }


def matrix_json(matrix: ConnectivityMatrix) -> JsonObject:
    return {
        "group_by": matrix.group_by.value,
        "ports": [{"protocol": p.protocol.value, "port": p.port} for p in matrix.ports],
        "entities": [
            {"name": e.name, "namespace": e.namespace, "pods": list(e.pods)}
            for e in matrix.entities
        ],
        "cells": [_cell(cell, matrix.sources) for cell in matrix.cells],
        "summary": {
            "entities": len(matrix.entities),
            "cells": len(matrix.cells),
            "allowed": sum(1 for cell in matrix.cells if cell.allowed),
            "classes": matrix.classes,
            "explained": matrix.explained,
        },
        "assumptions": list(matrix.assumptions),
    }
