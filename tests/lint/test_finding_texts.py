"""A finding prints as `OBJECT: message` (text) and carries its object beside the message
(JSON, SARIF): the message names other objects, never its own again. The finding
`BaselineAdminNetworkPolicy default: banp/default egress[0] ...` read its name twice."""

import re
from pathlib import Path

import pytest

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import ObjectRef, Settings, short_name
from netverify.model.lint import Finding

ROOT = Path(__file__).parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
LINTED = sorted(
    [
        *(ROOT / "examples").iterdir(),
        *(case for check in FIXTURES.iterdir() for case in check.iterdir() if case.is_dir()),
        FIXTURES / "suppressed",
    ]
)


def _names(ref: ObjectRef) -> set[str]:
    """Every way a message may name the object: `Kind ns/name`, `cnp/name`, `ns/name`,
    `ns/Kind/name`."""
    names = {str(ref), short_name(ref)}
    if ref.namespace is not None:
        names |= {f"{ref.namespace}/{ref.name}", f"{ref.namespace}/{ref.kind}/{ref.name}"}
    return names


def _named_again(found: Finding, pods: frozenset[str] = frozenset()) -> list[str]:
    """The names of the finding's object that its message holds as a whole name (so not
    `prod/db` within `prod/db-0`), but for those of `pods` (`ns/name`): a NetworkPolicy
    may share its name with the pods it selects, which a message names."""
    if found.object is None:
        return []
    return [
        name
        for name in _names(found.object) - pods
        if re.search(rf"(?<![\w./-]){re.escape(name)}(?![\w.-])", found.message)
    ]


@pytest.mark.parametrize("path", LINTED, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_finding_names_its_object_again(path: Path) -> None:
    cluster = load_manifests([str(path)])
    pods = frozenset(f"{pod.namespace}/{pod.name}" for pod in cluster.cluster.pods)
    report = lint(cluster, Settings(), SolverLimits())
    for found in (*report.findings, *report.suppressed):
        assert not _named_again(found, pods), (found.object, found.message)


def test_the_check_sees_a_name_repeated() -> None:
    ref = ObjectRef(kind="BaselineAdminNetworkPolicy", namespace=None, name="default")
    repeated = Finding(
        check="NVL020",
        name="baseline-deny-cuts-dns",
        severity="warning",
        message='banp/default egress[0] "deny-all" denies DNS',
        object=ref,
    )
    assert _named_again(repeated) == ["banp/default"]
    within = repeated.model_copy(update={"message": "banp/default-deny egress[0] denies DNS"})
    assert not _named_again(within)
