"""Benchmarks of netverify on generated clusters: `python -m benchmarks [--tier NAME]`.

Per tier, a cluster is generated (with and without the planted leak) and each phase is timed
`--repeat` times; medians are reported. `diff` compares the cluster with a revision that
changes 20 of its policies; `matrix` and `lint` run once per tier. The report ends with the
scale issue's targets, met or missed. See benchmarks/README.md for what each number means.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netverify.encoding.cluster import ClusterEncoding
from netverify.engine import SolverLimits, prove
from netverify.engine.solver import make_solver
from netverify.generate import (
    ISOLATION,
    MANIFEST_FILES,
    GeneratorOptions,
    WrittenCluster,
    write_cluster,
)
from netverify.generate.writer import dump_documents
from netverify.loading import load_manifests
from netverify.loading.spec import read_spec, resolve_spec
from netverify.model import LoadedCluster, LoadedSpec, Spec

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ISOLATION_SPEC = "spec-isolation.yaml"
NCA_FORBID_FILE = "nca-forbid-dev-to-prod.yaml"
POLICIES_FILE = "policies.yaml"
PROCESS_LIMIT = 86_400.0
"""Seconds a measured netverify process may take before the run fails."""


@dataclass(frozen=True)
class Tier:
    name: str
    pods: int
    policies: int
    namespaces: int
    extras: bool = True
    """Also time diff, matrix and lint (the tiers that only serve a prove target do not)."""
    max_repeat: int | None = None
    """Runs per phase at most, whatever `--repeat` says (XL: one run takes minutes)."""
    pure_python_floor: bool = True
    """Also time PyYAML's pure-Python parse (XL: minutes, and no target uses it)."""


TIERS = {
    "ci": Tier("ci", 1_000, 200, 20),
    "large": Tier("large", 5_000, 2_000, 100),
    "k10": Tier("k10", 10_000, 2_000, 200, extras=False),
    "p600": Tier("p600", 1_000, 600, 20, extras=False),
    "xl": Tier("xl", 50_000, 10_000, 1_000, extras=False, max_repeat=1, pure_python_floor=False),
}
DEFAULT_TIERS = ("ci", "large")
"""The others take long (xl: minutes per phase; p600: NCA alone ~130 s or more per run)."""

ISOLATION_PHASE = "prove isolation (process)"
DIFF_PHASE = "diff, 20 policies changed (process)"
MATRIX_PHASE = "matrix by namespace (process, 1 run)"
LINT_PHASE = "lint (process, 1 run)"


@dataclass
class Phase:
    """One measured phase: every run's seconds, the median, and peak RSS when measured."""

    name: str
    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


@dataclass
class TierResult:
    tier: str
    pods: int
    policies: int
    namespaces: int
    leak: bool
    manifest_mb: float
    phases: list[Phase] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)
    expected: dict[str, str] = field(default_factory=dict)
    nca_verdict: str | None = None

    def phase(self, name: str) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        created = Phase(name)
        self.phases.append(created)
        return created

    def median(self, name: str) -> float | None:
        for phase in self.phases:
            if phase.name == name:
                return phase.median
        return None


def _timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def _manifests(folder: Path) -> list[Path]:
    return [folder / name for name in MANIFEST_FILES]


def parse_floor(folder: Path, loader: type[Any]) -> int:
    """Parse every manifest with PyYAML alone: the cost of merely reading the YAML."""
    count = 0
    for path in _manifests(folder):
        with open(path, encoding="utf-8") as stream:
            count += sum(1 for _ in yaml.load_all(stream, Loader=loader))
    return count


def _write_isolation_spec(written: WrittenCluster) -> Path:
    """A spec with only the dev -> prod isolation invariant."""
    spec = yaml.safe_load(written.spec.read_text(encoding="utf-8"))
    spec["invariants"] = [i for i in spec["invariants"] if i["name"] == ISOLATION]
    path = written.folder / ISOLATION_SPEC
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _measure_process(command: Sequence[str], cwd: Path, limit: float) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of a command, through a small wrapper
    process whose RUSAGE_CHILDREN covers only that command."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL).returncode\n"
        "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN)"
        ".ru_maxrss) + ' ' + str(code))\n"
    )
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as handle:
        report = handle.name
    try:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", wrapper, report, *command], cwd=cwd, check=False, timeout=limit
        )
        wall = time.perf_counter() - start
        rss_kb, code = Path(report).read_text(encoding="utf-8").split()
    finally:
        os.unlink(report)
    return wall, int(rss_kb) / 1024, int(code)


def _netverify(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "netverify", *arguments]


def _process_phase(
    result: TierResult, name: str, command: Sequence[str], cwd: Path, runs: int
) -> Phase:
    """Run a command `runs` times as phase `name`: wall times, the highest peak RSS and the
    last run's exit code as the note."""
    phase = result.phase(name)
    for _ in range(runs):
        wall, rss, code = _measure_process(command, cwd, PROCESS_LIMIT)
        phase.seconds.append(wall)
        phase.peak_rss_mb = max(phase.peak_rss_mb or 0.0, rss)
        phase.note = f"exit {code}"
    return phase


def _report_phase(
    result: TierResult,
    name: str,
    command: Sequence[str],
    cwd: Path,
    runs: int,
    report: Path,
    summarise: Callable[[dict[str, Any]], str],
) -> None:
    """`_process_phase` for a command that writes a JSON report to `report` (`--output` is
    appended), whose summary goes into the note. `report` must lie outside every manifest
    folder: a folder's `.json` files are manifests."""
    report.unlink(missing_ok=True)
    phase = _process_phase(result, name, [*command, "--output", str(report)], cwd, runs)
    if report.exists():
        phase.note += "; " + summarise(json.loads(report.read_text(encoding="utf-8")))
    else:
        phase.note += "; no report written"
    _log(f"{result.tier}: {name}: {phase.median:.2f} s, {phase.note}")


# -- network-config-analyzer -----------------------------------------------------------------


def find_nca() -> list[str] | None:
    """How to run network-config-analyzer: `$NCA` (a command), `nca` on PATH, or the module
    in this interpreter; None when it is not installed."""
    if command := os.environ.get("NCA"):
        return command.split()
    if found := shutil.which("nca"):
        return [found]
    try:
        import nca  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "nca"]


def nca_dev_to_prod_isolation(
    nca: list[str], folder: Path, limit: float
) -> tuple[float | None, str]:
    """Ask network-config-analyzer whether any pod of an env=dev namespace can reach any pod of
    an env=prod namespace, on any port: its `--forbids` query, with one forbidding policy per
    prod namespace (select every pod, admit env=dev namespaces), against the cluster's
    policies, pods, workloads and namespaces. NCA reasons over the existing pods (the
    counterpart of netverify's `pods: existing`). Returns (seconds or None when it did not
    finish in `limit`, verdict)."""
    namespaces = yaml.safe_load_all((folder / "namespaces.yaml").read_text(encoding="utf-8"))
    forbidding = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "forbid-dev", "namespace": ns["metadata"]["name"]},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "dev"}}}]}],
            },
        }
        for ns in namespaces
        if ns["metadata"].get("labels", {}).get("env") == "prod"
    ]
    forbid_file = folder / NCA_FORBID_FILE
    forbid_file.write_text(yaml.safe_dump_all(forbidding), encoding="utf-8")
    command = [
        *nca,
        "--forbids",
        str(forbid_file),
        "--base_np_list",
        "policies.yaml",
        "--pod_list",
        "pods.yaml",
        "--pod_list",
        "workloads.yaml",
        "--ns_list",
        "namespaces.yaml",
    ]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {limit:g} s"
    seconds = time.perf_counter() - start
    output = done.stdout + done.stderr
    if "does not forbid" in output:
        return seconds, "violated"
    if "forbids connections" in output:
        return seconds, "holds"
    return seconds, f"no answer (exit {done.returncode})"


# -- the measurements --------------------------------------------------------------------------


def _load_spec(spec: Path, loaded: LoadedCluster) -> LoadedSpec:
    return resolve_spec(read_spec(str(spec)), loaded.cluster)


def encode(loaded: LoadedCluster, spec: Spec) -> ClusterEncoding:
    """The shared encoding, with the formulas every query uses built (they are cached)."""
    encoding = ClusterEncoding(loaded.cluster, spec.settings, spec.invariants)
    _ = encoding.domain, encoding.allowed
    return encoding


def _in_process(result: TierResult, written: WrittenCluster, repeat: int) -> None:
    """Load, encode and solve in this process; per-invariant solving mirrors `prove`."""
    from netverify.engine.prove import _InvariantProver

    paths = [str(p) for p in _manifests(written.folder)]
    limits = SolverLimits()
    for _ in range(repeat):
        seconds, loaded = _timed(lambda: load_manifests(paths))
        assert isinstance(loaded, LoadedCluster)
        result.phase("load").seconds.append(seconds)
        loaded_spec = _load_spec(written.spec, loaded)
        spec = loaded_spec.spec

        seconds, encoding = _timed(lambda: encode(loaded, spec))  # noqa: B023
        assert isinstance(encoding, ClusterEncoding)
        result.phase("encode").seconds.append(seconds)
        solver = make_solver(limits)
        solver.add(encoding.domain)
        total = 0.0
        for invariant in spec.invariants:
            prover = _InvariantProver(encoding, solver, invariant, limits)
            seconds, outcome = _timed(prover.prove)
            total += seconds
            result.phase(f"solve: {invariant.name}").seconds.append(seconds)
            result.verdicts[invariant.name] = str(getattr(outcome, "status", "?"))
        result.phase("solve+witness (all invariants)").seconds.append(total)


def _cluster_folder(tier: Tier, leak: bool, work: Path) -> Path:
    return work / f"{tier.name}{'-leak' if leak else ''}"


def measure_tier(
    tier: Tier,
    leak: bool,
    work: Path,
    repeat: int,
    nca: list[str] | None,
    nca_limit: float,
    nca_repeat: int,
) -> TierResult:
    folder = _cluster_folder(tier, leak, work)
    options = GeneratorOptions(
        namespaces=tier.namespaces, pods=tier.pods, policies=tier.policies, seed=0, leak=leak
    )
    generate_seconds, written = _timed(lambda: write_cluster(options, folder))
    assert isinstance(written, WrittenCluster)
    size = sum(p.stat().st_size for p in _manifests(folder)) / 1e6
    result = TierResult(tier.name, tier.pods, tier.policies, tier.namespaces, leak, round(size, 2))
    result.phase("generate").seconds.append(generate_seconds)
    result.expected = {i.name: i.expected for i in written.invariants}
    isolation_spec = _write_isolation_spec(written)
    _log(f"{folder.name}: generated {size:.1f} MB in {generate_seconds:.1f} s")

    c_loader = getattr(yaml, "CSafeLoader", None)
    for _ in range(repeat):
        if c_loader is not None:
            seconds, _count = _timed(lambda: parse_floor(folder, c_loader))
            result.phase("parse floor (CSafeLoader)").seconds.append(seconds)
        if tier.pure_python_floor:
            seconds, _count = _timed(lambda: parse_floor(folder, yaml.SafeLoader))
            result.phase("parse floor (SafeLoader)").seconds.append(seconds)
    _log(f"{folder.name}: parse floor done")

    if not leak:
        _in_process(result, written, repeat)
        _log(f"{folder.name}: in-process phases done")
    specs = [(ISOLATION_PHASE, isolation_spec)]
    if not leak:
        specs.insert(0, ("prove all invariants (process)", written.spec))
    for name, spec in specs:
        phase = _process_phase(result, name, _netverify("prove", spec.name), folder, repeat)
        _log(f"{folder.name}: {name}: {phase.median:.2f} s")
    if leak:
        _whole_prove_check_isolation(result, written, isolation_spec)
    if nca is not None:
        phase = result.phase("nca dev->prod isolation (process)")
        for _ in range(nca_repeat):
            seconds, verdict = nca_dev_to_prod_isolation(nca, folder, nca_limit)
            result.nca_verdict = verdict
            phase.note = verdict
            if seconds is None:
                break
            phase.seconds.append(seconds)
        _log(f"{folder.name}: nca: {phase.median} s, {result.nca_verdict}")
    return result


def _whole_prove_check_isolation(
    result: TierResult, written: WrittenCluster, isolation_spec: Path
) -> None:
    loaded = load_manifests([str(p) for p in _manifests(written.folder)])
    report = prove(loaded, _load_spec(isolation_spec, loaded), SolverLimits())
    result.verdicts = {r.name: r.status.value for r in report.results}
    result.expected = {ISOLATION: result.expected[ISOLATION]}


# -- diff, matrix, lint ------------------------------------------------------------------------

Policy = dict[str, Any]
DIFF_OTHER_CHANGES = 19
"""Policies changed besides the planted leak: a PR of 20 policies."""
ADDED_PORTS = (8443, 9443)
WIDENED_BY = 10


def _read_policies(folder: Path) -> list[Policy]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(folder / POLICIES_FILE, encoding="utf-8") as stream:
        return [document for document in yaml.load_all(stream, Loader=loader) if document]


def _policy_name(policy: Policy) -> str:
    return f"{policy['metadata']['namespace']}/{policy['metadata']['name']}"


def planted_leak(base: list[Policy], leak: list[Policy]) -> int:
    """The index of the one policy that the generator's `leak` changes, after checking that
    the change is exactly one added ingress rule; ValueError otherwise."""
    changed = [i for i, (a, b) in enumerate(zip(base, leak, strict=True)) if a != b]
    if len(changed) == 1:
        before, after = base[changed[0]], leak[changed[0]]
        rules = after["spec"].get("ingress", [])
        for index in range(len(rules)):
            without = {**after["spec"], "ingress": rules[:index] + rules[index + 1 :]}
            if {**after, "spec": without} == before:
                return changed[0]
    raise ValueError(f"the leak cluster is not BASE plus one ingress rule: {len(changed)} changed")


def _rules(policy: Policy) -> list[tuple[str, Policy]]:
    """(peer key, rule) for every ingress and egress rule."""
    spec = policy["spec"]
    return [("from", r) for r in spec.get("ingress", [])] + [
        ("to", r) for r in spec.get("egress", [])
    ]


def _widen_port(policy: Policy, _values: dict[str, list[str]]) -> str | None:
    """A numeric port becomes a range (`endPort` above `port`, as the API server requires)."""
    for _, rule in _rules(policy):
        for port in rule.get("ports", []):
            number = port.get("port")
            if isinstance(number, int) and "endPort" not in port and number + WIDENED_BY < 65536:
                port["endPort"] = number + WIDENED_BY
                return f"port {number} widened to {number}-{port['endPort']}"
    return None


def _add_port(policy: Policy, _values: dict[str, list[str]]) -> str | None:
    """A rule that lists ports admits one more."""
    for _, rule in _rules(policy):
        ports = rule.get("ports")
        if ports:
            taken = {port.get("port") for port in ports}
            number = next((n for n in ADDED_PORTS if n not in taken), None)
            if number is not None:
                ports.append({"protocol": "TCP", "port": number})
                return f"port TCP/{number} added"
    return None


def _change_label(policy: Policy, values: dict[str, list[str]]) -> str | None:
    """A peer's matchLabels value becomes another value that policies use for the key."""
    for peers, rule in _rules(policy):
        for peer in rule.get(peers, []):
            labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
            for key in sorted(labels):
                choices = values.get(key, [])
                if len(choices) > 1:
                    old = labels[key]
                    labels[key] = choices[(choices.index(old) + 1) % len(choices)]
                    return f"peer {key}={old} changed to {labels[key]}"
    return None


CHANGES = (_widen_port, _add_port, _change_label)


def _peer_label_values(policies: list[Policy]) -> dict[str, list[str]]:
    """Every value that peers' podSelector matchLabels give each key, sorted."""
    values: dict[str, set[str]] = {}
    for policy in policies:
        for peers, rule in _rules(policy):
            for peer in rule.get(peers, []):
                labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
                for key, value in labels.items():
                    values.setdefault(key, set()).add(value)
    return {key: sorted(found) for key, found in values.items()}


def write_diff_head(base: Path, leak: Path, head: Path) -> list[str]:
    """Write into `head` the manifests of `base` with the leak cluster's policies and
    `DIFF_OTHER_CHANGES` more policies changed (cycling through `CHANGES`, spread evenly over
    the file, the same on every run). Returns one line per changed policy."""
    policies = _read_policies(leak)
    leaked = planted_leak(_read_policies(base), policies)
    changed = {leaked: "planted leak: one ingress rule admitting env=dev"}
    values = _peer_label_values(policies)
    stride = max(1, len(policies) // DIFF_OTHER_CHANGES)
    for number in range(DIFF_OTHER_CHANGES):
        change = CHANGES[number % len(CHANGES)]
        for offset in range(len(policies)):
            index = (number * stride + offset) % len(policies)
            if index not in changed and (done := change(policies[index], values)):
                changed[index] = done
                break
    head.mkdir(parents=True, exist_ok=True)
    for name in MANIFEST_FILES:
        if name != POLICIES_FILE:
            shutil.copyfile(base / name, head / name)
    (head / POLICIES_FILE).write_text(dump_documents(policies), encoding="utf-8")
    return [f"{_policy_name(policies[i])}: {changed[i]}" for i in sorted(changed)]


def _summarise_diff(report: dict[str, Any]) -> str:
    summary = report["summary"]
    reason = summary["incomplete_reason"]
    complete = "complete" if summary["complete"] else f"incomplete ({reason})"
    error = f", error: {summary['error']}" if summary["error"] else ""
    return (
        f"{len(report['findings'])} findings ({summary['added']} added, "
        f"{summary['removed']} removed), {complete}{error}"
    )


def measure_diff(result: TierResult, tier: Tier, work: Path, repeat: int) -> None:
    """`netverify diff BASE HEAD` where HEAD changes 20 policies (`write_diff_head`); BASE and
    HEAD are folders holding only the four manifest files."""
    folder = work / f"{tier.name}-diff"
    base = folder / "base"
    base.mkdir(parents=True, exist_ok=True)
    for name in MANIFEST_FILES:
        shutil.copyfile(_cluster_folder(tier, False, work) / name, base / name)
    changes = write_diff_head(base, _cluster_folder(tier, True, work), folder / "head")
    command = _netverify("diff", "base", "head", "--fail-on", "added", "--format", "json")
    _report_phase(
        result,
        DIFF_PHASE,
        command,
        folder,
        repeat,
        work / f"{tier.name}-diff.json",
        lambda report: f"{len(changes)} policies changed; {_summarise_diff(report)}",
    )


def measure_matrix(result: TierResult, tier: Tier, work: Path) -> None:
    """`netverify matrix --group-by namespace`, once (it is slow on big tiers)."""
    command = _netverify("matrix", *MANIFEST_FILES, "--group-by", "namespace", "--format", "json")
    _report_phase(
        result,
        MATRIX_PHASE,
        command,
        _cluster_folder(tier, False, work),
        1,
        work / f"{tier.name}-matrix.json",
        lambda report: (
            f"{report['summary']['entities']} namespaces, {report['summary']['allowed']} of "
            f"{report['summary']['cells']} cells allowed"
        ),
    )


def measure_lint(result: TierResult, tier: Tier, work: Path) -> None:
    """`netverify lint`, once (~45 s on Large)."""
    _report_phase(
        result,
        LINT_PHASE,
        _netverify("lint", *MANIFEST_FILES, "--format", "json"),
        _cluster_folder(tier, False, work),
        1,
        work / f"{tier.name}-lint.json",
        lambda report: ", ".join(f"{key} {value}" for key, value in report["summary"].items()),
    )


# -- reports -----------------------------------------------------------------------------------

TABLE_PHASES = (
    "generate",
    "parse floor (CSafeLoader)",
    "parse floor (SafeLoader)",
    "load",
    "encode",
    "solve+witness (all invariants)",
    "prove all invariants (process)",
    ISOLATION_PHASE,
    "nca dev->prod isolation (process)",
    DIFF_PHASE,
    MATRIX_PHASE,
    LINT_PHASE,
)


def _floor(result: TierResult) -> float | None:
    return result.median("parse floor (CSafeLoader)") or result.median("parse floor (SafeLoader)")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(results: list[TierResult], repeat: int) -> str:
    lines = [
        "# netverify benchmarks (latest run)",
        "",
        f"Medians of {repeat} run(s) on {platform.machine()} / Python "
        f"{platform.python_version()} / {os.cpu_count()} CPUs. See README.md for what each "
        "phase means. *ratio to parse floor*: the phase's median over the CSafeLoader parse of "
        "the same files. *nca ratio*: netverify's isolation-only process time over "
        "network-config-analyzer's time for the same question (below 1: netverify is faster)."
        + "".join(
            f" The {tier} tier ran {limit} time(s) per phase (`max_repeat`)."
            for tier, limit in sorted(
                {(r.tier, TIERS[r.tier].max_repeat) for r in results if TIERS[r.tier].max_repeat}
            )
        ),
        "",
        "| tier | phase | median s | peak RSS MB | ratio to parse floor | nca ratio | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        label = f"{result.tier}{' + leak' if result.leak else ''} ({result.pods} pods, "
        label += f"{result.policies} policies, {result.namespaces} ns, {result.manifest_mb} MB)"
        floor = _floor(result)
        nca = result.median("nca dev->prod isolation (process)")
        ordered = [p for name in TABLE_PHASES for p in result.phases if p.name == name]
        ordered += [p for p in result.phases if p.name not in TABLE_PHASES]
        for phase in ordered:
            ratio = phase.median / floor if floor and phase.median is not None else None
            nca_ratio = None
            if phase.name == ISOLATION_PHASE and nca and phase.median:
                nca_ratio = phase.median / nca
            rss = _fmt(phase.peak_rss_mb, 0) if phase.peak_rss_mb else ""
            note = phase.note
            if phase.name == "nca dev->prod isolation (process)" and phase.median is None:
                note = result.nca_verdict or note
            lines.append(
                f"| {label} | {phase.name} | {_fmt(phase.median)} | {rss} | "
                f"{_fmt(ratio, 1) if ratio is not None else ''} | "
                f"{_fmt(nca_ratio) if nca_ratio is not None else ''} | {note} |"
            )
        mismatched = {
            name: (result.verdicts.get(name), expected)
            for name, expected in result.expected.items()
            if result.verdicts.get(name) != expected
        }
        verdict_line = "all as expected" if not mismatched else f"MISMATCH {mismatched}"
        lines.append(f"| {label} | verdicts | | | | | {verdict_line} |")
    lines += ["", *targets_markdown(results)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Target:
    """One target of the scale issue, checked against a tier's run without the leak."""

    tier: str
    goal: str
    limit: float
    unit: str
    measure: Callable[[TierResult], float | None]
    at_least: bool = False
    """The measured value must reach `limit` (a speed-up) instead of staying within it."""


def _slowest_solve(result: TierResult) -> float | None:
    solves = [p.median for p in result.phases if p.name.startswith("solve: ")]
    return max((m for m in solves if m is not None), default=None)


def _load_encode(result: TierResult) -> float | None:
    load, encode = result.median("load"), result.median("encode")
    return None if load is None or encode is None else load + encode


def _prove_rss(result: TierResult) -> float | None:
    peaks = [p.peak_rss_mb for p in result.phases if p.name.startswith("prove ")]
    return max((m for m in peaks if m is not None), default=None)


def _nca_speedup(result: TierResult) -> float | None:
    nca = result.median("nca dev->prod isolation (process)")
    netverify = result.median(ISOLATION_PHASE)
    return None if nca is None or not netverify else nca / netverify


def _isolation_over_floor(result: TierResult) -> float | None:
    isolation, floor = result.median(ISOLATION_PHASE), _floor(result)
    return None if isolation is None or not floor else isolation / floor


def _median_of(name: str) -> Callable[[TierResult], float | None]:
    return lambda result: result.median(name)


TARGETS = (
    Target(
        "ci",
        "`prove` process, all invariants",
        1.5,
        "s",
        _median_of("prove all invariants (process)"),
    ),
    Target("p600", "NCA / netverify, isolation (process)", 200, "x", _nca_speedup, True),
    Target("large", "slowest invariant (solve: ...)", 2, "s", _slowest_solve),
    Target("large", "load + encode", 5, "s", _load_encode),
    Target("large", "peak RSS of the `prove` processes", 1024, "MB", _prove_rss),
    Target("k10", "one invariant: `prove` isolation process", 3, "s", _median_of(ISOLATION_PHASE)),
    Target("k10", "the same over the parse floor", 2, "x", _isolation_over_floor),
    Target("xl", "slowest invariant (solve: ...)", 30, "s", _slowest_solve),
    Target("xl", "peak RSS of the `prove` processes", 8192, "MB", _prove_rss),
    Target("large", "diff of 20 changed policies (process)", 10, "s", _median_of(DIFF_PHASE)),
)


def targets_markdown(results: list[TierResult]) -> list[str]:
    """The targets table: each target with this run's value, met or missed."""
    lines = [
        "## Targets",
        "",
        "Each target of the scale issue against this run's numbers (tiers without the leak).",
        "",
        "| tier | target | measured | result |",
        "|---|---|---:|---|",
    ]
    by_tier = {r.tier: r for r in results if not r.leak}
    for target in TARGETS:
        digits = 0 if target.unit == "MB" else 2
        unit = target.unit if target.unit == "x" else f" {target.unit}"
        bound = "≥" if target.at_least else "≤"
        goal = f"{target.goal} {bound} {target.limit:g}{unit}"
        tier = by_tier.get(target.tier)
        value = None if tier is None else target.measure(tier)
        if value is None:
            measured, verdict = "", "not measured in this run"
        else:
            measured = f"{value:.{digits}f}{unit}"
            shortfall = target.limit - value if target.at_least else value - target.limit
            verdict = "met" if shortfall <= 0 else f"missed by {shortfall:.{digits}f}{unit}"
        lines.append(f"| {target.tier} | {goal} | {measured} | {verdict} |")
    return lines


def svg_plot(results: list[TierResult]) -> str:
    """Median seconds against pods (log-log), one line per phase, as a hand-written SVG."""
    import math

    phases = ("parse floor (CSafeLoader)", "load", "encode", "solve+witness (all invariants)")
    phases += ("prove all invariants (process)", "nca dev->prod isolation (process)")
    colours = ("#888", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
    points = {
        phase: sorted(
            (r.pods, m) for r in results if not r.leak and (m := r.median(phase)) is not None
        )
        for phase in phases
    }
    values = [v for series in points.values() for _, v in series if v > 0]
    sizes = [p for series in points.values() for p, _ in series]
    if not values or len(set(sizes)) < 1:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>\n"
    low, high = math.log10(min(values)) - 0.2, math.log10(max(values)) + 0.2
    left, right = math.log10(min(sizes)) - 0.2, math.log10(max(sizes)) + 0.2
    width, height, pad = 720, 420, 60

    def x(pods: float) -> float:
        return pad + (math.log10(pods) - left) / (right - left) * (width - 2 * pad)

    def y(seconds: float) -> float:
        return height - pad - (math.log10(seconds) - low) / (high - low) * (height - 2 * pad)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "font-family='sans-serif' font-size='12'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{width / 2}' y='20' text-anchor='middle'>median seconds vs pods "
        "(log-log)</text>",
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' "
        "stroke='black'/>",
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='black'/>",
    ]
    for pods in sorted(set(sizes)):
        parts.append(
            f"<text x='{x(pods):.1f}' y='{height - pad + 16}' text-anchor='middle'>{pods}</text>"
        )
    for exponent in range(math.floor(low), math.ceil(high) + 1):
        if low <= exponent <= high:
            parts.append(
                f"<text x='{pad - 6}' y='{y(10**exponent):.1f}' text-anchor='end'>"
                f"{10**exponent:g}s</text>"
            )
    for index, (phase, colour) in enumerate(zip(phases, colours, strict=True)):
        series = [(p, v) for p, v in points[phase] if v > 0]
        if not series:
            continue
        path = " ".join(f"{x(p):.1f},{y(v):.1f}" for p, v in series)
        parts.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
        for p, v in series:
            parts.append(f"<circle cx='{x(p):.1f}' cy='{y(v):.1f}' r='3' fill='{colour}'/>")
        parts.append(
            f"<text x='{width - pad - 250}' y='{pad + 16 * index}' fill='{colour}'>{phase}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_plot(results: list[TierResult], folder: Path) -> Path:
    """A PNG with matplotlib when it is importable, else a hand-written SVG."""
    try:
        import matplotlib  # type: ignore[import-not-found]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]
    except ImportError:
        path = folder / "latest.svg"
        path.write_text(svg_plot(results), encoding="utf-8")
        return path
    figure, axes = plt.subplots(figsize=(8, 5))
    for phase in ("parse floor (CSafeLoader)", "load", "encode", "solve+witness (all invariants)"):
        series = sorted((r.pods, m) for r in results if not r.leak and (m := r.median(phase)))
        if series:
            axes.plot(*zip(*series, strict=True), marker="o", label=phase)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("pods")
    axes.set_ylabel("median seconds")
    axes.legend()
    path = folder / "latest.png"
    figure.savefig(path, dpi=100)
    return path


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--tier",
        action="append",
        choices=sorted(TIERS),
        help=f"tiers to run (repeatable; default: {' and '.join(DEFAULT_TIERS)}; the others "
        "only when named)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (medians)")
    parser.add_argument("--nca-timeout", type=float, default=600.0, help="seconds per NCA run")
    parser.add_argument("--no-nca", action="store_true", help="skip network-config-analyzer")
    parser.add_argument(
        "--nca-tier",
        action="append",
        choices=sorted(TIERS),
        help="run network-config-analyzer only on these tiers (repeatable; default: every tier)",
    )
    parser.add_argument(
        "--nca-repeat", type=int, default=None, help="NCA runs per tier (default: --repeat)"
    )
    parser.add_argument("--no-diff", action="store_true", help="skip `netverify diff`")
    parser.add_argument("--no-matrix", action="store_true", help="skip `netverify matrix`")
    parser.add_argument("--no-lint", action="store_true", help="skip `netverify lint`")
    parser.add_argument(
        "--work", type=Path, default=None, help="where clusters are generated (default: a temp dir)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="where latest.* are written (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    tiers = [TIERS[name] for name in (args.tier or DEFAULT_TIERS)]
    nca = None if args.no_nca else find_nca()
    if nca is None and not args.no_nca:
        _log("network-config-analyzer not found (pip install '.[bench]' or set NCA=...)")
    work = args.work or Path(tempfile.mkdtemp(prefix="netverify-bench-"))
    results = []
    for tier in tiers:
        repeat = min(args.repeat, tier.max_repeat or args.repeat)
        tier_nca = nca if args.nca_tier is None or tier.name in args.nca_tier else None
        nca_repeat = min(args.nca_repeat or repeat, repeat)
        generated, leaked = (
            measure_tier(tier, leak, work, repeat, tier_nca, args.nca_timeout, nca_repeat)
            for leak in (False, True)
        )
        results += [generated, leaked]
        if tier.extras and not args.no_diff:
            measure_diff(generated, tier, work, repeat)
        if tier.extras and not args.no_matrix:
            measure_matrix(generated, tier, work)
        if tier.extras and not args.no_lint:
            measure_lint(generated, tier, work)
    args.out.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "repeat": args.repeat,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "nca": " ".join(nca) if nca else None,
        "tiers": [{**asdict(r), "medians": {p.name: p.median for p in r.phases}} for r in results],
    }
    (args.out / "latest.json").write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (args.out / "latest.md").write_text(markdown(results, args.repeat), encoding="utf-8")
    plot = write_plot(results, args.out)
    _log(f"wrote {args.out / 'latest.json'}, latest.md and {plot.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
