"""Label selectors as the API server stores them (after validation)."""

from enum import StrEnum

from netverify.model.base import Frozen


class Operator(StrEnum):
    """The four `matchExpressions` operators of a `LabelSelector`."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class LabelRequirement(Frozen):
    """One entry of `matchExpressions`."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()
    """Non-empty for In/NotIn, empty for Exists/DoesNotExist (the loader enforces it)."""


class LabelSelector(Frozen):
    """A `metav1.LabelSelector`; all requirements are ANDed and the empty selector matches all."""

    match_labels: dict[str, str] = {}
    match_expressions: tuple[LabelRequirement, ...] = ()
