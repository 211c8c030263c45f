"""Did-you-mean hints for a selector that matches nothing (NVL001, NVL002).

A hint is a promise that the fixed selector names what the author meant; a wrong one widens a
policy (an exporter opened to `prometheus-adapter` for a missing `prometheus`). So a hint is
only given for a plausible slip of the keyboard, when the fixed selector matches exactly one
target (a workload, or a namespace), and when no other fix is as close; otherwise none.
"""

from collections.abc import Hashable, Iterable, Mapping

from netverify.model import LabelRequirement, LabelSelector, Operator, PodEndpoint
from netverify.semantics import selector_matches

MORE_TYPOS_FROM = 8
"""A name this long may have two typos; a shorter one, one."""

Labelled = tuple[Hashable, Mapping[str, str]]
"""Labels with the target they belong to: the pods of one workload share a target."""


def pod_target(endpoint: PodEndpoint) -> Hashable:
    """What a pod belongs to: its workload, or, for a bare pod, its namespace and labels
    (replicas written out one by one are one target)."""
    pod = endpoint.pod
    if pod.kind != "Pod":
        return (pod.namespace, pod.kind, pod.name)
    return (pod.namespace, tuple(sorted(pod.labels.items())))


def did_you_mean(selector: LabelSelector, labelled: Iterable[Labelled]) -> str | None:
    """A one-term fix of `selector` (a key or a value) that makes it match exactly one of the
    targets in `labelled`, if one is a plausible typo and closer than any other fix."""
    labelled = list(labelled)
    values: dict[str, set[str]] = {}
    for _, labels in labelled:
        for key, value in labels.items():
            values.setdefault(key, set()).add(value)
    used = {*selector.match_labels, *(r.key for r in selector.match_expressions)}
    wanted: list[tuple[str, tuple[str, ...]]] = [
        (key, (value,)) for key, value in selector.match_labels.items()
    ]
    wanted += [(r.key, r.values) for r in selector.match_expressions if r.operator is Operator.IN]
    wanted += [(r.key, ()) for r in selector.match_expressions if r.operator is Operator.EXISTS]
    fixes: list[tuple[int, str, LabelSelector]] = []
    for key, asked in wanted:
        if key not in values:
            fixes += [
                (distance, f"the key `{other}` (not `{key}`)", _renamed_key(selector, key, other))
                for other in sorted(values.keys() - used)
                if (distance := typo_distance(key, other)) is not None
            ]
            continue
        for value in asked:
            if value in values[key]:
                continue
            fixes += [
                (
                    distance,
                    f"`{key}: {other}` (not `{value}`)",
                    _replaced_value(selector, key, value, other),
                )
                for other in sorted(values[key])
                if (distance := typo_distance(value, other)) is not None
            ]
    narrow = [
        (distance, text)
        for distance, text, fixed in fixes
        if len({target for target, labels in labelled if selector_matches(fixed, labels)}) == 1
    ]
    if not narrow:
        return None
    best = min(distance for distance, _ in narrow)
    closest = [text for distance, text in narrow if distance == best]
    return f"did you mean {closest[0]}?" if len(closest) == 1 else None


def typo_distance(written: str, meant: str) -> int | None:
    """The edit distance (a swap of neighbours counts as one edit) from `meant` to
    `written` when `written` is a plausible typo of it (one or two edits), else None. A
    longer or shorter name with the same start or end is another name (`prometheus`,
    `prometheus-adapter`; `web`, `web2`), not a typo, unless the difference is one doubled
    letter (`dbb`, `db`)."""
    if written == meant:
        return None
    longer, shorter = (written, meant) if len(written) > len(meant) else (meant, written)
    if longer.startswith(shorter) or longer.endswith(shorter):
        doubled = len(longer) == len(shorter) + 1 and (
            longer[-1] == longer[-2] if longer.startswith(shorter) else longer[0] == longer[1]
        )
        if not doubled:
            return None
    distance = _edit_distance(written, meant)
    return distance if distance <= (1 if len(written) < MORE_TYPOS_FROM else 2) else None


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    neighbouring characters, one edit each."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, start=1):
        row = [i]
        for j, y in enumerate(b, start=1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def _renamed_key(selector: LabelSelector, key: str, other: str) -> LabelSelector:
    return selector.model_copy(
        update={
            "match_labels": {other if k == key else k: v for k, v in selector.match_labels.items()},
            "match_expressions": tuple(
                r.model_copy(update={"key": other}) if r.key == key else r
                for r in selector.match_expressions
            ),
        }
    )


def _replaced_value(selector: LabelSelector, key: str, value: str, other: str) -> LabelSelector:
    return selector.model_copy(
        update={
            "match_labels": {
                k: other if (k, v) == (key, value) else v for k, v in selector.match_labels.items()
            },
            "match_expressions": tuple(
                _replaced_in(r, key, value, other) for r in selector.match_expressions
            ),
        }
    )


def _replaced_in(
    requirement: LabelRequirement, key: str, value: str, other: str
) -> LabelRequirement:
    if requirement.key != key or requirement.operator is not Operator.IN:
        return requirement
    replaced = tuple(other if v == value else v for v in requirement.values)
    return requirement.model_copy(update={"values": replaced})
