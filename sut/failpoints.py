"""The reference engine's failpoints: every protocol step it exposes, the operation that reaches it, the
backends where the step exists, what a crash there leaves behind, and its tags (faults.catalogue: a step
only a branch's first write reaches, a step where other workers' calls may interleave, a step where a second
opener may race recovery). The static check in tests/test_faults_reachability.py proves that these are
exactly the names the engine's source passes to `hit(...)`."""
from __future__ import annotations

from dataclasses import dataclass

from faults.catalogue import FIRST_WRITE, INTERLEAVE, RACING_OPEN, WAITS, Failpoint, register

ALL = ("lmdb", "rocksdb", "lance")
KV = ("lmdb", "rocksdb")
LANCE = ("lance",)


@dataclass(frozen=True)
class EngineFailpoint(Failpoint):
    backends: tuple[str, ...] = ALL


_ENTRIES = [
    ("open.before_init", "open", ALL, "a fresh path with no authority yet: the next open starts over"),
    ("create.after_reserve", "create_table", ALL, "an incarnation id reserved, no store: nothing visible"),
    ("create.after_create_store", "create_table", ALL, "some of the new table's stores, unpublished: ghosts"),
    ("create.after_store", "create_table", ALL, "all of the new table's stores, no catalog row: ghosts"),
    ("drop.after_tombstone", "drop_table", ALL, "a tombstone, every store intact: open completes the drop"),
    ("drop.after_index_stores", "drop_table", ALL, "a tombstone, index stores gone, primary stores left"),
    ("drop.after_primary_stores", "drop_table", ALL, "a tombstone and no stores: open removes the rows"),
    ("drop.after_catalog", "drop_table", ALL, "the drop complete"),
    ("index.after_stores", "create_index", ALL, "empty index stores with no descriptor: ghosts"),
    ("index.after_descriptor", "create_index", ALL, "a `building` descriptor, nothing indexed: open resumes"),
    ("backfill.after_chunk", "create_index", ALL, "index entries past the checkpoint: redone on resume"),
    ("backfill.before_checkpoint", "create_index", ALL, "a chunk written, the checkpoint not advanced"),
    ("backfill.after_checkpoint", "create_index", ALL, "a chunk and its checkpoint: resume continues after"),
    ("backfill.before_ready", "create_index", ALL, "every fork indexed, still `building`: open marks ready"),
    ("branch.before_publish", "create_branch", ALL, "nothing: the branch row and pins are one write"),
    ("branch.after_publish", "create_branch", ALL, "the branch complete"),
    ("branch_delete.before_flip", "delete_branch", ALL, "nothing: the branch is intact"),
    ("branch_delete.after_flip", "delete_branch", ALL, "the branch gone from the authority, its forks ghosts"),
    ("branch_delete.before_reclaim", "delete_branch", ALL, "some of the deleted branch's forks: ghosts"),
    ("fork.after_reclaim_orphan", "put", ALL, "an orphan fork reclaimed, the new fork not yet made"),
    ("fork.after_create_store", "put", KV, "an empty fork store, unpublished: an orphan fork"),
    ("fork.after_copy_chunk", "put", KV, "a partly copied fork, unpublished: an orphan fork"),
    ("fork.after_create_branch", "put", LANCE, "a native branch, unpublished: an orphan fork"),
    ("fork.before_publish", "put", ALL, "a complete fork, pin not published: the next write self-heals"),
    ("fork.after_publish", "put", ALL, "the fork published, the write not done: not applied"),
    ("write.before_commit", "put", ALL, "the branch forked if it had to be, the write not done"),
    ("write.after_sidecar", "put", LANCE, "a sidecar, no commit: recovery discards it"),
    ("write.after_store_commit", "put", LANCE, "some datasets committed, unpublished: recovery rolls back"),
    ("publish.before_manifest_cas", "put", LANCE, "every dataset committed, unpublished: roll forward"),
    ("publish.after_manifest_cas", "put", LANCE, "published, the sidecar not deleted: recovery drops it"),
    ("write.after_commit", "put", ALL, "the write complete"),
    ("recovery.before_complete_drop", "open", ALL, "a tombstone still pending: the next open completes it"),
    ("recovery.before_resume_backfill", "open", ALL, "a backfill still pending: the next open resumes it"),
    ("recovery.before_roll_forward_publish", "open", LANCE, "the sidecar pending: decided again next open"),
    ("recovery.before_roll_back_publish", "open", LANCE, "restored, unpublished: decided again next open"),
    ("recovery.before_drift_restore", "open", LANCE, "HEAD drift with no sidecar: restored next open"),
    ("recovery.before_publish", "open", LANCE, "recovery decided, not published: redone next open"),
    ("optimize.before_compact", "optimize", KV, "nothing observable"),
    ("optimize.before_publish", "optimize", LANCE, "compacted, unpublished, an optimize sidecar: roll forward"),
    ("cleanup.before_complete_drop", "cleanup", ALL, "a tombstone this cleanup read, not yet completed: the "
     "next open or cleanup completes it"),
    ("cleanup.before_sweep", "cleanup", ALL, "nothing: the authority read, no store examined yet"),
    ("cleanup.before_reclaim", "cleanup", ALL, "nothing reclaimed yet for this ghost; no lock held (where other "
     "workers' calls interleave with a sweep)"),
    ("cleanup.before_drop", "cleanup", ALL, "a ghost not yet reclaimed: the next cleanup does it"),
    ("cleanup.before_fork_delete", "cleanup", ALL, "a ghost fork not yet reclaimed: the next cleanup does it"),
    ("lock.wait", "lock", ALL, "nothing: a call waits for a lock another call holds (reached only when two "
     "calls overlap)"),
]

TAGS = {name: frozenset({FIRST_WRITE}) for name, *_ in _ENTRIES if name.startswith("fork.")}
TAGS["cleanup.before_reclaim"] = frozenset({INTERLEAVE})
TAGS["recovery.before_publish"] = frozenset({RACING_OPEN})
TAGS["lock.wait"] = frozenset({WAITS})

CATALOGUE: dict[str, EngineFailpoint] = {
    name: EngineFailpoint(name, op, leaves, TAGS.get(name, frozenset()), be) for name, op, be, leaves in _ENTRIES}
register(CATALOGUE.values())
REQUIRED = ("drop.after_tombstone", "fork.before_publish", "optimize.before_publish", "recovery.before_publish",
            "create.after_store")


def for_backend(backend: str) -> dict[str, EngineFailpoint]:
    """The catalogue of one backend's target."""
    return {n: fp for n, fp in CATALOGUE.items() if backend in fp.backends}
