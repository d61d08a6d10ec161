"""The reference engine (sut/) as three targets, one per backend: everything the suite needs to know of it
that is not in the contract - its failpoints and their tags, the primitives each operation calls, the store
kinds a primitive fault can aim at, its known-bug mutants with the scenario of each, and its seed scenarios.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sut
from harness.scenarios import runs_on
from harness.target import Capabilities, MutantInfo, SimpleTarget
from sut.failpoints import for_backend
from targets.scenarios import SCENARIOS

BACKENDS = sut.BACKENDS

# The primitive calls each operation makes, on each kind of store (and apart: what a branch's first write,
# a backfill and a recovering open make), as tests/primitive_calls.py measures them (tests/test_target_seam.py
# checks they still agree): a drawn primitive fault aims at one of these, since a fault on a call the
# operation never makes cannot fire.
KV_PRIMITIVES: dict[str, tuple[tuple[str, str], ...]] = {
    "backfill": (("put", "index"), ("read", "index")),
    "cleanup": (("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "create_branch": (("put", "catalog"), ("read", "catalog")),
    "create_index": (
        ("put", "index"), ("put", "catalog"), ("create", "index"), ("read", "table"),
        ("read", "index"), ("read", "catalog")),
    "create_table": (("put", "catalog"), ("create", "table"), ("create", "index"), ("read", "catalog")),
    "delete": (("put", "table"), ("put", "index"), ("read", "table"), ("read", "catalog")),
    "delete_branch": (("put", "catalog"), ("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "drop_table": (("put", "catalog"), ("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "first_write": (
        ("put", "table"), ("put", "index"), ("put", "catalog"), ("create", "table"),
        ("create", "index"), ("read", "table"), ("read", "index"), ("read", "catalog")),
    "open": (("put", "catalog"), ("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "optimize": (("read", "index"), ("read", "catalog"), ("compact", "table"), ("compact", "index")),
    "put": (("put", "table"), ("put", "index"), ("read", "table"), ("read", "index"), ("read", "catalog")),
}
LANCE_PRIMITIVES: dict[str, tuple[tuple[str, str], ...]] = {
    "backfill": (("put", "index"),),
    "cleanup": (("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "create_branch": (("put", "catalog"), ("read", "catalog")),
    "create_index": (("put", "index"), ("put", "catalog"), ("create", "index"), ("read", "table"), ("read", "catalog")),
    "create_table": (("put", "catalog"), ("create", "table"), ("create", "index"), ("read", "catalog")),
    "delete": (("put", "table"), ("put", "index"), ("put", "catalog"), ("read", "table"), ("read", "catalog")),
    "delete_branch": (("put", "catalog"), ("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "drop_table": (("put", "catalog"), ("drop", "table"), ("drop", "index"), ("read", "catalog")),
    "first_write": (
        ("put", "table"), ("put", "index"), ("put", "catalog"), ("fork", "table"),
        ("fork", "index"), ("read", "table"), ("read", "catalog")),
    "open": (("put", "catalog"), ("drop", "table"), ("drop", "index"), ("read", "catalog"), ("restore", "table")),
    "optimize": (("put", "catalog"), ("read", "catalog"), ("compact", "table"), ("compact", "index")),
    "put": (("put", "table"), ("put", "index"), ("put", "catalog"), ("read", "table"), ("read", "catalog")),
}
STORES = ("table", "index", "catalog", "any")
PROGRAMS_PER_BATCH = {"lmdb": 20, "rocksdb": 6, "lance": 3}  # a stress batch is a few seconds on each

# Which named scenario re-creates each mutant's incident.
SCENARIO_OF = {
    "catalog_first_drop": "ghost table after a failed store drop",
    "no_tombstone": "resurrection after restart",
    "create_lock_leak": "create lock leaked on error",
    "catalog_only_reconcile": "create over a tombstone",
    "backfill_swallows_failed_puts": "backfill with every 10th index put failing",
    "backfill_last_put_unchecked": "backfill with every 10th index put failing",
    "no_fork_self_heal": "crash between fork and publish on a live branch",
    "fork_error_as_already_exists": "transient error in a first-write fork",
    "reclaim_only_deleted_branches": "recreate over an orphaned fork",
    "reclaim_from_cached_authority": "cleanup after a fork published since its last sweep",
    "reclaim_without_lock": "cleanup racing a first write",
    "reclaim_from_sweep_start_branch_list": "branch created and forked while cleanup sweeps",
    "branch_delete_error_after_flip": "branch delete failing after the authority flip",
    "non_atomic_branch_create": "crash between fork and publish on a live branch",
    "optimize_without_publish": "optimize without publish",
    "rollback_without_publish": "roll-back drift",
    "rollforward_at_stale_version": "two openers racing one sidecar",
}


def _opener(backend: str) -> Any:
    def open_(path: str, faults: Any = None, mutants: Iterable[str] = ()) -> Any:
        return sut.open_database(backend, path, faults=faults, mutants=tuple(mutants))
    return open_


def reference(backend: str) -> SimpleTarget:
    """The reference engine on one backend."""
    return SimpleTarget(
        name=backend, opener=_opener(backend),
        capabilities=Capabilities(branches=True, indexes=True, backfill=True, versions=backend == "lance",
                                  optimize=True, cleanup=True, workers=True, inventory=True, failpoints=True,
                                  primitives=True),
        catalogue=for_backend(backend), primitives=LANCE_PRIMITIVES if backend == "lance" else KV_PRIMITIVES,
        stores=STORES,
        mutants={m.name: MutantInfo(m.name, m.invariant, SCENARIO_OF.get(m.name), m.seed)
                 for m in sut.MUTANTS.values() if backend in m.backends},
        scenarios=tuple(s for s in SCENARIOS if runs_on(s, for_backend(backend))),
        programs_per_batch=PROGRAMS_PER_BATCH[backend])


LMDB, ROCKSDB, LANCE = (reference(b) for b in BACKENDS)
TARGETS = (LMDB, ROCKSDB, LANCE)
