"""JUnit XML, as CI servers read it (Jenkins, GitLab, Azure, ...).

`prove`: one `testsuite` per spec file, one `testcase` per invariant (`classname` the spec
file, `name` the invariant). A violated invariant has a `<failure>` whose text is the text
format's lines for it (the counterexample and the rules); `unknown` and `error` have an
`<error>`; one that holds passes, with its lines (a witness, a vacuity note) as `system-out`.

`diff`: one `testsuite` with one failing `testcase` per finding, or one passing testcase
"no connectivity change"; an incomplete or failed search adds a testcase with an `<error>`.
No timestamps or durations: the same input gives the same bytes.
"""

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence

from netverify.model import InvariantResult, Report, Status
from netverify.model.diff import DiffReport
from netverify.report.describe import finding_title, result_message
from netverify.report.locations import invariant_file_line
from netverify.report.rules import rule_for_finding, rule_for_result
from netverify.report.text import finding_lines, result_lines


def _counts(suite: ElementTree.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for case in cases if case.find("failure") is not None),
        "errors": sum(1 for case in cases if case.find("error") is not None),
        "skipped": 0,
    }


def _set_counts(element: ElementTree.Element, counts: dict[str, int]) -> None:
    for key, value in counts.items():
        element.set(key, str(value))


def _testcase(
    suite: ElementTree.Element, classname: str, name: str, file: str | None, line: int | None
) -> ElementTree.Element:
    case = ElementTree.SubElement(suite, "testcase", {"classname": classname, "name": name})
    if file is not None:
        case.set("file", file)
    if line is not None:
        case.set("line", str(line))
    return case


def _outcome(
    case: ElementTree.Element, tag: str, kind: str, message: str, text: str
) -> ElementTree.Element:
    element = ElementTree.SubElement(case, tag, {"type": kind, "message": message})
    element.text = text
    return element


def _invariant_case(suite: ElementTree.Element, result: InvariantResult, report: Report) -> None:
    file, line = invariant_file_line(result, report)
    case = _testcase(suite, report.spec_file, result.name, file, line)
    text = "\n".join(result_lines(result, report)) + "\n"
    rule = rule_for_result(result)
    match result.status:
        case Status.HOLDS:
            ElementTree.SubElement(case, "system-out").text = text
        case Status.VIOLATED:
            assert rule is not None
            _outcome(case, "failure", rule.id, result_message(result), text)
        case Status.UNKNOWN | Status.ERROR:
            assert rule is not None
            _outcome(case, "error", rule.id, result_message(result), text)


def _document(suites: ElementTree.Element) -> str:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.findall("testsuite"):
        for key, value in _counts(suite).items():
            totals[key] += value
    _set_counts(suites, totals)
    ElementTree.indent(suites, space="  ")
    body = ElementTree.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def format_prove(reports: Sequence[Report]) -> str:
    suites = ElementTree.Element("testsuites", {"name": "netverify prove"})
    for report in reports:
        suite = ElementTree.SubElement(suites, "testsuite", {"name": report.spec_file})
        for result in report.results:
            _invariant_case(suite, result, report)
        _set_counts(suite, _counts(suite))
        if report.assumptions:
            properties = ElementTree.SubElement(suite, "properties")
            for note in report.assumptions:
                ElementTree.SubElement(
                    properties, "property", {"name": "assumption", "value": note}
                )
    return _document(suites)


def format_diff(report: DiffReport) -> str:
    label = f"{report.base_label} -> {report.head_label}"
    suites = ElementTree.Element("testsuites", {"name": "netverify diff"})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": label})
    for finding in report.findings:
        title = f"[{finding.change.value}] {finding_title(finding)}"
        case = _testcase(suite, label, title, None, None)
        lines = finding_lines(finding, report)
        _outcome(case, "failure", rule_for_finding(finding).id, lines[0], "\n".join(lines) + "\n")
    if report.error:
        case = _testcase(suite, label, "diff completed", None, None)
        _outcome(case, "error", "error", report.error, report.error + "\n")
    elif not report.complete:
        case = _testcase(suite, label, "diff completed", None, None)
        reason = f"the search stopped early ({report.incomplete_reason}): more changes may exist"
        _outcome(case, "error", "incomplete", reason, reason + "\n")
    if not report.findings and report.complete and not report.error:
        _testcase(suite, label, "no connectivity change", None, None)
    _set_counts(suite, _counts(suite))
    return _document(suites)
