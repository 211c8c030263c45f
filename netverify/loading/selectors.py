"""Label maps and label selectors from raw manifests, validated as the API server does."""

import json

from netverify.loading.fields import ObjectFields, describe
from netverify.loading.validation import (
    label_key_error,
    label_value_error,
    operator_error,
)
from netverify.loading.yamlconvert import Path
from netverify.model import LabelRequirement, LabelSelector, Operator

SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
REQUIREMENT_FIELDS = ("key", "operator", "values")


def _quote_hint(value: object) -> str:
    """For `version: 1` or `enabled: true`: YAML typed it, but labels are strings."""
    if isinstance(value, bool):
        return f'; quote it: "{"true" if value else "false"}"'
    if isinstance(value, int | float):
        return f"; quote it: {json.dumps(str(value))}"
    return ""


def read_labels(fields: ObjectFields, raw: object, path: Path) -> dict[str, str]:
    """A `labels` or `matchLabels` map; absent or null is empty."""
    if raw is None:
        return {}
    mapping = fields.mapping(raw, path)
    if mapping is None:
        return {}
    labels: dict[str, str] = {}
    for key, value in mapping.items():
        key_path = (*path, key)
        if (problem := label_key_error(key)) is not None:
            fields.error(key_path, problem)
        if not isinstance(value, str):
            fields.error(key_path, f"expected a string, got {describe(value)}{_quote_hint(value)}")
            continue
        if (problem := label_value_error(value)) is not None:
            fields.error(key_path, problem)
        labels[key] = value
    return labels


def read_selector(fields: ObjectFields, raw: object, path: Path) -> LabelSelector | None:
    """A `metav1.LabelSelector` (the caller has already handled absent/null)."""
    mapping = fields.mapping(raw, path)
    if mapping is None:
        return None
    fields.check_fields(mapping, path, SELECTOR_FIELDS)
    match_labels = read_labels(fields, mapping.get("matchLabels"), (*path, "matchLabels"))
    requirements: list[LabelRequirement] = []
    raw_expressions = mapping.get("matchExpressions")
    if raw_expressions is not None:
        expressions_path: Path = (*path, "matchExpressions")
        expressions = fields.sequence(raw_expressions, expressions_path)
        for index, raw_requirement in enumerate(expressions or ()):
            requirement = _read_requirement(fields, raw_requirement, (*expressions_path, index))
            if requirement is not None:
                requirements.append(requirement)
    return LabelSelector(match_labels=match_labels, match_expressions=tuple(requirements))


def _read_requirement(fields: ObjectFields, raw: object, path: Path) -> LabelRequirement | None:
    mapping = fields.mapping(raw, path)
    if mapping is None:
        return None
    fields.check_fields(mapping, path, REQUIREMENT_FIELDS)
    key = operator = None
    if (raw_key := fields.required(mapping, path, "key")) is not None:
        key = fields.string(raw_key, (*path, "key"))
        if key is not None and (problem := label_key_error(key)) is not None:
            fields.error((*path, "key"), problem)
    if (raw_operator := fields.required(mapping, path, "operator")) is not None:
        operator = fields.string(raw_operator, (*path, "operator"))
        if operator is not None and (problem := operator_error(operator)) is not None:
            fields.error((*path, "operator"), problem)
            operator = None
    values: list[str] = []
    raw_values = mapping.get("values")
    values_path: Path = (*path, "values")
    value_list = None if raw_values is None else fields.sequence(raw_values, values_path)
    if raw_values is not None and value_list is None:
        return None
    if value_list is not None:
        for index, raw_value in enumerate(value_list):
            value = fields.string(raw_value, (*values_path, index))
            if value is None:
                continue
            if (problem := label_value_error(value)) is not None:
                fields.error((*values_path, index), problem)
            values.append(value)
    if operator is None:
        return None
    # Emptiness is that of the list as written, so that a bad entry is not reported twice.
    if operator in (Operator.IN, Operator.NOT_IN) and not value_list:
        fields.error(values_path, "must be specified when `operator` is 'In' or 'NotIn'")
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and value_list:
        fields.error(
            values_path,
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )
    if key is None:
        return None
    return LabelRequirement(key=key, operator=Operator(operator), values=tuple(values))
