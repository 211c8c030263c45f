"""`netverify lint`: registered checks over a loaded cluster, with inline suppression.

Check kinds live in `structural` (evaluated on the existing objects), `services`
(evaluated on the existing pods), `proved` and `redundancy` (proved with Z3 over every pod
that could exist), `admin` (admin policies, read off the manifests), `tiered`, `dnscut` and
`shadowing` (admin policies, proved with Z3); each registers itself with a stable id. A
finding on a NetworkPolicy is suppressed when the policy's `netverify.io/ignore` annotation
lists its id.
"""

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import (
    admin,
    dnscut,
    proved,
    redundancy,
    services,
    shadowing,
    structural,
    tiered,
)
from netverify.engine.lint.context import LintContext
from netverify.engine.lint.registry import REGISTRY, Check, DuplicateCheck, register
from netverify.model import LoadedCluster, Settings
from netverify.model.lint import Finding, LintReport
from netverify.model.refs import network_policy_ref

__all__ = [
    "REGISTRY",
    "Check",
    "DuplicateCheck",
    "admin",
    "dnscut",
    "lint",
    "proved",
    "redundancy",
    "register",
    "services",
    "shadowing",
    "structural",
    "tiered",
]


def lint(loaded: LoadedCluster, settings: Settings, limits: SolverLimits) -> LintReport:
    """Run every registered check; findings sorted by file, line, check id and message."""
    context = LintContext(loaded, settings, limits)
    cluster = loaded.cluster
    ignored = {
        **{network_policy_ref(policy): policy.ignored_checks for policy in cluster.policies},
        **{admin.ref: admin.ignored_checks for admin in cluster.admin_policies},
    }
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for check_id in sorted(REGISTRY):
        check = REGISTRY[check_id]
        for found in check.find(context, check.info):
            target = found.object
            silenced = target is not None and check_id in ignored.get(target, frozenset())
            (suppressed if silenced else kept).append(found)
    return LintReport(
        checks=tuple(REGISTRY[check_id].info for check_id in sorted(REGISTRY)),
        findings=tuple(sorted(kept, key=_order)),
        suppressed=tuple(sorted(suppressed, key=_order)),
        sources=loaded.sources,
    )


def _order(found: Finding) -> tuple[str, int, str, str]:
    span = found.span
    return (span.file if span else "", span.line if span else 0, found.check, found.message)
