"""The HTML matrix rendered by a real headless browser (Debian `chromium`): the heat-map the
page's script draws must show exactly the JSON's cells. Skipped when chromium is missing."""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from netverify.engine.matrix import MatrixComputation
from netverify.loading import load_manifests
from netverify.model import Settings
from netverify.model.matrix import GroupBy
from netverify.report.html import format_matrix as format_matrix_html
from netverify.report.json import format_matrix as format_matrix_json

REPO = Path(__file__).resolve().parents[2]
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium is not on PATH")

CELL = re.compile(r"<rect ([^>]*class=\"cell\"[^>]*)>")
ATTRIBUTE = re.compile(r'data-(from|to|allowed)="([^"]*)"')


def rendered_cells(page: Path, tmp_path: Path) -> dict[tuple[str, str], bool]:
    assert BROWSER is not None
    dom = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    drawn = re.sub(r"<script.*?</script>", "", dom, flags=re.S)
    cells = {}
    for match in CELL.finditer(drawn):
        attributes = {k: html.unescape(v) for k, v in ATTRIBUTE.findall(match.group(1))}
        cells[(attributes["from"], attributes["to"])] = attributes["allowed"] == "true"
    return cells


@pytest.mark.parametrize(
    ("example", "group_by"),
    [("examples/blog", GroupBy.POD), ("examples/devprod", GroupBy.NAMESPACE)],
)
def test_the_rendered_heat_map_matches_the_json(
    example: str, group_by: GroupBy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    matrix = MatrixComputation(load_manifests([example]), Settings(), group_by)
    page = tmp_path / "matrix.html"
    page.write_text("".join(format_matrix_html(matrix.matrix, matrix.rows())), encoding="utf-8")
    document = json.loads("".join(format_matrix_json(matrix.matrix, matrix.rows())))
    expected = {(cell["from"], cell["to"]): cell["allowed"] for cell in document["cells"]}
    assert rendered_cells(page, tmp_path) == expected
    if example == "examples/blog":
        assert expected[("ns-1/pod1", "ns-2/pod2")] is False
        assert expected[("ns-3/pod3", "ns-2/pod2")] is True
