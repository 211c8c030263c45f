"""The registry of lint check kinds: each has stable metadata and a function that finds."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from netverify.engine.lint.context import LintContext
from netverify.model.lint import CheckInfo, Finding, FindingSeverity

Finder = Callable[[LintContext, CheckInfo], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    info: CheckInfo
    find: Finder


class DuplicateCheck(Exception):
    """Two checks registered with the same id or name."""


REGISTRY: dict[str, Check] = {}


def register(
    id: str,
    name: str,
    title: str,
    severity: FindingSeverity,
    remediation: str,
    proved: bool = False,
) -> Callable[[Finder], Finder]:
    """Register a check kind; refuses a duplicate id or name."""
    info = CheckInfo(
        id=id, name=name, title=title, severity=severity, remediation=remediation, proved=proved
    )

    def add(find: Finder) -> Finder:
        if id in REGISTRY or any(check.info.name == name for check in REGISTRY.values()):
            raise DuplicateCheck(f"lint check {id} ({name}) is registered twice")
        REGISTRY[id] = Check(info=info, find=find)
        return find

    return add


def finding(info: CheckInfo, message: str, **fields: object) -> Finding:
    """A finding of `info`'s check with its id, name and severity filled in."""
    return Finding.model_validate(
        {"check": info.id, "name": info.name, "severity": info.severity, "message": message}
        | fields
    )
