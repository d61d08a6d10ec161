"""Known-bug mutants: each re-creates one seed bug class by swapping one protocol step (sut.engine.steps).

`MUTANTS`: name -> Mutant. Enable with `sut.open_database(..., mutants={"name", ...})`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sut.engine.steps import STEPS


@dataclass(frozen=True)
class Mutant:
    name: str
    seed: str                 # the seed incident it re-creates
    invariant: str            # the invariant expected to catch it (DESIGN.md section 6)
    backends: tuple[str, ...]  # where the step it swaps exists
    swaps: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # A race of the seeds: it decides on a read that another worker's call can make stale meanwhile (the
    # generic interleavings must kill these with the hand-written ones off: tests/test_kill_matrix.py).
    races: bool = False


def _registry() -> dict[str, Mutant]:
    from sut import buggy as B
    all3, lance = ("lmdb", "rocksdb", "lance"), ("lance",)
    g, i, f = ("000 ghost tables (HarperDB #1246)", "004 silent index gaps (HarperDB #529)",
               "001-003 Omnigraph forks, publish, optimize, recovery")
    entries = [
        Mutant("catalog_first_drop", g, "I4 honest failure", all3, {"drop.run": B.catalog_first_drop}),
        Mutant("no_tombstone", g, "I5 no ghosts", all3, {"drop.run": B.drop_without_tombstone}),
        Mutant("create_lock_leak", g, "I9 no wedge", all3, {"create.unlock": B.leak_lock_on_error}),
        Mutant("catalog_only_reconcile", g, "I6 no resurrection", all3,
               {"create.over_tombstone": B.reopen_incarnation_by_name}),
        Mutant("backfill_swallows_failed_puts", i, "I8 index honesty", all3,
               {"backfill.write_chunk": B.backfill_swallowing_failed_puts}),
        Mutant("backfill_last_put_unchecked", i, "I8 index honesty", all3,
               {"backfill.write_chunk": B.backfill_last_put_unchecked}),
        Mutant("no_fork_self_heal", f, "I9 no wedge", all3, {"fork.reclaim_orphan": B.no_fork_self_heal}),
        Mutant("fork_error_as_already_exists", f, "I1 equivalence", all3,
               {"fork.copy": B.fork_error_as_already_exists}),
        Mutant("reclaim_only_deleted_branches", f, "I5 no ghosts", all3,
               {"cleanup.reclaim": B.reclaim_only_deleted_branches}),
        Mutant("reclaim_from_cached_authority", f, "I1 equivalence", all3,
               {"cleanup.sweep": B.sweep_from_cached_authority}, races=True),
        Mutant("reclaim_from_sweep_start_branch_list", f, "I5 no ghosts", all3,
               {"cleanup.sweep": B.sweep_from_branch_list_at_start}, races=True),
        Mutant("reconcile_without_ddl_lock", g, "I9 no wedge", all3,
               {"cleanup.complete_drop": B.complete_drop_without_ddl_lock}, races=True),
        Mutant("reclaim_without_lock", f, "I1 equivalence", all3, {"cleanup.reclaim": B.reclaim_without_lock},
               races=True),
        Mutant("branch_delete_error_after_flip", f, "I4 honest failure", all3,
               {"branch_delete.finish": B.branch_delete_error_after_flip}),
        Mutant("non_atomic_branch_create", f, "I2 atomicity", all3, {"branch.publish": B.branch_row_then_pins}),
        Mutant("optimize_without_publish", f, "I7 manifest tracks HEAD", lance,
               {"optimize.publish": B.optimize_without_publish}),
        Mutant("rollback_without_publish", f, "I7 manifest tracks HEAD", lance,
               {"recovery.publish_rollback": B.rollback_without_publish}),
        Mutant("rollforward_at_stale_version", f, "I9 no wedge", lance,
               {"recovery.resolve": B.rollforward_at_stale_version}, races=True),
    ]
    return {m.name: m for m in entries}


MUTANTS: dict[str, Mutant] = _registry()


def steps_for(mutants: Iterable[str], backend: str) -> dict[str, Callable[..., Any]]:
    """The protocol steps with the named mutants swapped in. Unknown names are an error, never ignored."""
    steps = dict(STEPS)
    for name in sorted(set(mutants)):
        if name not in MUTANTS:
            raise ValueError(f"unknown mutant {name!r}; known: {sorted(MUTANTS)}")
        m = MUTANTS[name]
        if backend not in m.backends:
            raise ValueError(f"mutant {name!r} does not apply to backend {backend!r}")
        steps.update(m.swaps)
    return steps
