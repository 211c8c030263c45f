"""Loader behaviour added while hardening: empty input, directories, links, encodings."""

import os
from pathlib import Path

import pytest

from netverify.loading import collect_files, load_manifests
from netverify.model import InputError

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"
NO_OBJECTS = "no Kubernetes objects in the manifests ({}): nothing to verify"
AS_ROOT = pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def messages(caught: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [diagnostic.message for diagnostic in caught.value.diagnostics]


def test_a_directory_without_manifest_files_is_an_error(workdir: Path) -> None:
    (workdir / "policies").mkdir()
    (workdir / "policies" / "notes.txt").write_text("later\n")
    with pytest.raises(InputError) as caught:
        load_manifests(["policies"])
    assert messages(caught) == [
        "policies: no manifest files (.yaml, .yml, .json) in this directory"
    ]


@pytest.mark.parametrize(
    "text",
    ["", "# nothing\n---\n---\n...\n", "null\n", "apiVersion: v1\nkind: List\nitems: []\n"],
    ids=["empty", "comments", "null", "empty-list"],
)
def test_no_objects_is_an_error_unless_allowed(workdir: Path, text: str) -> None:
    (workdir / "a.yaml").write_text(text)
    assert load_manifests(["a.yaml"], require_objects=False).cluster.namespaces == ()
    with pytest.raises(InputError) as caught:
        load_manifests(["a.yaml"])
    assert messages(caught) == [NO_OBJECTS.format("a.yaml")]


def test_objects_of_other_kinds_count_as_objects(workdir: Path) -> None:
    (workdir / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    loaded = load_manifests(["a.yaml"], require_objects=True)
    assert loaded.cluster.pods == ()


def test_no_objects_is_not_reported_on_top_of_other_errors(workdir: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_manifests(["missing.yaml"], require_objects=True)
    assert messages(caught) == ["missing.yaml: no such file or directory"]


def test_symbolic_links_to_directories_are_followed(workdir: Path) -> None:
    (workdir / "shared").mkdir()
    (workdir / "shared" / "ns.yaml").write_text(NAMESPACE)
    (workdir / "app").mkdir()
    (workdir / "app" / "shared").symlink_to("../shared")
    assert collect_files(["app"]) == ["app/shared/ns.yaml"]
    assert [ns.name for ns in load_manifests(["app"]).cluster.namespaces] == ["prod"]


def test_a_link_back_to_an_ancestor_is_a_loop(workdir: Path) -> None:
    (workdir / "app" / "sub").mkdir(parents=True)
    (workdir / "app" / "ns.yaml").write_text(NAMESPACE)
    (workdir / "app" / "sub" / "up").symlink_to("..")
    with pytest.raises(InputError) as caught:
        collect_files(["app/"])
    assert messages(caught) == ["app/sub/up: symbolic link loop (leads back to app)"]


def test_links_named_directly(workdir: Path) -> None:
    (workdir / "a.yaml").symlink_to("b.yaml")
    (workdir / "b.yaml").symlink_to("a.yaml")
    (workdir / "c.yaml").symlink_to("gone.yaml")
    with pytest.raises(InputError) as caught:
        collect_files(["a.yaml", "c.yaml"])
    assert messages(caught) == [
        "a.yaml: symbolic link loop (too many levels of symbolic links)",
        "c.yaml: broken symbolic link to gone.yaml",
    ]


def test_a_fifo_is_not_a_manifest(workdir: Path) -> None:
    os.mkfifo(workdir / "pipe.yaml")
    with pytest.raises(InputError) as caught:
        collect_files(["pipe.yaml"])
    assert messages(caught) == ["pipe.yaml: not a regular file or directory"]


@AS_ROOT
def test_an_unreadable_directory_is_an_error(workdir: Path) -> None:
    (workdir / "app" / "locked").mkdir(parents=True)
    (workdir / "app" / "ns.yaml").write_text(NAMESPACE)
    (workdir / "app" / "locked").chmod(0)
    try:
        with pytest.raises(InputError) as caught:
            collect_files(["app"])
    finally:
        (workdir / "app" / "locked").chmod(0o755)
    assert messages(caught) == ["app/locked: cannot read directory: Permission denied"]


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32-le", "UTF-32"),
        ("utf-32-be", "UTF-32"),
    ],
)
def test_utf16_and_utf32_files_are_named_as_such(workdir: Path, encoding: str, name: str) -> None:
    (workdir / "a.yaml").write_bytes(("\ufeff" + NAMESPACE).encode(encoding))
    with pytest.raises(InputError) as caught:
        load_manifests(["a.yaml"])
    assert messages(caught) == [f"a.yaml: {name} text, expected UTF-8 (re-encode it as UTF-8)"]


def test_syntax_errors_in_json_files_say_json(workdir: Path) -> None:
    (workdir / "a.json").write_text('{"kind": "Namespace",\n')
    with pytest.raises(InputError) as caught:
        load_manifests(["a.json"])
    assert messages(caught)[0].startswith("invalid JSON: ")


@pytest.mark.parametrize("values", ["web", "[1]", "{a: b}"])
def test_bad_values_of_an_in_requirement_are_reported_once(workdir: Path, values: str) -> None:
    (workdir / "np.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: np, namespace: prod}\nspec:\n  podSelector:\n    matchExpressions:\n"
        f"      - {{key: app, operator: In, values: {values}}}\n"
    )
    with pytest.raises(InputError) as caught:
        load_manifests(["np.yaml"])
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message.startswith("expected a")


@pytest.mark.parametrize(("text", "line"), [("\x01", 1), ("a: 1\nb: \x07\n", 2), ("a: \ufffe", 1)])
def test_control_characters_are_an_input_error_at_their_line(
    workdir: Path, text: str, line: int
) -> None:
    (workdir / "a.yaml").write_text(text)
    with pytest.raises(InputError) as caught:
        load_manifests(["a.yaml"])
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.span is not None and diagnostic.span.line == line
    assert diagnostic.message.startswith("invalid YAML: character U+")
