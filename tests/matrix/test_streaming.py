"""The matrix is streamed: rows are computed when a formatter asks for them, csv, json,
text and markdown write each row before asking for the next, and the formats meant for eyes
refuse a matrix too large to read."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from netverify.cli.app import app
from netverify.engine.matrix import MatrixComputation
from netverify.loading import load_manifests
from netverify.model import Settings
from netverify.model.matrix import MatrixRow
from netverify.report import csv, json, markdown, text
from netverify.report import formats as report_formats
from netverify.report.formats import MatrixFormatter

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def blog(monkeypatch: pytest.MonkeyPatch) -> MatrixComputation:
    monkeypatch.chdir(REPO)
    return MatrixComputation(load_manifests(["examples/blog"]), Settings())


def test_rows_are_computed_one_at_a_time(
    blog: MatrixComputation, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []
    row = MatrixComputation.row

    def counted(self: MatrixComputation, port_index: int, source_index: int) -> MatrixRow:
        computed.append(source_index)
        return row(self, port_index, source_index)

    monkeypatch.setattr(MatrixComputation, "row", counted)
    rows = blog.rows()
    assert computed == []
    assert next(rows).source == "ns-1/pod1"
    assert computed == [0]
    assert next(rows).source == "ns-2/pod2"
    assert computed == [0, 1]


@pytest.mark.parametrize("formatter", [csv, json, text, markdown], ids=lambda m: m.__name__)
def test_each_row_is_written_before_the_next_is_read(
    blog: MatrixComputation, formatter: MatrixFormatter
) -> None:
    """When each chunk comes out, how many rows the formatter had read: it writes after the
    first row and after the second, not only once it has them all."""
    read = 0

    def counted() -> Iterator[MatrixRow]:
        nonlocal read
        for row in blog.rows():
            read += 1
            yield row

    read_at_chunk = [read for chunk in formatter.format_matrix(blog.matrix, counted()) if chunk]
    assert {1, 2} <= set(read_at_chunk)
    assert read == len(blog.matrix.entities)


def matrix_with_limit_2(monkeypatch: pytest.MonkeyPatch, output_format: str) -> Result:
    """`netverify matrix examples/blog` (3 pods) where every format meant for eyes stops at
    2 entities."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(report_formats, "READABLE_ENTITIES", 2)
    monkeypatch.setattr(report_formats, "HTML_ENTITIES", 2)
    return CliRunner().invoke(app, ["matrix", "examples/blog", "-f", output_format])


@pytest.mark.parametrize("output_format", ["html", "dot", "markdown", "text"])
def test_formats_for_eyes_refuse_a_matrix_too_large_to_read(
    output_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = matrix_with_limit_2(monkeypatch, output_format)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"netverify: 3 pods are too many for --format {output_format} (at most 2 stay "
        "readable); use --group-by workload or --group-by namespace, or --format csv\n"
    )


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_formats_for_programs_have_no_limit(
    output_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = matrix_with_limit_2(monkeypatch, output_format)
    assert result.exit_code == 0, result.output
