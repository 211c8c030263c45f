"""The yaml-rs fast path reads exactly what the reference loader reads: the same documents,
the same line for every node, the same model (objects, rules, their lines, every message).

A divergence is a bug of the fast path: it must send that text the reference way instead.
"""

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.generate import MANIFEST_FILES, GeneratorOptions, write_cluster
from netverify.loading import load_manifests, yamlalike, yamlfast, yamlsource
from netverify.model import InputError, LoadedCluster

REPO = Path(__file__).resolve().parents[2]
CORPUS = sorted(
    path
    for folder in (REPO / "examples", *(REPO / "tests").glob("**/fixtures"))
    for path in folder.rglob("*")
    if path.suffix in (".yaml", ".yml", ".json")
)
FOLDERS = sorted({path.parent for path in CORPUS})

Reference = Callable[[str, int], Mapping[tuple[str | int, ...], int]]


def _reference_of(file: str, calls: list[int] | None = None) -> Reference:
    def reference(part: str, first_line: int) -> Mapping[tuple[str | int, ...], int]:
        if calls is not None:
            calls.append(first_line)
        return yamlsource._positions(part, first_line, file)

    return reference


def _compare(text: str, file: str = "f.yaml", calls: list[int] | None = None) -> bool:
    """Assert that the fast path reads `text` as the reference does, or leaves it to the
    reference; whether it read it."""
    fast = yamlfast.fast_documents(text, _reference_of(file, calls))
    try:
        reference = yamlsource._reference_documents(text, text, file)
    except InputError:
        assert fast is None, "the fast path read text the reference refuses"
        return False
    if fast is None:
        return False
    assert [(data, index) for data, index, _ in fast] == [(d.data, d.index) for d in reference]
    for (_, _, positions), document in zip(fast, reference, strict=True):
        for path, line in document.positions.items():
            assert positions.get(path) == line, path
            assert positions.get((*path, "absent")) is None
    return True


@pytest.mark.parametrize("path", CORPUS, ids=[str(p.relative_to(REPO)) for p in CORPUS])
def test_the_corpus_reads_alike(path: Path) -> None:
    _compare(path.read_text(encoding="utf-8"), str(path))


def _load(paths: list[str], fast: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(yamlsource, "fast_documents", lambda text, reference, parsed: None)
        try:
            loaded: LoadedCluster = load_manifests(paths)
        except InputError as error:
            return error.diagnostics
        return loaded


@pytest.mark.parametrize("folder", FOLDERS, ids=[str(p.relative_to(REPO)) for p in FOLDERS])
def test_the_corpus_loads_the_same_model(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _load([str(folder)], True, monkeypatch)
    assert fast == _load([str(folder)], False, monkeypatch)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("leak", [False, True])
def test_generated_clusters_take_the_fast_path_and_load_the_same_model(
    seed: int, leak: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_cluster(GeneratorOptions(12, 120, 40, seed=seed, leak=leak), tmp_path)
    paths = [str(written.folder / name) for name in MANIFEST_FILES]
    for path in paths:
        calls: list[int] = []
        assert _compare(Path(path).read_text(encoding="utf-8"), path, calls), path
        assert calls == [], "generated manifests need the reference for no line"
    assert _load(paths, True, monkeypatch) == _load(paths, False, monkeypatch)


SCALARS = [
    # YAML 1.1 (the API server's reading) and 1.2 tell these apart: the fast path must not
    # read them, or read them the 1.1 way.
    *("yes", "no", "on", "off", "Yes", "NO", "On", "OFF", "y", "n", "true", "False"),
    *("010", "0o10", "0x1F", "0b101", "1_000", "1:20", "12:30:45", "+12", "-0", "0755", "09"),
    *("1e3", "1E3", "1.0e+3", "1.5", "6.", "-.5", ".5", "0.1_0", "01.5", ".inf", "-.Inf"),
    *(".NaN", "~", "null", "Null", "NULL", "", "2001-12-14", "10.0.0.1", "10.0.0.0/8"),
    *("1.2.3", "99999999999999999999", "8rqhnsgztj", "5d4f8", "--verbose", "-1", "=", "a b"),
    *('"yes"', "'010'", '"\\x41\\u0041\\N\\_"', '"a\\/b"', "'it''s'", "2001:db8::1"),
]


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize(
    "template",
    ["k: {}\n", "{}: v\n", "- {}\n", "a: [{}, x]\n", "a: {{b: {}}}\n", "a:\n  {}\n", "- a: {}\n"],
)
def test_scalars_read_alike(scalar: str, template: str) -> None:
    _compare(template.format(scalar))


def test_the_distinct_lines_are_read_apart_where_the_text_is() -> None:
    """The search for text the two read apart runs over each distinct line once."""
    texts = [
        "a: 1\n- b\n" * 2 + template.format(scalar) + "a: 1\n" * 2
        for scalar in SCALARS
        for template in ("k: {}\n", "- {}\n", "{}: v\n", "a: [x, {}]\n", "-{}\n")
    ]
    texts += [path.read_text(encoding="utf-8") for path in CORPUS]
    for text in texts:
        whole = yamlalike._READ_APART.search("\n" + text) is None
        distinct = yamlalike._READ_APART.search(yamlalike._distinct_lines(text.split("\n")))
        assert whole == (distinct is None), text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---\n",
        "# only a comment\n",
        "a: 1\n---\n",
        "a: 1\n---\n---\nb: 2\n",
        "# c\n---\na: 1\n",
        "--- # c\na: 1\n",
        "a: 1\n...\n",
        "--- a\n",
        # `---` followed by other than a space or a line break starts no document.
        *("a: 1\n---#x\n", "---#x\n", "---#\na: 1\n", "---  \na: 1\n--- # c\n"),
        # A `---` line at the very end, a longer dash line, one that is not at a line start.
        *("a: 1\n---", "----\na: 1\n", "a: |\n  ---\n  x\nb: ---\n"),
        "- 1\n- 2\n",
        "a:\n- b: 1\n  c:\n  - 2\n  - - 3\n    - 4\n",
        "a:\n  b:\n    - x: 1\n      y: [1,\n  2]\n    - z\n",
        "a: |\n  b: 1\n  - c\nd: >\n  e\n",
        "a: |+\n  x\n\n---\nb: |+\n  y\n\n\n---\nc: >+\n  z\n\n",
        "a: plain\n  continued: here\nb: 2\n",
        'a: "quoted\nb: 1"\nc: 2\n',
        '"q": 1\nr: 2\n',
        "-   a: 1\n    b: 2\n-\n  c: 3\n",
        "a: 1 # comment\n# b: 2\nc: # comment\n  d: 4\n",
        "a:\n\n  b: 1\n\n  c: 2\n",
        "  a: 1\n  b:\n  - 2\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "a: [1, 2\n",
        "a:\tb\n",
        "a: b\r\nc: d\r\n",
        # yaml-rs joins an escaped surrogate pair into one character, PyYAML does not.
        '["\\ud83d\\ude00"]\n',
        'a: "x\\U0000D83D\\uDE00"\n',
        # yaml-rs reads a flow mapping key whose `:` is on a later line; PyYAML refuses it.
        "{'\n': a}\n",
        '{"a"\n: 1}\n',
        "- {a\n  b: 1}\n",
        "k: [{x\n  y: 1}]\n",
        "k: {a # }\n b: 1} # {\n",
        'k: {a: "}" \n b: 1}\n',
        # Flow scalars yaml-rs reads more liberally than PyYAML.
        *("[|x]\n", "{x: >y}\n", "[x?y]\n", "{?x: 1}\n", "[:x]\n", "[x, :]\n", "[~:]\n"),
        *("{}: a\n", "- [a]: b\n", "{[a]: 1}\n", "{x: {a: 1}, y: b}\n"),
        # An empty block scalar ending a document: a line break for yaml-rs, "" for PyYAML.
        *("k: |\n", "k: >+\n\n", "k: |\n---\nb: 1\n", "- |-\n  # c\n"),
        "k: " + "[" * 201 + "]" * 201 + "\n",
        "k: " + "[" * 199 + "]" * 199 + "\n",
        # A scalar in the 200th level of nesting is at the 201st.
        "k: " + "[" * 199 + "x" + "]" * 199 + "\n",
        "[" * 200 + "x" + "]" * 200 + "\n",
        "[" * 199 + "x" + "]" * 199 + "\n",
        "k:\n" + "".join(" " * depth + f"k{depth}:\n" for depth in range(1, 205)) + "  end: 1\n",
    ],
)
def test_structures_read_alike(text: str) -> None:
    _compare(text)


@pytest.mark.parametrize(
    "text",
    [
        "k: {}\nl: []\n",
        "values: [\"a\", \"b c\", 'd''e']\n",
        "a: {b: [1, 2], c: {d: x}}\ne:\n- [a, -1]\n",
        "ports: [{port: 80, protocol: TCP}]\n",
        'k: {"a": "x\\"}", b: c}\n',
        "k: {} # every pod\n# namespaceSelector: {} admits [all]\nl: [a] #[\nm: a#b\n",
    ],
)
def test_flow_collections_on_one_line_take_the_fast_path(text: str) -> None:
    assert _compare(text)


_ESCAPES = ["\\ud83d\\ude00", "\\u00e9", "\\x41", "\\t", "\\/", "\\ ", "\\0", "\\L", "\\_", "\\N"]
_ESCAPES += ["\\U0001F600", "\\ud83d", "\\\\", '\\"', "\\\n  ", "a", " ", "\n", "\n\n", "é"]
_QUOTED = st.one_of(
    st.lists(st.sampled_from(_ESCAPES), max_size=4).map(lambda parts: '"' + "".join(parts) + '"'),
    st.lists(st.sampled_from(["a", "''", " ", "\n", "\n  ", "\\", '"', "#", "]"]), max_size=4).map(
        lambda parts: "'" + "".join(parts) + "'"
    ),
)
_WORDS = ["a", "x y", "k8s", "-", "-1", "- x", "a-b", "a:b", "a#b", "a #b", "http://x", "?x", "|x"]
_WORDS += [">", ":x", "x?y", "~", "x,y", "@x", "a]", "[a", "{}", "[]", "a: b", "#c", "it's"]
_SCALAR = st.one_of(st.sampled_from(SCALARS), st.sampled_from(_WORDS), _QUOTED)
_KEY = st.one_of(st.sampled_from(["a", "b", "name", "port", "x y", "a-b"]), _QUOTED, _SCALAR)
_KEY_ENDS = [": ", ":\n  ", "\n  : ", ":", " : ", ": \n    ", ": # c\n  "]
_ITEM_ENDS = [", ", ",", ",\n  ", "\n  , ", ",\n", " ,", " # c\n  , "]
_TRAILING = ["", "", " # c", " #[{", "#]", " # }"]
_BLOCK_SCALARS = ["|\n", ">-\n", "|+\n\n", "|\n  {i}# c\n", "|\n  {i}text\n", ">\n  {i}a\n  {i}b\n"]
_BLOCK_SCALARS += ["|-\n  {i}x\n\n", "|+\n  {i}x\n\n", "|2\n  {i}  x\n", ">-\n  {i}a\n\n  {i}b\n"]


def _flow(depth: int) -> st.SearchStrategy[str]:
    inner = _SCALAR if depth > 1 else st.one_of(_SCALAR, st.deferred(lambda: _flow(depth + 1)))
    entries = st.lists(st.tuples(_KEY, st.sampled_from(_KEY_ENDS), inner), max_size=3)
    mapping = st.tuples(entries, st.sampled_from(_ITEM_ENDS)).map(
        lambda drawn: "{" + drawn[1].join(key + end + value for key, end, value in drawn[0]) + "}"
    )
    sequence = st.tuples(st.lists(inner, max_size=3), st.sampled_from(_ITEM_ENDS)).map(
        lambda drawn: "[" + drawn[1].join(drawn[0]) + "]"
    )
    return st.one_of(mapping, sequence)


def _value(indent: int, depth: int) -> st.SearchStrategy[str]:
    inline = st.tuples(st.one_of(_SCALAR, _flow(0)), st.sampled_from(_TRAILING)).map(
        lambda drawn: f" {drawn[0]}{drawn[1]}\n"
    )
    block_scalar = st.sampled_from(_BLOCK_SCALARS).map(lambda s: " " + s.format(i=" " * indent))
    if depth > 2:
        return st.one_of(inline, block_scalar)
    nested = st.one_of(_block(indent + 2, depth + 1), _block(indent, depth + 1, items_only=True))
    return st.one_of(inline, block_scalar, nested.map(lambda block: "\n" + block))


def _block(indent: int, depth: int, items_only: bool = False) -> st.SearchStrategy[str]:
    pad = " " * indent
    comment = st.sampled_from(["", "", f"{pad}# c\n", "\n", f"{pad}#\n", f"{pad}# {{a: [\n"])
    entry = st.tuples(comment, _KEY, st.sampled_from([":", " :"]), _value(indent, depth)).map(
        lambda drawn: drawn[0] + pad + "".join(drawn[1:])
    )
    item = st.tuples(comment, _value(indent + 2, depth)).map(
        lambda drawn: f"{drawn[0]}{pad}-{drawn[1]}"
    )
    entries = st.lists(item if items_only else st.one_of(entry, item), min_size=1, max_size=3)
    return entries.map("".join)


YAML_TEXTS = st.lists(
    st.tuples(
        st.sampled_from(["", "---\n", "--- # c\n", "---\n# c\n"]),
        st.one_of(_block(0, 0), _flow(0).map(lambda flow: flow + "\n")),
    ),
    min_size=1,
    max_size=3,
).map(lambda documents: "".join(start + body for start, body in documents))
"""YAML text shapes where yaml-rs and PyYAML may part: flow collections over lines, keys
and scalars with indicators, escapes, block scalars, comments, several documents."""


@settings(
    max_examples=int(os.environ.get("NETVERIFY_DIFFERENTIAL_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(YAML_TEXTS)
def test_generated_texts_read_alike(text: str) -> None:
    _compare(text)


def test_deep_block_nesting_is_refused_on_the_fast_path_too() -> None:
    text = "".join(" " * (2 * depth) + f"k{depth}:\n" for depth in range(205)) + " " * 410 + "x\n"
    with pytest.raises(InputError, match="nests deeper than 200 levels"):
        yamlsource.parse_documents(text, "deep.yaml")


def test_documents_parsed_before_are_reused_at_their_new_lines(
    yaml_rs_parses: Callable[[], list[str]],
) -> None:
    """A document whose text was parsed before (in another revision of the file) is not
    parsed again, and its lines are counted where it now is."""
    shared = ["a: 1\n", "b: |+\n  x\n\n", "c:\n- 3\n"]
    base = "---\n".join(shared)
    head = "---\n".join([shared[0], "new: [1, 2]\n", "# moved\n" + shared[2], shared[1]])
    parsed: dict[str, object] = {}
    assert yamlfast.fast_documents(base, _reference_of("base.yaml"), parsed) is not None
    texts = yaml_rs_parses()
    fast = yamlfast.fast_documents(head, _reference_of("head.yaml"), parsed)
    assert fast is not None
    assert texts == ["---\nnew: [1, 2]\n", "---\n# moved\nc:\n- 3\n"]
    reference = yamlsource._reference_documents(head, head, "head.yaml")
    assert [(data, index) for data, index, _ in fast] == [(d.data, d.index) for d in reference]
    for (_, _, positions), document in zip(fast, reference, strict=True):
        for path, line in document.positions.items():
            assert positions.get(path) == line, path
