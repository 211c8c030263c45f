"""The report of a run: `latest.json` (every run's seconds and medians), `latest.md` (the
table, then the scale issue's targets, met or missed) and a plot of medians against pods.
"""

import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.tiers import (
    ADMIN_BASELINE_PHASE,
    ADMIN_PHASE,
    DIFF_PHASE,
    FIX_PHASE,
    ISOLATION_PHASE,
    LINT_PHASE,
    MATRIX_PHASE,
    PROVE_ALL_PHASE,
    TIERS,
    TierResult,
)

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
    ADMIN_PHASE,
    ADMIN_BASELINE_PHASE,
    PROVE_ALL_PHASE,
    FIX_PHASE,
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
    leak: bool = False
    """Measured on the tier's cluster with the planted leak (`--leak`)."""


def _slowest_solve(result: TierResult) -> float | None:
    solves = [p.median for p in result.phases if p.name.startswith("solve: ")]
    return max((m for m in solves if m is not None), default=None)


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


def _admin_over_plain(result: TierResult) -> float | None:
    admin, plain = result.median(ADMIN_PHASE), result.median(ADMIN_BASELINE_PHASE)
    return None if admin is None or not plain else admin / plain


def _median_of(name: str) -> Callable[[TierResult], float | None]:
    return lambda result: result.median(name)


TARGETS = (
    Target(
        "ci",
        "`prove` process, all invariants",
        1.0,
        "s",
        _median_of("prove all invariants (process)"),
    ),
    Target("p600", "NCA / netverify, isolation (process)", 300, "x", _nca_speedup, True),
    Target("large", "slowest invariant (solve: ...)", 1, "s", _slowest_solve),
    Target("large", "lint (process)", 20, "s", _median_of(LINT_PHASE)),
    Target("large", "diff of 20 changed policies (process)", 3, "s", _median_of(DIFF_PHASE)),
    Target("large", "matrix by namespace (process)", 3, "s", _median_of(MATRIX_PHASE)),
    Target("large", "isolation with 100 admin policies over without", 1.5, "x", _admin_over_plain),
    Target("large", "`prove --all` (process)", 10, "s", _median_of(PROVE_ALL_PHASE), leak=True),
    Target("large", "`fix` (process)", 10, "s", _median_of(FIX_PHASE), leak=True),
    Target("k10", "one invariant: `prove` over the parse floor", 1.0, "x", _isolation_over_floor),
    Target("xl", "slowest invariant (solve: ...)", 15, "s", _slowest_solve),
    Target(
        "xl",
        "`prove` process, all invariants",
        60,
        "s",
        _median_of("prove all invariants (process)"),
    ),
    Target("xl", "peak RSS of the `prove` processes", 4096, "MB", _prove_rss),
    Target(
        "k100", "one invariant: `prove` isolation process", 60, "s", _median_of(ISOLATION_PHASE)
    ),
    Target("k100", "peak RSS of the `prove` processes", 4096, "MB", _prove_rss),
)


def targets_markdown(results: list[TierResult]) -> list[str]:
    """The targets table: each target with this run's value, met or missed."""
    lines = [
        "## Targets",
        "",
        "Each target of the scale issue against this run's numbers (tiers without the leak, "
        "unless the tier says `+ leak`).",
        "",
        "| tier | target | measured | result |",
        "|---|---|---:|---|",
    ]
    by_tier = {(r.tier, r.leak): r for r in results}
    for target in TARGETS:
        digits = 0 if target.unit == "MB" else 2
        unit = target.unit if target.unit == "x" else f" {target.unit}"
        bound = "≥" if target.at_least else "≤"
        goal = f"{target.goal} {bound} {target.limit:g}{unit}"
        tier = by_tier.get((target.tier, target.leak))
        value = None if tier is None else target.measure(tier)
        if value is None:
            measured, verdict = "", "not measured in this run"
        else:
            measured = f"{value:.{digits}f}{unit}"
            shortfall = target.limit - value if target.at_least else value - target.limit
            verdict = "met" if shortfall <= 0 else f"missed by {shortfall:.{digits}f}{unit}"
        label = f"{target.tier} + leak" if target.leak else target.tier
        lines.append(f"| {label} | {goal} | {measured} | {verdict} |")
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


def write_results(
    results: list[TierResult], repeat: int, nca: Sequence[str] | None, folder: Path
) -> tuple[Path, Path, Path]:
    """Write `latest.json`, `latest.md` and the plot into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "repeat": repeat,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "nca": " ".join(nca) if nca else None,
        "tiers": [{**asdict(r), "medians": {p.name: p.median for p in r.phases}} for r in results],
    }
    json_path = folder / "latest.json"
    json_path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    markdown_path = folder / "latest.md"
    markdown_path.write_text(markdown(results, repeat), encoding="utf-8")
    return json_path, markdown_path, write_plot(results, folder)
