"""What each CI format says, checked on parsed output (the goldens pin the exact bytes).

SARIF is validated against the official SARIF 2.1.0 schema (tests/report/data, a copy of
oasis-tcs/sarif-spec's Schemata/sarif-schema-2.1.0.json); JUnit is parsed back and counted;
GitHub workflow commands are checked for GitHub's escaping rules.
"""

import json
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from netverify.model import InvariantKind, InvariantResult, Report, SourceSpan, Status
from netverify.model.diff import DiffReport
from netverify.report import github, junit, markdown, rules, sarif
from tests.report.helpers import (
    REPO,
    prove_reports,
    unchanged_diff,
    validate_sarif,
    widened_diff,
)

COMMAND = re.compile(
    r"^::(?P<name>error|warning|notice)(?: (?P<properties>[^:]*))?::(?P<message>.*)$"
)


def _undecided_report() -> Report:
    """A report with awkward names and every status but violated (no solver needed)."""
    results = (
        InvariantResult(
            name="slow,one: 100%",
            kind=InvariantKind.FORBID,
            status=Status.UNKNOWN,
            reason="the solver gave up (timeout)\nraise --timeout",
            scope="every pod",
            location=SourceSpan(file="specs/odd name.yaml", line=3),
        ),
        InvariantResult(
            name="broken",
            kind=InvariantKind.REQUIRE,
            status=Status.ERROR,
            reason="replay disagreed",
            scope="every pod",
        ),
        InvariantResult(
            name="fine", kind=InvariantKind.REACHABLE, status=Status.HOLDS, scope="every pod"
        ),
    )
    return Report(spec_file="specs/odd name.yaml", results=results)


def _sarif(document: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(document)
    validate_sarif(parsed)
    return parsed


def _region(location: dict[str, Any]) -> tuple[str, int | None]:
    physical = location["physicalLocation"]
    line = physical.get("region", {}).get("startLine")
    return physical["artifactLocation"]["uri"], line


# --- SARIF -------------------------------------------------------------------------------


def test_rule_table_is_stable_and_complete() -> None:
    ids = [rule.id for rule in rules.RULES]
    assert ids == ["NV001", "NV002", "NV003", "NV004", "NV005", "NV006"]
    assert len({rule.name for rule in rules.RULES}) == len(rules.RULES)
    docs = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    for rule in rules.RULES:
        assert rule.short and rule.help and rule.level in {"error", "warning", "note"}
        assert f"| {rule.id} | `{rule.name}` |" in docs, f"{rule.id} missing from docs/ci.md"


def test_prove_sarif_is_valid_and_points_at_the_rules() -> None:
    log = _sarif(sarif.format_prove(prove_reports()))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == 2  # holding invariants produce no result
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"
    forbid, require = results
    assert forbid["ruleId"] == "NV001"
    assert (
        "dev/<new pod> (tier=web) -> prod/db (app=db,tier=db) TCP/5432"
        in (forbid["message"]["text"].splitlines()[0])
    )
    assert _region(forbid["locations"][0]) == ("examples/devprod/policies.yaml", 20)
    assert forbid["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == (
        "%SRCROOT%"
    )
    assert [_region(r) for r in forbid["relatedLocations"]] == [("specs/devprod.yaml", 5)]
    # A blocked flow sits at the policy that isolates the destination.
    assert require["ruleId"] == "NV002"
    assert _region(require["locations"][0]) == ("examples/blog/policy.yaml", 2)
    assert [_region(r) for r in require["relatedLocations"]] == [("specs/isolation.yaml", 30)]


def test_undecided_results_are_warnings_at_the_spec_entry() -> None:
    log = _sarif(sarif.format_prove([_undecided_report()]))
    unknown, error = log["runs"][0]["results"]
    assert unknown["ruleId"] == error["ruleId"] == "NV006"
    assert unknown["level"] == error["level"] == "warning"
    assert _region(unknown["locations"][0]) == ("specs/odd%20name.yaml", 3)
    assert _region(error["locations"][0]) == ("specs/odd%20name.yaml", None)


def test_diff_sarif_locates_the_widened_rule_in_head() -> None:
    log = _sarif(sarif.format_diff(widened_diff()))
    (result,) = log["runs"][0]["results"]
    assert (result["ruleId"], result["ruleIndex"], result["level"]) == ("NV004", 3, "warning")
    assert "dev/web (app=web) -> prod/api (app=api) TCP/8080" in result["message"]["text"]
    assert _region(result["locations"][0]) == ("tests/diff/fixtures/head/policies.yaml", 20)
    related = [_region(r) for r in result["relatedLocations"]]
    assert ("tests/diff/fixtures/base/policies.yaml", 11) in related  # isolated it in BASE


def test_unchanged_diff_sarif_has_no_results() -> None:
    log = _sarif(sarif.format_diff(unchanged_diff()))
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_incomplete_diff_is_a_notification() -> None:
    report = unchanged_diff().model_copy(
        update={"complete": False, "incomplete_reason": "stopped after 0 findings"}
    )
    (invocation,) = _sarif(sarif.format_diff(report))["runs"][0]["invocations"]
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "warning" and "stopped after 0 findings" in note["message"]["text"]


def test_absolute_paths_are_file_uris() -> None:
    report = _undecided_report()
    moved = report.model_copy(
        update={
            "results": tuple(
                r.model_copy(update={"location": SourceSpan(file="/abs/s p.yaml", line=1)})
                for r in report.results
            )
        }
    )
    result = _sarif(sarif.format_prove([moved]))["runs"][0]["results"][0]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///abs/s%20p.yaml"}


# --- JUnit -------------------------------------------------------------------------------


def _counts(element: ElementTree.Element) -> tuple[int, int, int]:
    return (
        int(element.get("tests", -1)),
        int(element.get("failures", -1)),
        int(element.get("errors", -1)),
    )


def test_prove_junit_counts_and_failure_text() -> None:
    root = ElementTree.fromstring(junit.format_prove(prove_reports()))
    assert root.tag == "testsuites" and _counts(root) == (8, 2, 0)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["specs/devprod.yaml", "specs/isolation.yaml"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert _counts(suite) == (4, 1, 0) == (len(cases), 1, 0)
        assert {case.get("classname") for case in cases} == {suite.get("name")}
    failure = suites[0].find("testcase[@name='dev-never-reaches-prod-db']/failure")
    assert failure is not None and failure.get("type") == "NV001"
    assert failure.text is not None
    assert failure.text.splitlines()[0] == (
        "specs/devprod.yaml:5: error: [forbid] dev-never-reaches-prod-db: violated"
    )
    assert "prod/db-from-web ingress[0] from[0] (examples/devprod/policies.yaml:20)" in failure.text


def test_undecided_junit_are_errors() -> None:
    root = ElementTree.fromstring(junit.format_prove([_undecided_report()]))
    assert _counts(root) == (3, 0, 2)
    names = [case.get("name") for case in root.iter("testcase") if case.find("error") is not None]
    assert names == ["slow,one: 100%", "broken"]


@pytest.mark.parametrize(
    ("report", "expected", "names"),
    [
        (widened_diff, (1, 1, 0), ["[added] dev/{web} (app=web) -> prod/{api} (app=api) TCP/8080"]),
        (unchanged_diff, (1, 0, 0), ["no connectivity change"]),
    ],
)
def test_diff_junit(report: Any, expected: tuple[int, int, int], names: list[str]) -> None:
    root = ElementTree.fromstring(junit.format_diff(report()))
    assert _counts(root) == expected
    assert [case.get("name") for case in root.iter("testcase")] == names


# --- Markdown ----------------------------------------------------------------------------


def test_prove_markdown_sections() -> None:
    text = markdown.format_prove(prove_reports())
    assert text.startswith("### netverify prove: 2 violated, 6 holds\n")
    assert "| `specs/devprod.yaml` | 4 | 3 | 1 | 0 | 0 |" in text
    assert (
        text.count("<details>") == text.count("</details>") == 5
    )  # 2 violated, holds, 2 assumptions
    assert (
        "- `examples/devprod/policies.yaml:20`: allowed by prod/db-from-web ingress\\[0\\]" in text
    )
    assert "<code>dev-never-reaches-prod-db</code>" in text


def test_diff_markdown() -> None:
    text = markdown.format_diff(widened_diff())
    assert text.startswith("### netverify diff: 1 added, 0 removed\n")
    assert "| added | 1 |" in text
    assert "- `tests/diff/fixtures/head/policies.yaml:20`: allowed by prod/api-from-prod" in text
    assert markdown.format_diff(unchanged_diff()).startswith(
        "### netverify diff: no connectivity change\n"
    )


def test_markdown_escapes_html_in_summaries() -> None:
    text = markdown.format_prove([_undecided_report()])
    assert "<summary><b>unknown</b>: <code>slow,one: 100%</code>" in text


# --- GitHub workflow commands ------------------------------------------------------------


def test_escaping_follows_the_toolkit() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def _commands(text: str) -> list[dict[str, Any]]:
    parsed = []
    for line in text.splitlines():
        match = COMMAND.match(line)
        assert match, f"not a workflow command: {line!r}"
        properties = {}
        for item in (match["properties"] or "").split(","):
            if item:
                key, _, value = item.partition("=")
                assert not set(value) & set(":,\r\n"), f"unescaped property {item!r}"
                properties[key] = value
        assert not set(match["message"]) & set("\r\n")
        parsed.append({"name": match["name"], "message": match["message"], **properties})
    return parsed


def test_prove_github_commands() -> None:
    commands = _commands(github.format_prove(prove_reports()))
    assert [c["name"] for c in commands] == ["error", "error", "notice"]
    assert (commands[0]["file"], commands[0]["line"]) == ("examples/devprod/policies.yaml", "20")
    assert commands[0]["title"] == "netverify NV001 [forbid] dev-never-reaches-prod-db%3A violated"
    assert commands[0]["message"].count("%0A") == 3
    assert commands[-1]["message"] == "8 invariants: 6 holds, 2 violated, 0 unknown, 0 error"


def test_github_escapes_awkward_names() -> None:
    commands = _commands(github.format_prove([_undecided_report()]))
    assert [c["name"] for c in commands] == ["warning", "warning", "notice"]
    unknown = commands[0]
    assert unknown["file"] == "specs/odd name.yaml" and unknown["line"] == "3"
    assert "slow%2Cone%3A 100%25" in unknown["title"]
    assert "100%25" in unknown["message"] and "%0Araise --timeout" in unknown["message"]
    assert "line" not in commands[1]  # no spec location: the spec file, no line


@pytest.mark.parametrize(("report", "count"), [(widened_diff, 2), (unchanged_diff, 1)])
def test_diff_github_commands(report: Any, count: int) -> None:
    diff_report: DiffReport = report()
    commands = _commands(github.format_diff(diff_report))
    assert len(commands) == count
    if count == 2:
        assert commands[0]["name"] == "warning"
        assert (commands[0]["file"], commands[0]["line"]) == (
            "tests/diff/fixtures/head/policies.yaml",
            "20",
        )
    assert commands[-1]["name"] == "notice"
