"""Where each rule of a loaded policy was written, found when a report asks for it.

Loading records each policy's document and how many rules each direction has; the line of
`spec.ingress[i]` (or `egress`) is read off the document on its first lookup. A report names
a few rules, if any, out of thousands: reading every rule's line at load time was about a
sixth of loading a 10,000-pod cluster.
"""

from collections.abc import Iterator, Mapping

from netverify.loading.fields import ObjectFields
from netverify.loading.networkpolicy import RULES_KEY
from netverify.model import AdminPolicy, Direction, NetworkPolicy, ObjectRef, RuleRef, SourceSpan


class RuleLines(Mapping[RuleRef, SourceSpan]):
    """The position of every rule of the policies recorded, by rule, in the order recorded
    (a policy's ingress rules, then its egress rules)."""

    def __init__(self) -> None:
        self._policies: dict[ObjectRef, tuple[ObjectFields, dict[Direction, int]]] = {}
        self._found: dict[RuleRef, SourceSpan] = {}

    def record(
        self, fields: ObjectFields, ref: ObjectRef, policy: NetworkPolicy | AdminPolicy
    ) -> None:
        """Remember where the rules of `policy`, read from `fields`, are."""
        counts = {direction: len(policy.rules(direction)) for direction in Direction}
        self._policies[ref] = (fields, counts)

    def __getitem__(self, rule: RuleRef) -> SourceSpan:
        found = self._found.get(rule)
        if found is not None:
            return found
        recorded = self._policies.get(rule.policy)
        if recorded is None or not 0 <= rule.index < recorded[1][rule.direction]:
            raise KeyError(rule)
        fields, _ = recorded
        found = self._found[rule] = fields.span(("spec", RULES_KEY[rule.direction], rule.index))
        return found

    def __iter__(self) -> Iterator[RuleRef]:
        for ref, (_, counts) in self._policies.items():
            for direction in Direction:
                for index in range(counts[direction]):
                    yield RuleRef(policy=ref, direction=direction, index=index)

    def __len__(self) -> int:
        return sum(sum(counts.values()) for _, counts in self._policies.values())
