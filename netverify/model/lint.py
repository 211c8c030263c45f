"""What `netverify lint` produces: findings of registered checks, with where and what to do."""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.refs import ObjectRef, RuleRef, SourceMap, SourceSpan


class FindingSeverity(StrEnum):
    """How bad a finding is; an error makes `lint` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class CheckInfo(Frozen):
    """The metadata of one check kind."""

    id: str
    """Stable identifier, `NVL001`...: never reused for another check."""
    name: str
    """Readable slug, e.g. `policy-selects-no-pod`."""
    title: str
    severity: FindingSeverity
    remediation: str
    """One sentence: what to change."""
    proved: bool = False
    """Whether findings are proved with the solver over every pod that could exist."""


class Finding(Frozen):
    """One problem found by one check."""

    check: str
    """The check's id."""
    name: str
    severity: FindingSeverity
    message: str
    span: SourceSpan | None = None
    object: ObjectRef | None = None
    rule: RuleRef | None = None
    related: tuple[str, ...] = ()
    """Further evidence: covering rules, a witness pod, matching pods, ..."""
    remediation: str | None = None
    """What to change, when this finding needs other advice than its check's remediation
    (a formatter shows it instead of the check's)."""


class LintReport(Frozen):
    """Every finding, sorted by file, line and check id."""

    checks: tuple[CheckInfo, ...]
    """Every check that ran, in id order."""
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()
    """Findings silenced by a `netverify.io/ignore` annotation."""
    sources: SourceMap = SourceMap()

    def remediation(self, finding: Finding) -> str:
        """What to change for a finding: its own advice, else its check's."""
        if finding.remediation is not None:
            return finding.remediation
        return next((c.remediation for c in self.checks if c.id == finding.check), "")

    @property
    def has_errors(self) -> bool:
        return any(finding.severity is FindingSeverity.ERROR for finding in self.findings)
