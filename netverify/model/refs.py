"""References to loaded objects and rules, and where in the input they came from.

Positions live in a side table (`SourceMap`) keyed by these references, so that the model
itself stays plain data.
"""

from collections.abc import Mapping

from pydantic import SkipValidation

from netverify.model.base import Frozen
from netverify.model.policy import Direction, NetworkPolicy


class ObjectRef(Frozen):
    """A Kubernetes object by kind, namespace and name."""

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        scope = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {scope}{self.name}"


def network_policy_ref(policy: NetworkPolicy) -> ObjectRef:
    """The reference of a NetworkPolicy (admin policies have their own `ref`)."""
    return ObjectRef(kind="NetworkPolicy", namespace=policy.namespace, name=policy.name)


class RuleRef(Frozen):
    """One rule of a policy: which direction and its index in that list (0-based)."""

    policy: ObjectRef
    direction: Direction
    index: int

    def __str__(self) -> str:
        return f"{self.policy} {self.direction.value.lower()}[{self.index}]"


class SourceSpan(Frozen):
    """A position in an input file (lines are 1-based); `file` is as the user named it.

    Line 0 stands for a whole object that was never written in a file (one read from a live
    cluster, `file` being `cluster:CONTEXT/KIND/NAMESPACE/NAME`)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class SourceMap(Frozen):
    """Where each loaded object and rule was written."""

    objects: dict[ObjectRef, SourceSpan] = {}
    rules: SkipValidation[Mapping[RuleRef, SourceSpan]] = {}
    """Kept as given: the loader's finds each rule's line on its first lookup."""

    def of_object(self, ref: ObjectRef) -> SourceSpan | None:
        return self.objects.get(ref)

    def of_rule(self, ref: RuleRef) -> SourceSpan | None:
        return self.rules.get(ref) or self.objects.get(ref.policy)
