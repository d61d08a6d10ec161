"""The swappable protocol steps. A known-bug mutant replaces exactly one entry of this table with its
buggy version (sut.mutants), so no `if mutant:` is scattered through the protocols."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sut.engine import branches, data, ddl, maintenance, versioned

STEPS: dict[str, Callable[..., Any]] = {
    "create.lock": ddl.lock_ddl,
    "create.unlock": ddl.unlock_ddl,
    "create.over_tombstone": ddl.complete_drop_before_create,
    "drop.run": ddl.tombstone_then_drop,
    "drop.complete": ddl.complete_drop,
    "backfill.run": ddl.backfill,
    "backfill.write_chunk": ddl.write_chunk,
    "branch.publish": branches.publish_branch,
    "branch_delete.reclaim": branches.reclaim_branch_forks,
    "branch_delete.finish": branches.finish_branch_delete,
    "fork.ensure": branches.ensure_fork,
    "fork.copy": branches.copy_store,
    "fork.reclaim_orphan": branches.reclaim_orphan,
    "fork.publish": branches.publish_fork,
    "write.commit": data.commit,
    "cleanup.reclaim": maintenance.reclaim_store,
    "cleanup.sweep": maintenance.sweep,
    "cleanup.complete_drop": maintenance.complete_drop_under_lock,
    "recovery.resolve": versioned.resolve,
    "recovery.restore": versioned.restore,
    "recovery.publish": versioned.publish_recovered,
    "recovery.publish_rollback": versioned.publish_recovered,
    "optimize.publish": versioned.publish_optimized,
}
