"""The measurements: generate a tier's clusters, time each phase (in this process, or as a
`python -m netverify` process with its peak RSS) and record it in a `TierResult`.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from benchmarks.admin import ADMIN_FILE, ADMIN_POLICIES, write_admin_policies
from benchmarks.peer import nca_dev_to_prod_isolation
from benchmarks.pr import write_diff_head
from benchmarks.tiers import (
    ADMIN_BASELINE_PHASE,
    ADMIN_PHASE,
    DIFF_PHASE,
    FIX_PHASE,
    ISOLATION_PHASE,
    LINT_PHASE,
    MATRIX_PHASE,
    PROVE_ALL_PHASE,
    Phase,
    Tier,
    TierResult,
)
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.solver import make_solver
from netverify.engine import SolverLimits, prove
from netverify.engine.slicing import slice_for, worth_slicing
from netverify.generate import (
    ISOLATION,
    MANIFEST_FILES,
    GeneratorOptions,
    WrittenCluster,
    write_cluster,
)
from netverify.loading import load_manifests
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import LoadedCluster, LoadedSpec, Spec

ISOLATION_SPEC = "spec-isolation.yaml"
PROCESS_LIMIT = 86_400.0
"""Seconds a measured netverify process may take before the run fails."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


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
    log(f"{result.tier}: {name}: {phase.median:.2f} s, {phase.note}")


def _load_spec(spec: Path, loaded: LoadedCluster) -> LoadedSpec:
    return resolve_spec(read_spec(str(spec)), loaded.cluster)


def encode(loaded: LoadedCluster, spec: Spec) -> ClusterEncoding:
    """The shared encoding, with the formulas every query uses built (they are cached)."""
    encoding = ClusterEncoding(loaded.cluster, spec.settings, spec.invariants)
    _ = encoding.domain, encoding.allowed
    return encoding


def _in_process(result: TierResult, written: WrittenCluster, repeat: int) -> None:
    """Load, encode and solve in this process; per-invariant solving mirrors `prove`: on
    clusters worth slicing, each `solve: NAME` is its slice's encoding and its solve (an
    upper bound: `prove` shares one encoding between invariants with the same slice), and
    there is no whole-cluster `encode` phase."""
    from netverify.engine.invariant_prover import InvariantProver

    paths = [str(p) for p in _manifests(written.folder)]
    limits = SolverLimits()
    for _ in range(repeat):
        seconds, loaded = _timed(lambda: load_manifests(paths))
        assert isinstance(loaded, LoadedCluster)
        result.phase("load").seconds.append(seconds)
        loaded_spec = _load_spec(written.spec, loaded)
        spec = loaded_spec.spec
        if worth_slicing(loaded.cluster):
            _solve_sliced(result, loaded, spec, limits)
            continue

        seconds, encoding = _timed(lambda: encode(loaded, spec))  # noqa: B023
        assert isinstance(encoding, ClusterEncoding)
        result.phase("encode").seconds.append(seconds)
        solver = make_solver(limits)
        solver.add(encoding.domain)
        total = 0.0
        for invariant in spec.invariants:
            prover = InvariantProver(encoding, solver, invariant, limits)
            seconds, outcome = _timed(prover.prove)
            total += seconds
            result.phase(f"solve: {invariant.name}").seconds.append(seconds)
            result.verdicts[invariant.name] = str(getattr(outcome, "status", "?"))
        result.phase("solve+witness (all invariants)").seconds.append(total)


def _solve_sliced(
    result: TierResult, loaded: LoadedCluster, spec: Spec, limits: SolverLimits
) -> None:
    from netverify.engine.invariant_prover import InvariantProver
    from netverify.engine.prove import ONE_SHOT_CLASSES

    cluster, settings = loaded.cluster, spec.settings
    total = 0.0
    for invariant in spec.invariants:

        def sliced_prove() -> object:
            part = slice_for(cluster, settings, invariant).of(cluster)  # noqa: B023
            encoding = ClusterEncoding(part, settings, [invariant], whole=cluster)  # noqa: B023
            solver = make_solver(limits)
            solver.add(encoding.domain)
            # Each slice is its own part here, and the invariant its first query.
            alone = len(encoding.classes) >= ONE_SHOT_CLASSES
            return InvariantProver(encoding, solver, invariant, limits, alone).prove()  # noqa: B023

        seconds, outcome = _timed(sliced_prove)
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
    repair: bool = True,
) -> TierResult:
    """The tier's cluster, with or without the planted leak, generated and timed phase by
    phase; with the leak and `repair`, `prove --all` and `fix` too (minutes on the larger
    tiers, so only the tiers with extras run them)."""
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
    log(f"{folder.name}: generated {size:.1f} MB in {generate_seconds:.1f} s")

    c_loader = getattr(yaml, "CSafeLoader", None)
    for _ in range(repeat):
        if c_loader is not None:
            seconds, _count = _timed(lambda: parse_floor(folder, c_loader))
            result.phase("parse floor (CSafeLoader)").seconds.append(seconds)
        if tier.pure_python_floor:
            seconds, _count = _timed(lambda: parse_floor(folder, yaml.SafeLoader))
            result.phase("parse floor (SafeLoader)").seconds.append(seconds)
    log(f"{folder.name}: parse floor done")

    if not leak:
        _in_process(result, written, repeat)
        log(f"{folder.name}: in-process phases done")
    specs = [(ISOLATION_PHASE, isolation_spec)]
    if not leak:
        specs.insert(0, ("prove all invariants (process)", written.spec))
    for name, spec in specs:
        phase = _process_phase(result, name, _netverify("prove", spec.name), folder, repeat)
        log(f"{folder.name}: {name}: {phase.median:.2f} s")
    if leak:
        _whole_prove_check_isolation(result, written, isolation_spec)
        if repair:
            _measure_leak_repair(result, written, work, repeat)
    if nca is not None:
        phase = result.phase("nca dev->prod isolation (process)")
        for _ in range(nca_repeat):
            seconds, verdict = nca_dev_to_prod_isolation(nca, folder, nca_limit)
            result.nca_verdict = verdict
            phase.note = verdict
            if seconds is None:
                break
            phase.seconds.append(seconds)
        log(f"{folder.name}: nca: {phase.median} s, {result.nca_verdict}")
    return result


def _measure_leak_repair(
    result: TierResult, written: WrittenCluster, work: Path, repeat: int
) -> None:
    """`prove --all` and `fix` of the whole spec on the leak cluster: every violating flow
    of the leak's invariants grouped, and a proved repair for each."""
    name = result.tier
    _report_phase(
        result,
        PROVE_ALL_PHASE,
        _netverify("prove", written.spec.name, "--all", "--format", "json"),
        written.folder,
        repeat,
        work / f"{name}-prove-all.json",
        _summarise_prove_all,
    )
    _report_phase(
        result,
        FIX_PHASE,
        _netverify("fix", written.spec.name, "--format", "json"),
        written.folder,
        repeat,
        work / f"{name}-fix.json",
        _summarise_fix,
    )


def _summarise_prove_all(report: dict[str, Any]) -> str:
    listed = [r for r in report["results"] if r.get("findings") is not None]
    return (
        "; ".join(
            f"{r['name']}: {len(r['findings'])} findings"
            + ("" if r["findings_complete"] else " (incomplete)")
            for r in listed
        )
        or "none"
    )


def _summarise_fix(report: dict[str, Any]) -> str:
    entries = [entry for spec in report["specs"] for entry in spec["invariants"]]
    return "; ".join(
        f"{entry['invariant']}: "
        + (
            f"{entry['fixes'][0]['change']}, {entry['fixes'][0]['flows_changed']} flows"
            if entry["fixes"]
            else "no fix"
        )
        + f" ({entry['tried']} tried)"
        for entry in entries
    )


def _whole_prove_check_isolation(
    result: TierResult, written: WrittenCluster, isolation_spec: Path
) -> None:
    loaded = load_manifests([str(p) for p in _manifests(written.folder)])
    report = prove(loaded, _load_spec(isolation_spec, loaded), SolverLimits())
    result.verdicts = {r.name: r.status.value for r in report.results}
    result.expected = {ISOLATION: result.expected[ISOLATION]}


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


def measure_admin(result: TierResult, tier: Tier, work: Path, repeat: int) -> None:
    """`prove` of the isolation spec with `ADMIN_POLICIES` admin policies added
    (`benchmarks.admin`), runs interleaved with the same prove without them so that both
    medians see the same machine load; the note gives the ratio and the verdict."""
    plain = _cluster_folder(tier, False, work)
    folder = work / f"{tier.name}-admin"
    folder.mkdir(parents=True, exist_ok=True)
    for name in MANIFEST_FILES:
        shutil.copyfile(plain / name, folder / name)
    write_admin_policies(folder)
    spec = yaml.safe_load((plain / ISOLATION_SPEC).read_text(encoding="utf-8"))
    spec["manifests"] = [*spec["manifests"], ADMIN_FILE]
    (folder / ISOLATION_SPEC).write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    command = _netverify("prove", ISOLATION_SPEC)
    for _ in range(repeat):
        _process_phase(result, ADMIN_PHASE, command, folder, 1)
        _process_phase(result, ADMIN_BASELINE_PHASE, command, plain, 1)
    phase, without = result.phase(ADMIN_PHASE), result.phase(ADMIN_BASELINE_PHASE)
    assert phase.median is not None and without.median is not None
    phase.note += (
        f"; {ADMIN_POLICIES} admin policies; {phase.median / without.median:.2f}x the same "
        "prove without them (interleaved)"
    )
    log(f"{result.tier}: {ADMIN_PHASE}: {phase.median:.2f} s, {phase.note}")
