"""Benchmarks of netverify on generated clusters: `python -m benchmarks [--tier NAME]`.

Per tier, a cluster is generated (with and without the planted leak) and each phase is timed
`--repeat` times; medians are reported. `diff` compares the cluster with a revision that
changes 20 of its policies; `matrix` and `lint` run once per tier. The report ends with the
scale issue's targets, met or missed. See benchmarks/README.md for what each number means.
"""

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # `python benchmarks/run.py`: the repository root is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import (
    log,
    measure_admin,
    measure_diff,
    measure_lint,
    measure_matrix,
    measure_tier,
)
from benchmarks.output import write_results
from benchmarks.peer import find_nca
from benchmarks.tiers import DEFAULT_TIERS, TIERS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


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
        "--no-admin", action="store_true", help="skip `prove` with 100 admin policies added"
    )
    parser.add_argument(
        "--no-repair", action="store_true", help="skip `prove --all` and `fix` on the leak"
    )
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
        log("network-config-analyzer not found (pip install '.[bench]' or set NCA=...)")
    work = args.work or Path(tempfile.mkdtemp(prefix="netverify-bench-"))
    results = []
    for tier in tiers:
        repeat = min(args.repeat, tier.max_repeat or args.repeat)
        tier_nca = nca if args.nca_tier is None or tier.name in args.nca_tier else None
        nca_repeat = min(args.nca_repeat or repeat, repeat)
        repair = tier.extras and not args.no_repair
        generated, leaked = (
            measure_tier(tier, leak, work, repeat, tier_nca, args.nca_timeout, nca_repeat, repair)
            for leak in (False, True)
        )
        results += [generated, leaked]
        if tier.extras and not args.no_diff:
            measure_diff(generated, tier, work, repeat)
        if tier.extras and not args.no_matrix:
            measure_matrix(generated, tier, work)
        if tier.extras and not args.no_lint:
            measure_lint(generated, tier, work)
        if tier.extras and not args.no_admin:
            measure_admin(generated, tier, work, repeat)
    json_path, _markdown, plot = write_results(results, args.repeat, nca, args.out)
    log(f"wrote {json_path}, latest.md and {plot.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
