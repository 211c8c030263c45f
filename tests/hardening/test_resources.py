"""Hostile input costs little: alias bombs, deep nesting and huge files are refused at once."""

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from netverify.loading import load_manifests, read_text
from netverify.loading.inputfiles import MAX_FILE_BYTES, MAX_FILE_BYTES_VARIABLE
from netverify.loading.specfile import read_spec
from netverify.loading.yamllimits import MAX_DEPTH
from netverify.model import InputError

REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT_BYTES = 200 * 1024 * 1024


def billion_laughs() -> str:
    """Nine levels of nine aliases each: under 1 KB, 9**9 strings once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def messages(caught: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [diagnostic.message for diagnostic in caught.value.diagnostics]


def test_alias_bomb_is_refused_in_under_a_second(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert bomb.stat().st_size < 1024
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        load_manifests([str(bomb)])
    assert time.monotonic() - started < 1
    assert messages(caught) == ["document expands to more than 1000000 nodes (YAML alias bomb?)"]


# The child reports the peak RSS of its own child: the real command line on the bomb.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run([sys.executable, "-m", "netverify", "validate", sys.argv[1]],
                      capture_output=True, text=True, timeout=60)
print(json.dumps({"seconds": time.monotonic() - started, "code": done.returncode,
                  "stdout": done.stdout, "stderr": done.stderr,
                  "max_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_alias_bomb_through_the_command_line_stays_small(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(bomb)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(done.stdout)
    assert measured["code"] == 2, measured
    assert measured["stdout"] == ""
    assert "alias bomb" in measured["stderr"]
    assert measured["max_rss_kib"] * 1024 < MEMORY_LIMIT_BYTES, measured


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        "{a: " * 5_000 + "1" + "}" * 5_000,
        "".join(f"{'  ' * depth}k:\n" for depth in range(MAX_DEPTH + 5)) + "  " * 300 + "v\n",
        "- " * 1_000 + "x\n",
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings", "block-lists"],
)
def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_manifests([str(path)])
    assert messages(caught) == [f"document nests deeper than {MAX_DEPTH} levels"]


def test_nesting_a_manifest_needs_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text("a: " + "[" * 50 + "]" * 50 + "\n")
    with pytest.raises(InputError) as caught:
        load_manifests([str(path)])
    # Refused as a non-object, not for its depth.
    assert messages(caught) == [
        'missing required field "apiVersion"',
        'missing required field "kind"',
    ]


def test_default_size_limit_is_fifty_megabytes() -> None:
    assert MAX_FILE_BYTES == 50 * 1024 * 1024


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse: 8 GiB that would take long to read
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        read_text(str(huge))
    assert time.monotonic() - started < 1
    assert messages(caught) == [
        f"{huge}: file too large ({8 * 1024**3} bytes; the limit is {MAX_FILE_BYTES} bytes, "
        f"set {MAX_FILE_BYTES_VARIABLE} to change it)"
    ]


def test_size_limit_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, "10")
    exact, over = tmp_path / "exact.yaml", tmp_path / "over.yaml"
    exact.write_text("a: 1234567")
    over.write_text("a: 12345678")
    assert read_text(str(exact)) == "a: 1234567"
    with pytest.raises(InputError) as caught:
        read_text(str(over))
    assert messages(caught) == [
        f"{over}: file too large (11 bytes; the limit is 10 bytes, "
        f"set {MAX_FILE_BYTES_VARIABLE} to change it)"
    ]


def test_size_limit_applies_to_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, "10")
    assert read_text("-", io.StringIO("x" * 10)) == "x" * 10
    with pytest.raises(InputError) as caught:
        read_text("-", io.StringIO("x" * 11))
    assert messages(caught) == [
        f"<stdin>: input too large (more than 10 characters; set {MAX_FILE_BYTES_VARIABLE} "
        "to change the limit)"
    ]


def test_size_limit_applies_to_spec_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("manifests: [x]\ninvariants: [{name: a, forbid: {}}]\n")
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, "16")
    with pytest.raises(InputError) as caught:
        read_spec(str(spec))
    assert "file too large" in messages(caught)[0]


@pytest.mark.parametrize("setting", ["lots", "0", "-5", "1e6"])
def test_a_bad_size_limit_setting_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n")
    monkeypatch.setenv(MAX_FILE_BYTES_VARIABLE, setting)
    with pytest.raises(InputError) as caught:
        read_text(str(path))
    assert messages(caught) == [
        f"{MAX_FILE_BYTES_VARIABLE} must be a positive number of bytes, got {setting!r}"
    ]


def test_many_small_documents_load_quickly(tmp_path: Path) -> None:
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-{index}}}\n"
    text = "---\n".join(namespace.format(index=index) for index in range(2_000))
    path = tmp_path / "many.yaml"
    path.write_text(textwrap.dedent(text))
    started = time.monotonic()
    loaded = load_manifests([str(path)])
    assert len(loaded.cluster.namespaces) == 2_000
    assert time.monotonic() - started < 10
    assert os.path.getsize(path) < MAX_FILE_BYTES
