"""`python -m stress` (what `make stress` runs): stateful stress on the embedded backends until a time
budget, one worker per core, then a report in reports/runs/<timestamp>/. Exit status 1 when it found a
failure. Options can also come from the environment (STRESS_SECONDS, STRESS_BACKENDS, STRESS_MUTANTS,
STRESS_WORKERS, STRESS_SEED, HYPOTHESIS_REDIS_URL)."""
from __future__ import annotations

import argparse
import os
import sys
import time

import sut
from reports.summary import runs_root
from stress.report import write_report
from stress.seeds import master_seed
from stress.supervisor import Progress, supervise

BACKENDS = ("lmdb", "rocksdb", "lance")


def parse(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m stress", description=__doc__)
    p.add_argument("--seconds", type=float, default=float(env("STRESS_SECONDS", "120")))
    p.add_argument("--backends", default=env("STRESS_BACKENDS", ",".join(BACKENDS)))
    p.add_argument("--mutants", default=env("STRESS_MUTANTS", ""), help="comma-separated names from sut.MUTANTS")
    p.add_argument("--workers", type=int, default=int(env("STRESS_WORKERS", "0")) or os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=int(env("STRESS_SEED") or 0) if env("STRESS_SEED") else None)
    p.add_argument("--steps", type=int, default=40, help="steps per program")
    p.add_argument("--shrink-seconds", type=float, default=60.0, help="bound on shrinking one failure")
    p.add_argument("--examples", type=int, default=0, help="programs per batch (default: per backend)")
    p.add_argument("--redis-url", default=env("HYPOTHESIS_REDIS_URL") or None,
                   help="share Hypothesis's example database through this Redis server")
    p.add_argument("--database-dir", default=os.path.join(".hypothesis", "stress"),
                   help="Hypothesis's example database when no Redis URL is given")
    p.add_argument("--reports", default=runs_root(), help="where runs go (default ./reports/runs; SUITE_REPORTS_ROOT)")
    p.add_argument("--replay", metavar="BACKEND:SEED", help="rerun one batch (as a finding printed it) and stop")
    p.add_argument("--inject", choices=["segv"], default=env("STRESS_INJECT") or None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.mutants = [m.strip() for m in args.mutants.split(",") if m.strip()]
    if bad := sorted(set(args.backends) - set(BACKENDS)):
        p.error(f"unknown backends {bad}; choose from {BACKENDS}")
    if bad := sorted(set(args.mutants) - set(sut.MUTANTS)):
        p.error(f"unknown mutants {bad}; choose from {sorted(sut.MUTANTS)}")
    if args.workers < 1:
        p.error("--workers must be at least 1")
    if args.mutants:  # a mutant exists only where its step does
        args.backends = [b for b in args.backends if all(b in sut.MUTANTS[m].backends for m in args.mutants)]
        if not args.backends:
            p.error("no chosen backend has the steps of all the chosen mutants")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    seed = master_seed(args.seed)
    run_id = time.strftime("%Y%m%d-%H%M%S") + f"-stress-{seed}"
    run_dir = os.path.join(args.reports, run_id)
    os.makedirs(run_dir, exist_ok=True)
    task = {"master": seed, "backends": args.backends, "mutants": args.mutants, "steps": args.steps,
            "examples": args.examples,
            "shrink_seconds": args.shrink_seconds, "budget": args.seconds, "deadline": time.time() + args.seconds,
            "run_dir": run_dir, "run_id": run_id, "redis_url": args.redis_url, "inject": args.inject,
            "database_dir": args.database_dir}
    if args.replay:
        backend, _, batch = args.replay.partition(":")
        task.update(backends=[backend], seed=int(batch), single=True, deadline=time.time() + 10**6)
        args.workers = 1
    print(f"stress: seed {seed}, {args.seconds:.0f}s on {','.join(args.backends)} with {args.workers} workers"
          + (f", mutants {','.join(args.mutants)}" if args.mutants else "") + f"\nstress: report in {run_dir}")
    started = time.time()
    tally = supervise(task, args.workers, Progress(args.seconds))
    summary = write_report(run_dir, task, args, tally, time.time() - started, seed)
    print(f"stress: {summary['totals']}")
    for f in summary["failures"]:
        print(f"  FAIL [{f['class']}] {f['invariant']} on {f['backend']} (seed {f['seed']}, x{f['count']})")
        if f.get("reproducer"):
            print(f"       reproducer: pytest {os.path.join(run_dir, f['reproducer'])}")
    print(f"stress: report {os.path.join(run_dir, 'index.html')}  (python -m reports prints it)")
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
