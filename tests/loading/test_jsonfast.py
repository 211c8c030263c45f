"""The json module's path reads JSON exactly as the reference loader (PyYAML) reads it: the
same data, the same line for every node, the same model; or it leaves the text to the YAML
way. A divergence is a bug of the JSON path.
"""

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.generate import MANIFEST_FILES, GeneratorOptions, write_cluster
from netverify.loading import jsonfast, load_manifests, yamlsource
from netverify.model import InputError, LoadedCluster


def _compare(text: str, file: str = "f.json") -> bool:
    """Assert that the JSON path reads `text` as the reference does, or leaves it to the
    YAML way; whether it read it."""
    read = jsonfast.json_document(text)
    try:
        reference = yamlsource._reference_documents(text, text, file)
    except InputError:
        assert read is None, "the JSON path read text the reference refuses"
        return False
    if read is None:
        return False
    data, positions = read
    (document,) = reference
    assert data == document.data
    assert [type(value) for value in _scalars(data)] == [
        type(value) for value in _scalars(document.data)
    ]
    assert dict(positions) == document.positions
    for path in document.positions:
        assert positions.get((*path, "absent")) is None
    return True


def _scalars(data: object) -> list[object]:
    if isinstance(data, dict):
        return [scalar for value in data.values() for scalar in _scalars(value)]
    if isinstance(data, list):
        return [scalar for value in data for scalar in _scalars(value)]
    return [data]


_STRINGS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from('"\\/[]{}:#'),
    max_size=8,
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _STRINGS
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_STRINGS, inner, max_size=4),
    max_leaves=25,
)


@settings(
    max_examples=int(os.environ.get("NETVERIFY_DIFFERENTIAL_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.one_of(st.lists(_VALUES, max_size=4), st.dictionaries(_STRINGS, _VALUES, max_size=4)),
    st.sampled_from([None, 0, 1, 4, "\t"]),
    st.booleans(),
    st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]),
)
def test_generated_json_reads_alike(
    value: object, indent: int | str | None, ascii_only: bool, separators: tuple[str, str]
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only, separators=separators)
    read = _compare(text + "\n")
    # Only what the YAML reader refuses or counts as a line break, and escaped surrogates
    # (non-BMP characters written as ASCII), are left to the YAML way.
    expected = (
        yaml.reader.Reader.NON_PRINTABLE.search(text) is None
        and not any(mark in text for mark in "\x85\u2028\u2029")
        and jsonfast.SURROGATE_ESCAPE.search(text) is None
    )
    assert read == expected


@pytest.mark.parametrize(
    "text",
    [
        # YAML 1.1 numbers: a float needs a `.`, an exponent a sign; else a string.
        "[1e3, 1E3, 1.0e3, 1.0e+3, 1.5E-2, -0, -0.0, 0.5, 10, 123456789012345678901234]",
        '{"a": NaN, "b": Infinity, "c": -Infinity}',
        # PyYAML keeps an escaped surrogate pair as two characters.
        '["\\ud83d\\ude00", "\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\"]',
        '{"\\ud83d": 1}',
        # A key whose `:` is on a later line, or far: PyYAML refuses it.
        '{"a"\n: 1}',
        '{\n  "a"\n  :\n  1\n}',
        '{"' + "k" * 1100 + '": 1}',
        '{"' + "k" * 100 + '": 1}',
        '{"' + "\\u0041" * 99 + '": 1}',
        '{"a"' + " " * 1100 + ": 1}",
        '{"x": {"' + "k" * 1100 + '": 1}}',
        '{"x": {"y": {"' + "k" * 1100 + '": 1}}}',
        '{"x": {"y": {"' + "\\u0041" * 200 + '": 1}}}',
        # Duplicate keys are an error, at any level.
        '{"a": 1, "a": 2}',
        '{"x": {"y": {"a": 1, "a": 2}}}',
        '{"items": [{"a": 1, "a": 2}]}',
        # Line breaks: `\r\n` is one, a lone `\r` or a Unicode one is one for YAML only.
        '{\r\n  "a": 1,\r\n  "b": [2]\r\n}\r\n',
        '{"a": 1,\r "b": 2}',
        '{"a": 1,\u2028"b": 2}',
        '["\u2028"]',
        '["\x85"]',
        '["\x7f"]',
        # Tabs are JSON's whitespace.
        '{\n\t"a": [\n\t\t1\n\t]\n}\n',
        # Not one JSON document.
        '{"a": 1}\n{"b": 2}\n',
        '{"a": 1} x',
        '{"a": 1,}',
        "[1, 2,]",
        '{"a" 1}',
        "{a: 1}\n",
        '  \n\n {"a": [1, {"b": null}], "c": {}}  \n',
        "[]",
        "{}",
        # As deep as the reference allows, and deeper.
        "[" * 199 + "]" * 199,
        "[" * 200 + "]" * 200,
        "[" * 201 + "]" * 201,
        '{"a": ' * 200 + "1" + "}" * 200,
        '["[[[[", ' + "[" * 199 + "]" * 199 + "]",
        '["\\\\", "\\"[", ' + "[" * 198 + "]" * 198 + "]",
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_texts_read_alike(text: str) -> None:
    _compare(text)


def test_a_kubectl_list_takes_the_json_path() -> None:
    text = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "1"}}},
                {"kind": "Namespace", "metadata": {"name": "b"}},
            ],
        },
        indent=4,
    )
    assert _compare(text)
    read = jsonfast.json_document(text)
    assert read is not None
    assert read[1][("items", 1, "metadata", "name")] == 17


def _as_json_lists(folder: Path, names: list[str]) -> list[str]:
    """Each manifest file of `folder` written again as one `kubectl get -o json` List."""
    paths = []
    for name in names:
        documents = [d for d in yaml.safe_load_all((folder / name).read_text()) if d]
        target = folder / (Path(name).stem + ".json")
        listed = {"apiVersion": "v1", "kind": "List", "items": documents}
        target.write_text(json.dumps(listed, indent=4))
        paths.append(str(target))
    return paths


def _load(paths: list[str], json_path: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        if not json_path:
            patch.setattr(yamlsource, "json_document", lambda text: None)
        try:
            loaded: LoadedCluster = load_manifests(paths)
        except InputError as error:
            return error.diagnostics
        return loaded


@pytest.mark.parametrize("seed", [0, 1])
def test_generated_clusters_as_json_load_the_same_model(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_cluster(GeneratorOptions(12, 120, 40, seed=seed, leak=bool(seed)), tmp_path)
    paths = _as_json_lists(written.folder, list(MANIFEST_FILES))
    for path in paths:
        assert jsonfast.json_document(Path(path).read_text()) is not None, path
    assert _load(paths, True, monkeypatch) == _load(paths, False, monkeypatch)


REPO = Path(__file__).resolve().parents[2]
JSON_CORPUS = sorted(
    path
    for folder in (REPO / "examples", REPO / "tests")
    for path in folder.rglob("*.json")
    if "goldens" not in path.parts and "report" not in path.parts
)


@pytest.mark.parametrize("path", JSON_CORPUS, ids=[str(p.relative_to(REPO)) for p in JSON_CORPUS])
def test_the_json_corpus_reads_alike(path: Path) -> None:
    _compare(path.read_text(encoding="utf-8"), str(path))
