"""`python -m stress` (what `make stress` runs): stateful stress on the chosen targets until a time budget,
one worker per core, then a report in ./reports/runs/<timestamp>/. Exit status 1 when it found a failure.
Targets are registered names (the entry-point group ghostcheck.targets) or module:object specs; by default
every registered target that asks to be in default runs. Options can also come from the environment
(STRESS_SECONDS, STRESS_TARGETS, STRESS_MUTANTS, STRESS_WORKERS, STRESS_SEED, HYPOTHESIS_REDIS_URL)."""
from __future__ import annotations

import argparse
import os
import sys
import time

from harness.targets import load, registered
from reports.summary import runs_root
from stress.report import write_report
from stress.seeds import master_seed
from stress.supervisor import Progress, supervise



def default_targets() -> str:
    return ",".join(n for n, t in registered().items() if getattr(t, "default", True))


def parse(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m stress", description=__doc__)
    p.add_argument("--seconds", type=float, default=float(env("STRESS_SECONDS", "120")))
    p.add_argument("--targets", "--target", "--backends", dest="targets",
                   default=env("STRESS_TARGETS") or env("STRESS_BACKENDS") or None,
                   help="comma-separated target names or module:object specs (default: the registered targets)")
    p.add_argument("--mutants", default=env("STRESS_MUTANTS", ""), help="comma-separated mutants of the targets")
    p.add_argument("--workers", type=int, default=int(env("STRESS_WORKERS", "0")) or os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=int(env("STRESS_SEED") or 0) if env("STRESS_SEED") else None)
    p.add_argument("--steps", type=int, default=40, help="steps per program")
    p.add_argument("--shrink-seconds", type=float, default=60.0, help="bound on shrinking one failure")
    p.add_argument("--examples", type=int, default=0, help="programs per batch (default: the target's)")
    p.add_argument("--redis-url", default=env("HYPOTHESIS_REDIS_URL") or None,
                   help="share Hypothesis's example database through this Redis server")
    p.add_argument("--database-dir", default=os.path.join(".hypothesis", "stress"),
                   help="Hypothesis's example database when no Redis URL is given")
    p.add_argument("--reports", default=runs_root(), help="where runs go (default ./reports/runs; SUITE_REPORTS_ROOT)")
    p.add_argument("--replay", metavar="TARGET:SEED", help="rerun one batch (as a finding printed it) and stop")
    p.add_argument("--inject", choices=["segv"], default=env("STRESS_INJECT") or None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    specs = [t.strip() for t in (args.targets or default_targets()).split(",") if t.strip()]
    args.mutants = [m.strip() for m in args.mutants.split(",") if m.strip()]
    try:
        chosen = {spec: load(spec) for spec in specs}
    except (KeyError, ValueError, ImportError, AttributeError, TypeError) as e:
        p.error(f"--targets: {e}")
    known = {m for t in chosen.values() for m in t.mutants}
    if bad := sorted(set(args.mutants) - known):
        p.error(f"unknown mutants {bad}; the chosen targets have {sorted(known)}")
    if args.workers < 1:
        p.error("--workers must be at least 1")
    if args.mutants:  # a mutant exists only where its step does
        specs = [s for s in specs if all(m in chosen[s].mutants for m in args.mutants)]
        if not specs:
            p.error("no chosen target has all the chosen mutants")
    args.targets = specs
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    seed = master_seed(args.seed)
    run_id = time.strftime("%Y%m%d-%H%M%S") + f"-stress-{seed}"
    run_dir = os.path.join(args.reports, run_id)
    os.makedirs(run_dir, exist_ok=True)
    task = {"master": seed, "backends": args.targets, "mutants": args.mutants, "steps": args.steps,
            "examples": args.examples,
            "shrink_seconds": args.shrink_seconds, "budget": args.seconds, "deadline": time.time() + args.seconds,
            "run_dir": run_dir, "run_id": run_id, "redis_url": args.redis_url, "inject": args.inject,
            "database_dir": args.database_dir}
    if args.replay:
        backend, _, batch = args.replay.rpartition(":")
        task.update(backends=[backend], seed=int(batch), single=True, deadline=time.time() + 10**6)
        args.workers = 1
    print(f"stress: seed {seed}, {args.seconds:.0f}s on {','.join(args.targets)} with {args.workers} workers"
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
