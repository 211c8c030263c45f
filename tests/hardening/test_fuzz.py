"""Fuzzing the loaders: any input ends as a model or an `InputError`, never another exception.

The default runs are short (CI); the `fuzz`-marked ones are long and run with `-m fuzz` or
`NETVERIFY_FUZZ=1`.
"""

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.loading import load_manifests
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import Cluster, InputError, LoadedCluster

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = sorted(
    [*(REPO / "examples" / "blog").glob("*.yaml"), *(REPO / "examples" / "devprod").glob("*.yaml")]
)
SPEC_FILE = REPO / "specs" / "isolation.yaml"

SHORT = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LONG = settings(
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- inputs: bytes, YAML-ish text, mutated documents

YAML_TOKENS = [
    "\n",
    "  ",
    "    ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "---\n",
    "...\n",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!!binary ",
    "!Custom ",
    "? ",
    "|\n",
    ">\n",
    '"',
    "'",
    "\t",
    "\\",
    "%YAML 1.1\n",
    "apiVersion: v1\n",
    "apiVersion: networking.k8s.io/v1\n",
    "kind: NetworkPolicy\n",
    "kind: Pod\n",
    "kind: Namespace\n",
    "kind: List\n",
    "items:",
    "metadata:",
    "name: a",
    "namespace: b",
    "spec:",
    "podSelector:",
    "ingress:",
    "egress:",
    "from:",
    "to:",
    "ports:",
    "port: 80",
    "endPort: 90",
    "protocol: TCP",
    "ipBlock:",
    "cidr: 10.0.0.0/8",
    "except:",
    "matchLabels:",
    "matchExpressions:",
    "key: app",
    "operator: In",
    "values:",
    "0",
    "-1",
    "1e400",
    "0x1F",
    "0o17",
    "true",
    "null",
    "~",
    "\ufeff",
    "\u2028",
    "\x85",
    "é",
    "\x00",
]
yaml_like_text = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join)
input_bytes = st.one_of(
    st.binary(max_size=512),
    yaml_like_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 65535, 65536, 2**31, 2**63, -(2**63), 10**40]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "TCP", "tcp", "In", "Ingress", "10.0.0.0/8", "::/0", "http", "a/b"]),
)
any_value = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=10,
)

Location = tuple[object, object]
"""A container and a key (or index) in it."""


def locations(node: object) -> list[Location]:
    """Every (container, key) pair in a document, depth first."""
    found: list[Location] = []
    if isinstance(node, dict):
        for key, child in node.items():
            found.append((node, key))
            found.extend(locations(child))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append((node, index))
            found.extend(locations(child))
    return found


def mutate(draw: st.DrawFn, document: object) -> object:
    """One structural mutation somewhere in `document` (which is changed in place)."""
    spots = locations(document)
    if not spots:
        return draw(any_value)
    container, key = draw(st.sampled_from(spots))
    value = container[key]  # type: ignore[index]
    operation = draw(
        st.sampled_from(["delete", "replace", "duplicate", "insert", "text", "number"])
    )
    match operation:
        case "delete":
            del container[key]  # type: ignore[attr-defined]
        case "replace":
            container[key] = draw(any_value)  # type: ignore[index]
        case "duplicate" if isinstance(value, list) and value:
            value.extend(copy.deepcopy(draw(st.sampled_from(value))) for _ in range(2))
        case "insert" if isinstance(value, dict):
            value[draw(st.text(max_size=12))] = draw(any_value)
        case "insert" if isinstance(value, list):
            value.insert(draw(st.integers(0, len(value))), draw(any_value))
        case "text" if isinstance(value, str):
            container[key] = draw(st.text(max_size=40))  # type: ignore[index]
        case "number" if isinstance(value, int) and not isinstance(value, bool):
            container[key] = draw(  # type: ignore[index]
                st.sampled_from([-value, value + 65536, -(2**64), 2**64, 10**100, 0])
            )
        case _:
            container[key] = draw(any_value)  # type: ignore[index]
    return document


@st.composite
def mutated_documents(draw: st.DrawFn, originals: list[object]) -> list[object]:
    documents = copy.deepcopy(originals)
    for _ in range(draw(st.integers(1, 5))):
        index = draw(st.integers(0, len(documents) - 1))
        documents[index] = mutate(draw, documents[index])
    return documents


def example_documents() -> list[object]:
    documents: list[object] = []
    for path in EXAMPLE_FILES:
        documents.extend(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    return [document for document in documents if document is not None]


EXAMPLES = example_documents()
SPEC = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def dump(documents: list[object]) -> str:
    return yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False)


# --- properties


def load_file(path: Path) -> LoadedCluster | None:
    """The cluster, or None after an `InputError`; any other exception fails the test."""
    try:
        return load_manifests([str(path)])
    except InputError as error:
        assert error.diagnostics, "an InputError without diagnostics"
        for diagnostic in error.diagnostics:
            str(diagnostic)  # every diagnostic can be printed
        return None


@pytest.fixture(scope="module")
def blog() -> Cluster:
    return load_manifests([str(REPO / "examples" / "blog")]).cluster


def check_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "input.yaml"
    path.write_bytes(data)
    load_file(path)


def check_manifests(tmp_path: Path, documents: list[object]) -> None:
    path = tmp_path / "mutated.yaml"
    path.write_text(dump(documents), encoding="utf-8")
    load_file(path)


def check_spec(tmp_path: Path, cluster: Cluster, document: object) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(dump([document]), encoding="utf-8")
    try:
        resolve_spec(read_spec(str(path)), cluster)
    except InputError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            str(diagnostic)


@SHORT
@given(data=input_bytes)
def test_any_bytes_load_or_fail_cleanly(tmp_path: Path, data: bytes) -> None:
    check_bytes(tmp_path, data)


@pytest.mark.fuzz
@LONG
@given(data=input_bytes)
def test_any_bytes_load_or_fail_cleanly_long(tmp_path: Path, data: bytes) -> None:
    check_bytes(tmp_path, data)


@SHORT
@given(documents=mutated_documents(EXAMPLES))
def test_mutated_manifests_load_or_fail_cleanly(tmp_path: Path, documents: list[object]) -> None:
    check_manifests(tmp_path, documents)


@pytest.mark.fuzz
@LONG
@given(documents=mutated_documents(EXAMPLES))
def test_mutated_manifests_load_or_fail_cleanly_long(
    tmp_path: Path, documents: list[object]
) -> None:
    check_manifests(tmp_path, documents)


@SHORT
@given(documents=mutated_documents([SPEC]))
def test_mutated_specs_resolve_or_fail_cleanly(
    tmp_path: Path, blog: Cluster, documents: list[object]
) -> None:
    check_spec(tmp_path, blog, documents[0])


@pytest.mark.fuzz
@LONG
@given(documents=mutated_documents([SPEC]))
def test_mutated_specs_resolve_or_fail_cleanly_long(
    tmp_path: Path, blog: Cluster, documents: list[object]
) -> None:
    check_spec(tmp_path, blog, documents[0])


def test_the_examples_load_unchanged(tmp_path: Path, blog: Cluster) -> None:
    """The mutation tests start from valid input."""
    path = tmp_path / "examples.yaml"
    path.write_text(dump(EXAMPLES), encoding="utf-8")
    assert load_file(path) is not None
    check_spec(tmp_path, blog, SPEC)
