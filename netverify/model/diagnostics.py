"""Problems found in the input, as values a user can act on."""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.refs import SourceSpan


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Diagnostic(Frozen):
    """One problem: where it is, in which object and field, and what is wrong."""

    severity: Severity
    message: str
    span: SourceSpan | None = None
    object: str | None = None
    """The object it concerns, e.g. `NetworkPolicy ns-2/allow-pod3`."""
    field: str | None = None
    """The field path inside that object, e.g. `spec.ingress[0].ports[1].port`."""

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        what = ""
        if self.object:
            what = f"{self.object}: "
        if self.field:
            what += f"{self.field}: "
        return f"{where}{self.severity.value}: {what}{self.message}"


class InputError(Exception):
    """Input that netverify refuses to reason about; carries every error found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics
