"""What the benchmarks measure and what a run records: the tiers (cluster sizes and which
phases each runs), the phase names shared by the measurements and the report, and the
per-tier results (every run's seconds per phase, verdicts).
"""

import statistics
from dataclasses import dataclass, field


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
    "k100": Tier("k100", 100_000, 10_000, 400, extras=False, max_repeat=1, pure_python_floor=False),
}
DEFAULT_TIERS = ("ci", "large")
"""The others take long (xl and k100: minutes per phase; p600: NCA alone ~130 s or more per
run)."""

ISOLATION_PHASE = "prove isolation (process)"
DIFF_PHASE = "diff, 20 policies changed (process)"
MATRIX_PHASE = "matrix by namespace (process, 1 run)"
LINT_PHASE = "lint (process, 1 run)"
ADMIN_PHASE = "prove isolation + admin policies (process)"
ADMIN_BASELINE_PHASE = "prove isolation, interleaved with the admin runs (process)"
PROVE_ALL_PHASE = "prove --all, every violation grouped (process)"
FIX_PHASE = "fix, proved repairs (process)"


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
