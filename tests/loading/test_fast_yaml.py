"""libyaml's fast path reads exactly what the pure-Python loader reads, positions included."""

from pathlib import Path

import pytest
import yaml

from netverify.loading import yamlloaders, yamlsource
from netverify.model import InputError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    path for path in (REPO / "examples").rglob("*") if path.suffix in (".yaml", ".yml", ".json")
)


@pytest.mark.skipif(yamlloaders.CSafeLoader is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(REPO)) for p in EXAMPLES])
def test_fast_and_pure_loaders_agree(path: Path) -> None:
    text = path.read_text()
    assert yamlloaders.fast_path_is_safe(text)
    fast = yamlsource._documents(yamlloaders.FastLoader, text, text, str(path))
    pure = yamlsource._documents(yamlloaders.PureLoader, text, text, str(path))
    assert [(d.data, dict(d.positions)) for d in fast] == [
        (d.data, dict(d.positions)) for d in pure
    ]


@pytest.mark.parametrize("depth", [300, 5000, 100_000])
def test_deep_nesting_is_refused_on_either_path(depth: int) -> None:
    with pytest.raises(InputError) as caught:
        yamlsource.parse_documents("[" * depth + "]" * depth, "deep.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == "document nests deeper than 200 levels"


def test_aliases_take_the_pure_path_for_their_positions() -> None:
    text = "a: &x [1, 2]\nb:\n  - *x\n"
    (document,) = yamlsource.parse_documents(text, "f.yaml")
    assert document.line_of(("b", 0)) == 3


@pytest.mark.parametrize(
    "text",
    [chr(code) for code in range(0x80)] + ["\x85", "\xa0", "é", "\ud7ff", "\ue000", "\ufffe"],
)
def test_printable_check_agrees_with_the_yaml_reader(text: str) -> None:
    refused = yaml.reader.Reader.NON_PRINTABLE.search(f"a{text}b") is not None
    assert yamlloaders.printable(f"a{text}b") is not refused
