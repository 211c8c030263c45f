"""Which formatter writes a result: one interface per result kind, and one exhaustive `match`
per kind from the format the user asked for to the module that writes it.

Each format is a module of pure functions (`text`, `json`, `sarif`, ...) with one
`format_<kind>` function per result kind it supports; a module is the formatter object, and
the Protocols below are what the command line may call on it. A format's module is imported
only when it is asked for: most runs need one.
"""

from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Protocol, assert_never

from netverify.model import Explanation, Report, ServiceExplanation, SourceMap
from netverify.model.diff import DiffReport
from netverify.model.lint import LintReport
from netverify.model.matrix import ConnectivityMatrix, MatrixRow


class OutputFormat(StrEnum):
    """The formats of `prove` and `diff`."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    GITHUB = "github"


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class MatrixFormat(StrEnum):
    TEXT = "text"
    CSV = "csv"
    JSON = "json"
    MARKDOWN = "markdown"
    DOT = "dot"
    HTML = "html"


READABLE_ENTITIES = 200
"""The most entities a table or a graph meant for eyes shows (text, markdown, dot)."""
HTML_ENTITIES = 1_500
"""The most entities the html page shows: it collapses more than 60 to namespaces and drills
down, but its whole matrix is one JSON object inside the page."""


def matrix_entity_limit(output_format: MatrixFormat) -> int | None:
    """How many entities a matrix format is readable up to; None for the formats written a
    row at a time for programs (csv, json), which have no limit."""
    match output_format:
        case MatrixFormat.CSV | MatrixFormat.JSON:
            return None
        case MatrixFormat.TEXT | MatrixFormat.MARKDOWN | MatrixFormat.DOT:
            return READABLE_ENTITIES
        case MatrixFormat.HTML:
            return HTML_ENTITIES
        case _:
            assert_never(output_format)


class LintFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


class FixFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    PATCH = "patch"


class ProveFormatter(Protocol):
    def format_prove(self, reports: Sequence[Report]) -> str: ...


class DiffFormatter(Protocol):
    def format_diff(self, report: DiffReport) -> str: ...


class ExplainFormatter(Protocol):
    def format_explain(self, explanation: Explanation, sources: SourceMap) -> str: ...

    def format_service_explain(
        self, explanation: ServiceExplanation, sources: SourceMap
    ) -> str: ...


class MatrixFormatter(Protocol):
    def format_matrix(
        self, matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]
    ) -> Iterator[str]: ...


class LintFormatter(Protocol):
    def format_lint(self, report: LintReport) -> str: ...


def prove_formatter(output_format: OutputFormat) -> ProveFormatter:
    return _prove_or_diff(output_format)


def diff_formatter(output_format: OutputFormat) -> DiffFormatter:
    return _prove_or_diff(output_format)


class _ProveAndDiffFormatter(ProveFormatter, DiffFormatter, Protocol):
    """`prove` and `diff` offer the same formats."""


def _prove_or_diff(output_format: OutputFormat) -> _ProveAndDiffFormatter:
    match output_format:
        case OutputFormat.TEXT:
            from netverify.report import text

            return text
        case OutputFormat.JSON:
            from netverify.report import json

            return json
        case OutputFormat.SARIF:
            from netverify.report import sarif

            return sarif
        case OutputFormat.JUNIT:
            from netverify.report import junit

            return junit
        case OutputFormat.MARKDOWN:
            from netverify.report import markdown

            return markdown
        case OutputFormat.GITHUB:
            from netverify.report import github

            return github
        case _:
            assert_never(output_format)


def explain_formatter(output_format: ExplainFormat) -> ExplainFormatter:
    match output_format:
        case ExplainFormat.TEXT:
            from netverify.report import text

            return text
        case ExplainFormat.JSON:
            from netverify.report import json

            return json
        case _:
            assert_never(output_format)


def matrix_formatter(output_format: MatrixFormat) -> MatrixFormatter:
    match output_format:
        case MatrixFormat.TEXT:
            from netverify.report import text

            return text
        case MatrixFormat.CSV:
            from netverify.report import csv

            return csv
        case MatrixFormat.JSON:
            from netverify.report import json

            return json
        case MatrixFormat.MARKDOWN:
            from netverify.report import markdown

            return markdown
        case MatrixFormat.DOT:
            from netverify.report import dot

            return dot
        case MatrixFormat.HTML:
            from netverify.report import html

            return html
        case _:
            assert_never(output_format)


def lint_formatter(output_format: LintFormat) -> LintFormatter:
    match output_format:
        case LintFormat.TEXT:
            from netverify.report import text

            return text
        case LintFormat.JSON:
            from netverify.report import json

            return json
        case LintFormat.SARIF:
            from netverify.report import sarif

            return sarif
        case _:
            assert_never(output_format)
