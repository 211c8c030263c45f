"""The command line: exit codes, the stdout/stderr split, and the text and JSON contracts.

Commands run in-process through typer's `CliRunner` (stdout and stderr are captured
separately); a few run `python -m netverify` in a subprocess to check the real entry point.
Tests that name `examples/blog` run from the repository root, so paths in the output are the
ones a user sees; everything they write goes to `tmp_path`.
"""

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from netverify.cli import app as cli_app
from netverify.cli import common
from netverify.cli.app import app

REPO = Path(__file__).resolve().parents[2]
BLOG = REPO / "examples" / "blog"
ISOLATION = "specs/isolation.yaml"

EXIT_HOLDS, EXIT_VIOLATED, EXIT_INPUT_ERROR, EXIT_UNKNOWN = 0, 1, 2, 3

ALL_HOLD = """\
manifests: [blog]
invariants:
  - name: dev-never-reaches-pod2
    forbid:
      from: {namespace: {env: dev}}
      to: {pod: ns-2/pod2}
  - name: pod3-reaches-pod2-on-http
    reachable:
      from: {pod: ns-3/pod3}
      to: {pod: ns-2/pod2}
      ports: ["80/TCP"]
"""

CILIUM_POLICY = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: deny-all
  namespace: ns-2
spec:
  endpointSelector: {}
  ingress: []
"""

HEADER = re.compile(
    r"(?P<file>[^:\s]+):(?P<line>[0-9]+): (?P<level>note|warning|error): "
    r"\[(?P<kind>forbid|require|reachable)\] (?P<name>\S+): "
    r"(?P<status>holds|violated|unknown|error)"
)


def run(*args: str) -> Result:
    """Invoke the CLI in-process; a crash (any exception but an exit) fails the test."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed: {result.exception!r}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def run_process(*args: str, cwd: Path, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    """Run `python -m netverify` as a user would."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(
        [sys.executable, "-m", "netverify", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def first_line_of(path: Path, text: str, after: str | None = None) -> int:
    """The 1-based line of the first line of `path` equal to `text` (after the line `after`)."""
    lines = path.read_text().splitlines()
    start = lines.index(after) + 1 if after is not None else 0
    return lines.index(text, start) + 1


def invariant_lines(spec: Path) -> list[int]:
    """The lines of the `- name:` entries of a spec file."""
    return [
        number
        for number, line in enumerate(spec.read_text().splitlines(), start=1)
        if line.startswith("  - name:")
    ]


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory with a copy of the blog example in `blog/`."""
    shutil.copytree(BLOG, tmp_path / "blog")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def all_hold(workdir: Path) -> str:
    Path("holds.yaml").write_text(ALL_HOLD)
    return "holds.yaml"


# --- explain -----------------------------------------------------------------------------------

INGRESS_RULE_LINE = first_line_of(BLOG / "policy.yaml", "    - from:", after="  ingress:")
POLICY = "ns-2/allow-pod3-to-pod2"


def explain(source: str, *extra: str) -> Result:
    return run(
        "explain",
        "examples/blog",
        "--from",
        source,
        "--to",
        "ns-2/pod2",
        "--port",
        "80/TCP",
        *extra,
    )


def test_explain_allowed_names_the_admitting_rule(in_repo: Path) -> None:
    result = explain("ns-3/pod3")
    assert result.exit_code == EXIT_HOLDS
    lines = result.stdout.splitlines()
    assert lines[0] == "ns-3/pod3 (app=pod3) -> ns-2/pod2 (app=pod2) TCP/80: allowed"
    ingress = next(line for line in lines if line.strip().startswith("ingress:"))
    assert ingress.strip() == (
        f"ingress: allowed by {POLICY} ingress[0] from[0] "
        f"(examples/blog/policy.yaml:{INGRESS_RULE_LINE})"
    )
    assert result.stderr == ""


def test_explain_blocked_names_the_isolating_policy(in_repo: Path) -> None:
    result = explain("ns-1/pod1")
    assert result.exit_code == EXIT_VIOLATED
    lines = result.stdout.splitlines()
    assert lines[0] == "ns-1/pod1 (app=pod1) -> ns-2/pod2 (app=pod2) TCP/80: blocked"
    ingress = next(line for line in lines if line.strip().startswith("ingress:"))
    assert f"BLOCKED: isolated by {POLICY} (examples/blog/policy.yaml:" in ingress
    assert "no rule admits this flow" in ingress
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("source", "allowed", "code"), [("ns-3/pod3", True, 0), ("ns-1/pod1", False, 1)]
)
def test_explain_json(in_repo: Path, source: str, allowed: bool, code: int) -> None:
    result = explain(source, "--format", "json")
    assert result.exit_code == code
    decision = json.loads(result.stdout)
    assert decision["allowed"] is allowed
    assert decision["from"]["pod"] == source.split("/")[1]
    assert decision["to"]["pod"] == "pod2"
    assert (decision["protocol"], decision["port"]) == ("TCP", 80)
    ingress = decision["ingress"]
    assert ingress["allowed"] is allowed
    assert [p["name"] for p in ingress["isolated_by"]] == ["allow-pod3-to-pod2"]
    if allowed:
        [rule] = ingress["allowed_by"]
        assert rule["policy"]["name"] == "allow-pod3-to-pod2"
        assert rule["location"] == {"file": "examples/blog/policy.yaml", "line": INGRESS_RULE_LINE}
    else:
        assert ingress["allowed_by"] == []


def test_explain_unknown_pod_is_an_input_error(in_repo: Path) -> None:
    result = explain("ns-1/pod9")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert "--from ns-1/pod9" in result.stderr


# --- validate ----------------------------------------------------------------------------------


def test_validate_blog_prints_the_summary(in_repo: Path) -> None:
    result = run("validate", "examples/blog")
    assert result.exit_code == EXIT_HOLDS
    lines = result.stdout.splitlines()
    assert "namespaces: 3" in lines
    assert "network policies: 1" in lines
    assert "isolated for ingress: 1 (ns-2/pod2)" in lines
    assert "isolated for egress: 0" in lines
    assert result.stderr == ""


def test_validate_cuts_long_name_lists_unless_asked(workdir: Path) -> None:
    """A generated 40-pod cluster isolates more pods than a line should list."""
    assert run("generate", "--out", "c", "--namespaces", "6", "--pods", "40").exit_code == 0
    cut = run("validate", "c/namespaces.yaml", "c/pods.yaml", "c/policies.yaml")
    assert cut.exit_code == 0, cut.output
    (isolated,) = [line for line in cut.stdout.splitlines() if "isolated for ingress" in line]
    count = int(isolated.split(":")[1].split()[0])
    assert count > 10 and isolated.endswith(f", ... and {count - 10} more)")
    assert "--all-names lists every one" in cut.stdout
    whole = run("validate", "c/namespaces.yaml", "c/pods.yaml", "c/policies.yaml", "--all-names")
    (isolated,) = [line for line in whole.stdout.splitlines() if "isolated for ingress" in line]
    assert isolated.count(", ") == count - 1 and "more" not in whole.stdout


def test_validate_invalid_manifest_exits_2_with_nothing_on_stdout(workdir: Path) -> None:
    Path("bad.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: np, namespace: ns-2}\n"
        "spec:\n"
        "  podSelector: {}\n"
        "  ingress:\n"
        "    - ports:\n"
        "        - protocol: tcp\n"
        "          port: 80\n"
    )
    result = run("validate", "blog", "bad.yaml")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert "bad.yaml:8: error: " in result.stderr
    assert 'unsupported protocol "tcp"' in result.stderr
    assert "spec.ingress[0].ports[0].protocol" in result.stderr


# --- prove: text -------------------------------------------------------------------------------


def test_prove_text_headers_are_compiler_style(in_repo: Path) -> None:
    result = run("prove", ISOLATION)
    assert result.exit_code == EXIT_VIOLATED
    headers = [HEADER.fullmatch(line) for line in result.stdout.splitlines()]
    found = [match for match in headers if match is not None]
    assert HEADER.fullmatch(result.stdout.splitlines()[0]) is not None
    assert [(m["file"], int(m["line"])) for m in found] == [
        (ISOLATION, line) for line in invariant_lines(REPO / ISOLATION)
    ]
    assert [(m["level"], m["kind"], m["name"], m["status"]) for m in found] == [
        ("note", "forbid", "pod1-cannot-reach-pod2", "holds"),
        ("note", "reachable", "pod3-reaches-pod2-on-http", "holds"),
        ("note", "forbid", "only-qa-reaches-pod2", "holds"),
        ("error", "require", "qa-reaches-pod2-from-any-pod", "violated"),
    ]
    assert f"{ISOLATION}: 4 invariants: 3 holds, 1 violated, 0 unknown, 0 error" in result.stdout
    assert "ns-3/<new pod>" in result.stdout


# --- prove: JSON -------------------------------------------------------------------------------


def prove_json(*args: str) -> tuple[int, dict[str, object]]:
    result = run("prove", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_prove_json_contract(in_repo: Path) -> None:
    code, document = prove_json(ISOLATION)
    assert code == EXIT_VIOLATED
    results = document["results"]
    assert isinstance(results, list)
    assert [(r["name"], r["kind"], r["status"]) for r in results] == [
        ("pod1-cannot-reach-pod2", "forbid", "holds"),
        ("pod3-reaches-pod2-on-http", "reachable", "holds"),
        ("only-qa-reaches-pod2", "forbid", "holds"),
        ("qa-reaches-pod2-from-any-pod", "require", "violated"),
    ]
    assert [r["counterexample"] for r in results[:3]] == [None, None, None]
    counterexample = results[3]["counterexample"]
    assert counterexample["from"]["pod"] is None  # a pod that does not exist yet
    assert counterexample["from"]["namespace"] == "ns-3"
    assert counterexample["from"]["ip"] is None
    assert isinstance(counterexample["from"]["labels"], dict)
    assert counterexample["from"]["labels"].get("app") != "pod3"
    assert counterexample["to"]["pod"] == "pod2"
    assert counterexample["to"]["namespace"] == "ns-2"
    assert counterexample["to"]["labels"] == {"app": "pod2"}
    assert (counterexample["protocol"], counterexample["port"]) == ("TCP", 80)
    assert counterexample["allowed"] is False
    assert document["summary"] == {"total": 4, "holds": 3, "violated": 1, "unknown": 0, "error": 0}


def test_json_field_names_are_pinned(in_repo: Path) -> None:
    """The public JSON contract: fields may be added, never renamed or removed."""
    _, document = prove_json(ISOLATION)
    assert {"results", "summary"} <= document.keys()
    results = document["results"]
    assert isinstance(results, list)
    for result in results:
        assert {"name", "kind", "status", "counterexample"} <= result.keys()
    counterexample = results[3]["counterexample"]
    assert {"from", "to", "protocol", "port"} <= counterexample.keys()
    for side in ("from", "to"):
        assert {"namespace", "pod", "labels", "ip"} <= counterexample[side].keys()
    assert {"total", "holds", "violated", "unknown", "error"} <= document["summary"].keys()
    assert {r["status"] for r in results} <= {"holds", "violated", "unknown", "error"}


def test_output_file_gets_the_report_and_stdout_stays_empty(in_repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = run("prove", ISOLATION, "--format", "json", "--output", str(target))
    assert result.exit_code == EXIT_VIOLATED
    assert result.stdout == ""
    assert target.read_text() == run("prove", ISOLATION, "--format", "json").stdout
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_prove_json_is_deterministic_in_process(in_repo: Path) -> None:
    first = run("prove", ISOLATION, "--format", "json").stdout
    second = run("prove", ISOLATION, "--format", "json").stdout
    assert first == second


def test_prove_json_is_deterministic_across_processes() -> None:
    outputs = [
        run_process("prove", ISOLATION, "--format", "json", cwd=REPO, hash_seed=seed)
        for seed in ("1", "2")
    ]
    assert [p.returncode for p in outputs] == [EXIT_VIOLATED, EXIT_VIOLATED]
    assert outputs[0].stdout == outputs[1].stdout
    json.loads(outputs[0].stdout)


def test_several_specs_are_tagged_and_summed(in_repo: Path, tmp_path: Path) -> None:
    shutil.copytree(BLOG, tmp_path / "blog")
    (tmp_path / "holds.yaml").write_text(ALL_HOLD)
    code, document = prove_json(str(tmp_path / "holds.yaml"), ISOLATION)
    assert code == EXIT_VIOLATED  # the worst verdict wins
    assert [r["spec"] for r in document["results"]] == [str(tmp_path / "holds.yaml")] * 2 + [
        ISOLATION
    ] * 4
    assert document["summary"] == {"total": 6, "holds": 5, "violated": 1, "unknown": 0, "error": 0}


# --- prove: exit codes -------------------------------------------------------------------------


def test_exit_0_when_everything_holds(all_hold: str) -> None:
    result = run("prove", all_hold)
    assert result.exit_code == EXIT_HOLDS
    assert "2 invariants: 2 holds, 0 violated, 0 unknown, 0 error" in result.stdout


def test_exit_3_when_the_solver_gives_up(all_hold: str) -> None:
    assert run("prove", all_hold).exit_code == EXIT_HOLDS
    result = run("prove", all_hold, "--rlimit", "1", "--format", "json")
    assert result.exit_code == EXIT_UNKNOWN
    document = json.loads(result.stdout)
    assert [r["status"] for r in document["results"]] == ["unknown", "unknown"]
    assert all("resource limit" in r["reason"] for r in document["results"])
    assert document["summary"]["unknown"] == 2


def test_unknown_is_never_reported_as_holds(in_repo: Path) -> None:
    """With every query out of resources: exit 3, and no invariant claims to hold."""
    result = run("prove", ISOLATION, "--rlimit", "1")
    assert result.exit_code == EXIT_UNKNOWN
    found = [HEADER.fullmatch(line) for line in result.stdout.splitlines()]
    statuses = [match["status"] for match in found if match is not None]
    assert statuses == ["unknown"] * 4


def test_exit_2_for_a_bad_spec_with_nothing_on_stdout(workdir: Path) -> None:
    Path("bad.yaml").write_text(
        "manifests: [blog]\ninvariants:\n  - name: a\n    forbid: {to: {pod: pod22}}\n"
    )
    target = workdir / "report.json"
    result = run("prove", "bad.yaml", "--output", str(target))
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert (
        'bad.yaml:4: error: invariants[0].forbid.to.pod: no pod or workload named "pod22"'
        in result.stderr
    )
    assert not target.exists()


def test_exit_2_for_a_bad_spec_among_good_ones(all_hold: str) -> None:
    Path("bad.yaml").write_text("manifests: [blog]\ninvariants: []\n")
    result = run("prove", all_hold, "bad.yaml")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert "bad.yaml:2: error: invariants:" in result.stderr


def test_exit_2_for_a_missing_spec_file(workdir: Path) -> None:
    result = run("prove", "missing.yaml")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert "missing.yaml: cannot read" in result.stderr


def test_exit_2_for_an_unknown_option(in_repo: Path) -> None:
    result = run("prove", ISOLATION, "--no-such-option")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert "--no-such-option" in result.stderr


def test_the_real_entry_point_keeps_errors_off_stdout(workdir: Path) -> None:
    Path("bad.yaml").write_text("manifests: [blog]\nmanifest: [x]\ninvariants: []\n")
    process = run_process("prove", "bad.yaml", cwd=workdir)
    assert process.returncode == EXIT_INPUT_ERROR
    assert process.stdout == ""
    assert 'bad.yaml:2: error: unknown field "manifest"' in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize("ends_with_exit", [True, False])
def test_what_prove_built_is_kept_only_when_the_process_ends_with_exit(
    all_hold: str, monkeypatch: pytest.MonkeyPatch, ends_with_exit: bool
) -> None:
    """Under the real entry point (`os._exit` next) the cluster, encoding and solver are
    not freed one by one, those of the last spec only (memory must not grow with the
    specs); invoked in-process (as here by default) they are let go."""
    monkeypatch.setitem(common.KEEP_UNTIL_EXIT, "enabled", ends_with_exit)
    monkeypatch.setattr(common, "_kept", [])
    assert run("prove", all_hold, all_hold).exit_code == EXIT_HOLDS
    kept = [type(value).__name__ for value in common._kept]
    assert kept == (["ClusterEncoding", "Solver", "LoadedCluster"] if ends_with_exit else [])


def test_the_entry_point_pads_glibcs_heap_where_there_is_mallopt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int]] = []

    class _Glibc:
        def mallopt(self, parameter: int, value: int) -> int:
            calls.append((parameter, value))
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: _Glibc())
    cli_app._pad_the_heap()
    assert calls == [(-2, 64 << 20)]  # M_TOP_PAD, 64 MiB
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # no mallopt: nothing
    cli_app._pad_the_heap()
    assert len(calls) == 1


# --- schema ------------------------------------------------------------------------------------


def test_schema_is_the_spec_json_schema() -> None:
    result = run("schema")
    assert result.exit_code == EXIT_HOLDS
    schema = json.loads(result.stdout)
    assert {"manifests", "settings", "invariants"} <= schema["properties"].keys()
    assert set(schema["required"]) == {"manifests", "invariants"}


# --- unmodelled kinds --------------------------------------------------------------------------


@pytest.fixture
def with_cilium(all_hold: str) -> str:
    Path("blog/cilium.yaml").write_text(CILIUM_POLICY)
    return all_hold


def test_unmodelled_kind_warns_and_makes_the_verdicts_it_may_decide_unknown(
    with_cilium: str,
) -> None:
    """A CiliumNetworkPolicy in ns-2 may block what NetworkPolicy allows into pod2 there
    (and allow what it blocks): neither "holds" stands. Never a holds the cluster may not
    honour."""
    result = run("prove", with_cilium, "--format", "json")
    assert result.exit_code == EXIT_UNKNOWN
    assert "blog/cilium.yaml:1: warning: " in result.stderr
    assert "CiliumNetworkPolicy ns-2/deny-all" in result.stderr
    document = json.loads(result.stdout)
    [spec] = document["specs"]
    assert any("CiliumNetworkPolicy" in note for note in spec["assumptions"])
    forbid, reachable = document["results"]
    assert (forbid["status"], reachable["status"]) == ("unknown", "unknown")
    assert forbid["reason"].startswith(
        "CiliumNetworkPolicy ns-2/deny-all (cilium.io/v2) is not modelled by netverify: may "
        "allow flows this invariant matches"
    )
    assert reachable["reason"].startswith(
        "CiliumNetworkPolicy ns-2/deny-all (cilium.io/v2) is not modelled by netverify: may "
        "block ns-3/pod3 -> ns-2/pod2 TCP/80, which NetworkPolicy allows"
    )

    text = run("prove", with_cilium)
    assumptions = text.stdout.split("assumptions:\n", 1)[1]
    assert "CiliumNetworkPolicy" in assumptions


def test_an_unmodelled_policy_of_another_namespace_leaves_the_verdicts(all_hold: str) -> None:
    Path("blog/cilium.yaml").write_text(CILIUM_POLICY.replace("ns-2", "ns-9"))
    result = run("prove", all_hold)
    assert result.exit_code == EXIT_HOLDS, result.output
    assert "CiliumNetworkPolicy ns-9/deny-all" in result.stderr


def test_unmodelled_kind_is_an_error_with_strict(with_cilium: str) -> None:
    result = run("prove", with_cilium, "--strict")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert result.stdout == ""
    assert "blog/cilium.yaml:1: error: " in result.stderr
    assert "CiliumNetworkPolicy" in result.stderr


def test_version_prints_alone() -> None:
    from netverify import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


@pytest.mark.parametrize(
    "command", ["validate", "explain", "prove", "diff", "matrix", "lint", "generate", "schema"]
)
def test_every_command_has_help(command: str) -> None:
    """Help texts are rich markup: a stray "[...]" in one crashes `--help`."""
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
