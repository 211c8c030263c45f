"""libyaml's fast path reads exactly what the pure-Python loader reads, positions included."""

from pathlib import Path

import pytest

from netverify.loading import yamlsource

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    path for path in (REPO / "examples").rglob("*") if path.suffix in (".yaml", ".yml", ".json")
)


@pytest.mark.skipif(yamlsource._CSafeLoader is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(REPO)) for p in EXAMPLES])
def test_fast_and_pure_loaders_agree(path: Path) -> None:
    text = path.read_text()
    assert yamlsource._fast_path_is_safe(text)
    fast = yamlsource._documents(yamlsource._FastLoader, text, text, str(path))
    pure = yamlsource._documents(yamlsource._Loader, text, text, str(path))
    assert [(d.data, dict(d.positions)) for d in fast] == [
        (d.data, dict(d.positions)) for d in pure
    ]


def test_deep_flow_nesting_is_vetted_before_libyaml_sees_it() -> None:
    text = "[" * 5000 + "]" * 5000
    assert not yamlsource._fast_path_is_safe(text)


def test_aliases_take_the_pure_path_for_their_positions() -> None:
    text = "a: &x [1, 2]\nb:\n  - *x\n"
    (document,) = yamlsource.parse_documents(text, "f.yaml")
    assert document.line_of(("b", 0)) == 3
