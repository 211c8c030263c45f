"""Upstream's ClusterNetworkPolicy conformance scenarios, with the outcomes its Go tests
assert (tests/cli/fixtures/network-policy-api/README.md): manifests nobody here wrote,
including the tests' patches of a rule's action, a priority and a deleted NetworkPolicy."""

import json
from pathlib import Path

import pytest

from .test_cli import EXIT_HOLDS, EXIT_VIOLATED, run

FIXTURES = Path(__file__).parent / "fixtures" / "network-policy-api"
GRYFFINDOR = "network-policy-conformance-gryffindor/harry-potter"
SLYTHERIN = "network-policy-conformance-slytherin/draco-malfoy"
PORTS = (80, 8080)
INTEGRATION = "standard-anp-np-banp.yaml"
PRIORITY = "standard-priority-field.yaml"
PASS_INGRESS = (
    '"deny-all-ingress-from-slytherin" # test will update to pass\n    action: "Deny"',
    '"deny-all-ingress-from-slytherin"\n    action: "Pass"',
)
PASS_EGRESS = (
    '"deny-all-egress-to-slytherin" # test will update to pass\n    action: "Deny"',
    '"deny-all-egress-to-slytherin"\n    action: "Pass"',
)
"""Upstream's patches of the admin policy `pass-example`: one rule's action set to Pass."""
NP_START = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"


def _scenario(tmp_path: Path, policies: str, *patches: tuple[str, str]) -> list[str]:
    """The paths to load: upstream's manifests and its policy file with `patches` (old and
    new text, each old text found exactly once) applied."""
    text = (FIXTURES / policies).read_text(encoding="utf-8")
    for old, new in patches:
        assert text.count(old) == 1, f"{old!r} is not in {policies} exactly once"
        text = text.replace(old, new)
    (tmp_path / policies).write_text(text, encoding="utf-8")
    return [str(FIXTURES / "manifests.yaml"), str(tmp_path / policies)]


def _without_network_policy(text: str) -> str:
    start = text.index(NP_START)
    end = text.index("---\n", start + len(NP_START))
    return text[:start] + text[end:]


def _verdicts(paths: list[str]) -> dict[tuple[str, str], set[bool]]:
    """Harry's and Draco's verdicts on TCP 80 and 8080 (one set per direction of the pair:
    {False} is blocked on both ports, as every upstream assertion here is per pair)."""
    ports = [option for port in PORTS for option in ("--port", f"{port}/TCP")]
    result = run("matrix", *paths, *ports, "--group-by", "pod", "--format", "json")
    assert result.exit_code == 0, result.output
    verdicts: dict[tuple[str, str], set[bool]] = {}
    for cell in json.loads(result.stdout)["cells"]:
        pair = (cell["from"], cell["to"])
        if pair in ((SLYTHERIN, GRYFFINDOR), (GRYFFINDOR, SLYTHERIN)):
            verdicts.setdefault(pair, set()).add(cell["allowed"])
    return verdicts


def _both_ways(allowed: bool) -> dict[tuple[str, str], set[bool]]:
    return {(SLYTHERIN, GRYFFINDOR): {allowed}, (GRYFFINDOR, SLYTHERIN): {allowed}}


def test_integration_admin_deny_wins_over_the_allowing_network_policy(tmp_path: Path) -> None:
    assert _verdicts(_scenario(tmp_path, INTEGRATION)) == _both_ways(False)


def test_integration_pass_hands_each_direction_to_the_network_policy(tmp_path: Path) -> None:
    ingress_passed = _verdicts(_scenario(tmp_path, INTEGRATION, PASS_INGRESS))
    assert ingress_passed == {(SLYTHERIN, GRYFFINDOR): {True}, (GRYFFINDOR, SLYTHERIN): {False}}
    assert _verdicts(_scenario(tmp_path, INTEGRATION, PASS_INGRESS, PASS_EGRESS)) == (
        _both_ways(True)
    )


def test_integration_pass_without_network_policy_falls_to_the_baseline_deny(
    tmp_path: Path,
) -> None:
    paths = _scenario(tmp_path, INTEGRATION, PASS_INGRESS, PASS_EGRESS)
    policies = Path(paths[1])
    policies.write_text(_without_network_policy(policies.read_text(encoding="utf-8")))
    assert _verdicts(paths) == _both_ways(False)


@pytest.mark.parametrize(("priority", "allowed"), [("60", False), ("40", True)])
def test_priority_decides_between_the_deny_and_the_pass(
    tmp_path: Path, priority: str, allowed: bool
) -> None:
    patch = ("priority: 60 # will be updated to 40 in the tests", f"priority: {priority} #")
    assert _verdicts(_scenario(tmp_path, PRIORITY, patch)) == _both_ways(allowed)


@pytest.mark.parametrize(("patches", "code"), [((), EXIT_HOLDS), ((PASS_INGRESS,), EXIT_VIOLATED)])
def test_prove_over_every_port_and_every_pod_that_could_exist(
    tmp_path: Path, patches: tuple[tuple[str, str], ...], code: int
) -> None:
    paths = _scenario(tmp_path, INTEGRATION, *patches)
    spec = tmp_path / "spec.yaml"
    manifests = ", ".join(json.dumps(path) for path in paths)
    spec.write_text(
        f"manifests: [{manifests}]\n"
        "invariants:\n"
        "- name: slytherin-never-reaches-gryffindor\n"
        "  pods: any\n"
        "  forbid:\n"
        "    from: {namespace: {conformance-house: slytherin}}\n"
        "    to: {namespace: {conformance-house: gryffindor}}\n",
        encoding="utf-8",
    )
    result = run("prove", str(spec))
    assert result.exit_code == code, result.output
