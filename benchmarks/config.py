"""What one run measures and how much: the full plan (`make bench`, about 10 minutes on 2 shared cores)
and the quick plan (`--quick` or BENCH_QUICK=1, about a minute: a smoke run, its figures are not to be
quoted). Budgets are per backend because a Lance write costs ~30 ms and a RocksDB open ~60 ms where LMDB
needs well under a millisecond for either; every budget is written into the results."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

BACKENDS = ("lmdb", "rocksdb", "lance")
SECTIONS = ("throughput", "overhead", "crashpoints", "restart", "blackbox", "growth", "detect", "xdist")


@dataclass(frozen=True)
class Detect:
    mutants: tuple[str, ...] | None  # None: every mutant that applies to the backend
    seeds: int
    max_examples: int
    shrink_seconds: float


@dataclass(frozen=True)
class Plan:
    name: str
    backends: tuple[str, ...] = BACKENDS
    sections: tuple[str, ...] = SECTIONS
    reps: int = 3                                                    # throughput repetitions
    examples: dict[str, int] = field(default_factory=dict)           # programs per throughput repetition
    trace_records: int = 40
    trace_reps: dict[str, int] = field(default_factory=dict)
    trace_inner: dict[str, int] = field(default_factory=dict)      # runs per repetition, the fastest kept
    crash_sample: dict[str, int] = field(default_factory=dict)       # >= the points: the full enumeration
    restart_reps: int = 7
    kill_reps: int = 3
    growth_sizes: tuple[int, ...] = (1, 10, 100)
    growth_reps: dict[str, int] = field(default_factory=dict)
    detect: dict[str, Detect] = field(default_factory=dict)
    suite_paths: tuple[str, ...] = ()
    suite_backends: str = "lmdb"
    suite_workers: tuple[int, ...] = (1, 2)
    suite_reps: int = 2

    def as_json(self) -> dict[str, Any]:
        from dataclasses import asdict
        return asdict(self)


# Mutants the generic search kills within a few programs on LMDB: enough to compare the backends without
# paying RocksDB's and Lance's minutes per hard mutant (all of them: --mutants all).
FAST_MUTANTS = ("create_lock_leak", "reclaim_from_cached_authority")

FULL = Plan(
    name="full",
    examples={"lmdb": 40, "rocksdb": 10, "lance": 4},
    trace_reps={"lmdb": 11, "rocksdb": 11, "lance": 3},
    trace_inner={"lmdb": 5, "rocksdb": 3, "lance": 1},
    crash_sample={"lmdb": 10_000, "rocksdb": 10_000, "lance": 10_000},
    growth_reps={"lmdb": 7, "rocksdb": 7, "lance": 3},
    detect={"lmdb": Detect(None, 3, 400, 2.0),
            "rocksdb": Detect(FAST_MUTANTS, 2, 30, 6.0),
            "lance": Detect(("create_lock_leak", "optimize_without_publish"), 2, 10, 8.0)},
    suite_paths=("tests/model", "tests/test_engine_protocols.py", "tests/test_engine_workers.py",
                 "tests/test_differential.py"),
)

QUICK = Plan(
    name="quick",
    reps=1,
    examples={"lmdb": 3, "rocksdb": 1, "lance": 1},
    trace_records=10,
    trace_reps={"lmdb": 3, "rocksdb": 2, "lance": 1},
    crash_sample={"lmdb": 4, "rocksdb": 3, "lance": 2},
    restart_reps=3,
    kill_reps=1,
    growth_sizes=(1, 10),
    growth_reps={"lmdb": 3, "rocksdb": 2, "lance": 1},
    detect={"lmdb": Detect(("create_lock_leak", "reclaim_from_cached_authority"), 1, 50, 2.0)},
    suite_paths=("tests/model/test_model_rules.py",),
    suite_reps=1,
)


def choose(quick: bool, backends: str | None = None, sections: str | None = None, mutant_seeds: int | None = None,
           mutants: str | None = None, shrink_cap: float | None = None) -> Plan:
    """The plan, narrowed or widened by the command line (or the BENCH_* variables)."""
    plan = QUICK if quick else FULL
    if backends:
        plan = replace(plan, backends=tuple(b for b in BACKENDS if b in backends.split(",")))
    if sections:
        unknown = set(sections.split(",")) - set(SECTIONS)
        if unknown:
            raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
        plan = replace(plan, sections=tuple(s for s in SECTIONS if s in sections.split(",")))
    if mutant_seeds is not None or mutants:
        chosen = None if mutants == "all" else tuple(mutants.split(",")) if mutants else None
        detect = {}
        for b in plan.backends:
            d = plan.detect.get(b, Detect(chosen, 1, {"lmdb": 400, "rocksdb": 30, "lance": 10}[b], 8.0))
            detect[b] = replace(d, seeds=mutant_seeds or d.seeds, mutants=chosen if mutants else d.mutants)
        plan = replace(plan, detect=detect)
    if shrink_cap is not None:
        plan = replace(plan, detect={b: replace(d, shrink_seconds=shrink_cap) for b, d in plan.detect.items()})
    return plan
