"""Reading files and YAML documents with positions, and refusing hostile input."""

import ast
import io
from pathlib import Path

import pytest

from netverify.loading import YamlDocument, collect_files, parse_documents, read_text
from netverify.model import InputError, SourceSpan

LOADING = Path(__file__).parents[2] / "netverify" / "loading"


def only_message(caught: pytest.ExceptionInfo[InputError]) -> str:
    [diagnostic] = caught.value.diagnostics
    return diagnostic.message


def test_positions_of_keys_items_and_fallback_to_ancestors() -> None:
    text = "# comment\n---\nspec:\n  ingress:\n  - from:\n    - podSelector: {}\n\n  - ports: []\n"
    [document] = parse_documents(text, "f.yaml")
    assert document.data == {"spec": {"ingress": [{"from": [{"podSelector": {}}]}, {"ports": []}]}}
    assert (document.file, document.index) == ("f.yaml", 0)
    assert document.line_of(()) == 3
    assert document.line_of(("spec",)) == 3
    assert document.line_of(("spec", "ingress")) == 4
    assert document.line_of(("spec", "ingress", 0)) == 5
    assert document.line_of(("spec", "ingress", 0, "from", 0, "podSelector")) == 6
    assert document.line_of(("spec", "ingress", 1)) == 8
    assert document.line_of(("spec", "ingress", 1, "nope", 3)) == 8
    assert document.line_of(("missing",)) == 3


def test_mapping_entry_line_is_the_key_line() -> None:
    [document] = parse_documents("a:\n  - 1\nb:\n\n  c\n", "f.yaml")
    assert document.line_of(("a",)) == 1
    assert document.line_of(("a", 0)) == 2
    assert document.line_of(("b",)) == 3


def test_line_of_without_positions_is_line_one() -> None:
    assert YamlDocument(data={}, file="x", index=0, positions={}).line_of(("a",)) == 1


def test_multiple_documents_skip_empty_ones_and_keep_indexes() -> None:
    text = "a: 1\n---\n---\n# only a comment\n---\nnull\n---\n- 2\n"
    documents = parse_documents(text, "f.yaml")
    assert [(d.index, d.data) for d in documents] == [(0, {"a": 1}), (4, [2])]
    assert documents[1].line_of(()) == 8


def test_scalars_resolve_as_the_safe_loader_does() -> None:
    text = (
        "s: text\nq: '80'\ni: 80\nh: 0x1F\nf: 1.5\nb: true\ny: yes\nn: ~\ne:\n"
        "t: 2024-01-01\nbin: !!binary aGVsbG8=\ntag: !Custom value\nforced: !!str 10\n80: key\n"
    )
    [document] = parse_documents(text, "f.yaml")
    assert document.data == {
        "s": "text",
        "q": "80",
        "i": 80,
        "h": 31,
        "f": 1.5,
        "b": True,
        "y": True,
        "n": None,
        "e": None,
        "t": "2024-01-01",
        "bin": "aGVsbG8=",
        "tag": "value",
        "forced": "10",
        "80": "key",
    }


def test_merge_keys_explicit_keys_win() -> None:
    text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n"
    [document] = parse_documents(text, "f.yaml")
    assert document.data == {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}}
    assert document.line_of(("use", "y")) == 4


def test_json_indented_with_tabs() -> None:
    [document] = parse_documents(
        '{\n\t"kind": "Pod",\n\t"spec": {\n\t\t"a": [1]\n\t}\n}\n', "p.json"
    )
    assert document.data == {"kind": "Pod", "spec": {"a": [1]}}
    assert document.line_of(("spec", "a")) == 4


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        parse_documents("spec:\n  ingress: []\n  ingress: [{}]\n", "f.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == 'duplicate key "ingress" (first written at line 2)'
    assert diagnostic.span == SourceSpan(file="f.yaml", line=3)


def test_syntax_error_names_file_line_and_problem() -> None:
    with pytest.raises(InputError) as caught:
        parse_documents("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.span == SourceSpan(file="bad.yaml", line=3)
    assert diagnostic.message == (
        "invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence started at line 2)"
    )


def test_nesting_limit_is_exactly_two_hundred() -> None:
    assert parse_documents("[" * 200 + "]" * 200, "f.yaml")[0].data is not None
    with pytest.raises(InputError) as caught:
        parse_documents("[" * 201 + "]" * 201, "f.yaml")
    assert only_message(caught) == "document nests deeper than 200 levels"


def test_very_deep_nesting_fails_cleanly() -> None:
    with pytest.raises(InputError) as caught:
        parse_documents("a:\n" + "".join(" " * i + "- \n" for i in range(1, 2000)), "f.yaml")
    assert only_message(caught) == "document nests deeper than 200 levels"


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        parse_documents("a: &x\n  b: *x\n", "f.yaml")
    assert only_message(caught) == "document nests deeper than 200 levels"


def test_large_document_with_aliases_under_the_limit_is_accepted() -> None:
    text = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 900) + "]\n"
    [document] = parse_documents(text, "f.yaml")
    assert isinstance(document.data, dict) and len(document.data["b"]) == 900


def test_collect_files_keeps_files_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("")
    given = [str(tmp_path / "x.txt"), "-"]
    assert collect_files(given) == given


def test_collect_files_reports_every_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        collect_files([str(tmp_path / "a"), str(tmp_path), str(tmp_path / "b.yaml")])
    assert [d.message for d in caught.value.diagnostics] == [
        f"{tmp_path / 'a'}: no such file or directory",
        f"{tmp_path / 'b.yaml'}: no such file or directory",
    ]


def test_read_text_from_stdin() -> None:
    assert read_text("-", io.StringIO("kind: Pod\n")) == "kind: Pod\n"


def test_read_text_strips_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfkind: Pod\n")
    assert read_text(str(path)) == "kind: Pod\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"kind: Pod\n\xff\xfe\n",
            "{path}:2: error: not UTF-8 text (byte 0xff; re-encode the file as UTF-8)",
        ),
        (
            b"kind: Pod\x00\x01\x02",
            "error: {path}: binary file (contains a NUL byte), expected YAML or JSON",
        ),
    ],
)
def test_read_text_refuses_binary(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_text(str(path))
    assert str(caught.value) == problem.format(path=path)


def test_read_text_refuses_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_text(str(tmp_path))
    assert only_message(caught) == f"{tmp_path}: is a directory, expected a file"
    with pytest.raises(InputError) as caught:
        read_text(str(tmp_path / "gone.yaml"))
    assert (
        only_message(caught) == f"{tmp_path / 'gone.yaml'}: cannot read: No such file or directory"
    )


def test_read_text_refuses_nul_on_stdin() -> None:
    with pytest.raises(InputError) as caught:
        read_text("-", io.StringIO("a\0b"))
    assert only_message(caught) == (
        "<stdin>: binary input (contains a NUL character), expected YAML or JSON"
    )


def test_loading_imports_no_solver_no_cli_and_no_higher_layer() -> None:
    forbidden = {"z3", "typer"}
    higher = {"semantics", "encoding", "invariants", "engine", "report", "cli"}
    for source in LOADING.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                assert parts[0] not in forbidden, f"{source.name} imports {name}"
                if parts[0] == "netverify" and len(parts) > 1:
                    assert parts[1] not in higher, f"{source.name} imports {name}"


def test_nesting_through_aliases_is_bounded() -> None:
    text = "a: &a " + "[" * 150 + "]" * 150 + "\nb: " + "[" * 100 + "*a" + "]" * 100 + "\n"
    with pytest.raises(InputError) as caught:
        parse_documents(text, "f.yaml")
    assert only_message(caught) == "document nests deeper than 200 levels"


def test_aliased_nodes_are_placed_where_the_alias_is_written() -> None:
    text = "base: &b\n  x: 1\n\nuse: *b\nlist:\n- *b\n"
    [document] = parse_documents(text, "f.yaml")
    assert document.data == {"base": {"x": 1}, "use": {"x": 1}, "list": [{"x": 1}]}
    assert document.line_of(("base", "x")) == 2
    assert document.line_of(("use", "x")) == 4
    assert document.line_of(("list", 0, "x")) == 6
