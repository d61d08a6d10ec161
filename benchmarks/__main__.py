"""`python -m benchmarks [--quick] [--backends lmdb,rocksdb] [--sections throughput,overhead] ...`

Every option has a BENCH_* environment variable, so `make bench` can be narrowed without editing it:
BENCH_QUICK=1, BENCH_BACKENDS, BENCH_SECTIONS, BENCH_MUTANT_SEEDS, BENCH_MUTANTS (names or `all`),
BENCH_SHRINK_CAP (seconds), BENCH_OUT."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from benchmarks import config
from benchmarks.run import run, write

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def parse(argv: list[str] | None) -> argparse.Namespace:
    e = os.environ.get
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", default=e("BENCH_QUICK", "") not in ("", "0"),
                   help="a ~1 minute smoke run (writes results/quick.json unless --out is given)")
    p.add_argument("--backends", default=e("BENCH_BACKENDS"), help=f"comma-separated, from {config.BACKENDS}")
    p.add_argument("--sections", default=e("BENCH_SECTIONS"), help=f"comma-separated, from {config.SECTIONS}")
    p.add_argument("--mutant-seeds", type=int, default=int(e("BENCH_MUTANT_SEEDS") or 0) or None,
                   help="Hypothesis seeds per mutant and backend (more: tighter medians, longer run)")
    p.add_argument("--mutants", default=e("BENCH_MUTANTS"),
                   help="mutants to time on every chosen backend: comma-separated names, or `all`")
    p.add_argument("--shrink-cap", type=float, default=float(e("BENCH_SHRINK_CAP") or 0) or None,
                   help="seconds of shrinking per failure (default per backend, 2-8 s; Hypothesis alone: 300)")
    p.add_argument("--out", default=e("BENCH_OUT"), help="the JSON to write (a .md table is written beside it)")
    p.add_argument("--workdir", default=None, help="where the databases go (default: a fresh temp dir, removed)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = config.choose(args.quick, args.backends, args.sections, args.mutant_seeds, args.mutants,
                          args.shrink_cap)
    out = args.out or os.path.join(RESULTS, "quick.json" if args.quick else "latest.json")
    workdir = args.workdir or tempfile.mkdtemp(prefix="ghostcheck-bench-")
    os.makedirs(workdir, exist_ok=True)
    try:
        results = run(plan, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(write(results, out))
    print(f"\nwrote {out} ({results['total_seconds']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
