"""The buggy versions of protocol steps that the known-bug mutants swap in (sut.mutants). Each re-creates
one bug class of the seeds on the real engine, in one place, so the suite can prove it catches it."""
from __future__ import annotations

import sys
from typing import Any

from model import errors as E
from sut.engine import versioned
from sut.engine.authority import Authority
from sut.engine.ddl import CHUNK
from sut.engine.naming import StoreName, parse_store


# --- seed 000: ghost tables -------------------------------------------------------------------------

def _forget_table(a: Authority, name: str) -> None:
    """Remove a table's catalog rows and pins (what a correct drop does last, and these bugs do first)."""
    del a.tables[name]
    for pins in a.pins.values():
        pins.pop(name, None)
    a.prune_versions()


def _table_stores(core: Any, name: str, tid: int) -> list[tuple[str, StoreName]]:
    """The stores of table incarnation (name, tid), forks before the stores they were forked from."""
    parsed = [(s, parse_store(s)) for s in core.stores()]
    mine = [(s, p) for s, p in parsed if p is not None and (p.fork.table, p.fork.tid) == (name, tid)]
    return sorted(mine, key=lambda sp: -sp[1].fork.bid)  # stable: ties keep the backend's listing order


def catalog_first_drop(w: Any, name: str) -> None:
    """Remove the catalog rows first, then drop the stores, swallowing their errors (reports success)."""
    core = w.core
    auth = core.read_authority()
    if auth.live(name) is None:
        raise E.NoSuchTable(name)
    tid = auth.tables[name]["id"]

    core.update(None, lambda a: _forget_table(a, name))
    core.fp.hit("drop.after_tombstone")
    for store, _parsed in _table_stores(core, name, tid):
        try:
            core.drop_store(store)
        except Exception:
            pass  # fire and forget: the bug


def drop_without_tombstone(w: Any, name: str) -> None:
    """Drop the stores of a live table, then remove its rows: a crash in between leaves a visible table
    whose stores are gone."""
    core = w.core
    auth = core.read_authority()
    if auth.live(name) is None:
        raise E.NoSuchTable(name)
    auth.tables[name]["state"] = "dropping"  # only in memory: complete_drop wants to see it
    tid = auth.tables[name]["id"]
    for store, parsed in _table_stores(core, name, tid):
        core.drop_store(store)
        core.fp.hit("drop.after_index_stores" if parsed.kind == "index" else "drop.after_primary_stores")

    core.update(None, lambda a: _forget_table(a, name))


def leak_lock_on_error(w: Any) -> None:
    """Release the DDL lock only when no exception is in flight: a failed create keeps it forever."""
    if sys.exc_info()[1] is None:
        w.core.locks.ddl.release()


def reopen_incarnation_by_name(w: Any, name: str) -> int | None:
    """Catalog-only reconcile: forget the tombstoned rows, keep the stores, and let the same-name create
    reopen them by name (as LMDB reuses a named sub-database): the new table inherits the old records."""
    auth = w.core.read_authority()
    tid = auth.tables[name]["id"]

    w.core.update(None, lambda a: _forget_table(a, name))
    return tid


# --- seed 004: silent index gaps --------------------------------------------------------------------

def backfill_swallowing_failed_puts(w: Any, auth: Authority, items: list, checkpoint: Any) -> None:
    """A failed chunk of index puts is logged and skipped; the backfill goes on and ends `ready`."""
    try:
        versioned.commit(w, auth, items) if items else None
    except Exception:
        pass
    w.core.update(None, checkpoint)


def backfill_last_put_unchecked(w: Any, auth: Authority, items: list, checkpoint: Any) -> None:
    """Failures are flagged, except in the last chunk, whose rejection bypasses the error flag."""
    from sut.engine.ddl import write_chunk
    try:
        write_chunk(w, auth, items, checkpoint)
    except Exception:
        if len(items) >= CHUNK:
            raise
        w.core.update(None, checkpoint)


# --- seeds 001-003: forks, publish, optimize and recovery -------------------------------------------

def no_fork_self_heal(w: Any, names: list[str]) -> None:
    """Trust that no fork can exist yet: an orphan fork makes every later write fail ("run cleanup")."""


def reclaim_only_deleted_branches(w: Any, store: str, lock_key: tuple[str, str]) -> str:
    """The reconciler reclaims forks of deleted branches only: orphans of live branches stay forever."""
    if lock_key[1] in w.core.read_authority().branches:
        return "kept"
    from sut.engine.maintenance import reclaim_store
    return reclaim_store(w, store, lock_key)


def sweep_from_cached_authority(w: Any, auth: Authority) -> Any:
    """Sweep with the authority snapshot this worker took at its first cleanup, and decide on it too: a
    fork published since looks unreferenced and is destroyed."""
    from sut.engine.maintenance import sweep
    cached = w.__dict__.setdefault("_cached_authority", auth)
    real = w.core.read_authority

    def stale(*_a: Any) -> Authority:
        return cached
    w.core.read_authority = stale
    try:
        return sweep(w, cached)
    finally:
        w.core.read_authority = real


def reclaim_without_lock(w: Any, store: str, lock_key: tuple[str, str]) -> str:
    """Decide and destroy without the store's write lock: a fork between its copy and its publish dies."""
    if store in w.core.read_authority().derived():
        return "kept"
    w.core.fp.hit("cleanup.before_drop")
    w.core.drop_store(store)
    return "reclaimed"


def branch_delete_error_after_flip(w: Any, name: str, bid: int) -> None:
    """After the authority flip, a failing reclaim surfaces as the operation's error: the caller is told
    the delete failed although the branch is gone."""
    w.core.fp.hit("branch_delete.after_flip")
    w.core.steps["branch_delete.reclaim"](w, name, bid)


def branch_row_then_pins(w: Any, name: str, parent: str) -> None:
    """Create the branch row and its pins in two authority writes: a crash between leaves a branch on which
    no table can be read."""
    def row(a: Authority) -> None:
        if parent not in a.branches:
            raise E.NoSuchBranch(parent)
        if name in a.branches:
            raise E.BranchExists(name)
        a.branches[name] = {"id": a.take_id(), "parent": parent}
        a.pins[name] = {}
    w.core.update(None, row)
    w.core.fp.hit("branch.after_publish")  # the row is published, its pins are not
    w.core.update(None, lambda a: a.pins[name].update(a.pins[parent]))


def optimize_without_publish(w: Any, store: str, base: int | None, head: int) -> None:
    """Compaction moves HEAD; the manifest keeps the old version (omnigraph #141)."""


def rollback_without_publish(w: Any, bases: dict, target: dict) -> None:
    """Recovery restores the dataset and never publishes the restored version."""


def rollforward_at_stale_version(w: Any, name: str) -> None:
    """Roll forward with the versions read before a second opener published: the compare-and-swap fails
    and the error surfaces from open instead of re-reading (seed 003)."""
    core = w.core
    intent = core.sidecars.read(name)
    if intent is None:
        return
    auth = core.read_authority()
    bases = {s: b for s, b in intent["stores"].items() if s in auth.derived()}
    heads = {s: core.head(s) for s in bases}
    core.fp.hit("recovery.before_publish")
    if all(heads[s] == b + 1 for s, b in bases.items()) and bases:
        versioned.publish_recovered(w, bases, heads)  # a Conflict here is not retried: the bug
    else:
        versioned.resolve(w, name)
        return
    core.sidecars.delete(name)


def fork_error_as_already_exists(w: Any, auth: Authority, src: str, dst: str) -> Any:
    """Every fork error read as "the fork already exists" (left by an interrupted earlier fork), so the
    write carries on with it: a transient error on a fresh fork publishes a store that is missing or only
    half copied, and the branch silently loses what it read from its parent (Omnigraph #93's ForkOutcome)."""
    from sut.engine.branches import copy_store
    core = w.core
    try:
        return copy_store(w, auth, src, dst)
    except Exception:
        if core.versioned:
            return core.head(dst) if dst in core.stores() else auth.version(src)
        return None


def sweep_from_branch_list_at_start(w: Any, auth: Authority) -> Any:
    """The reconciler takes the list of live branches once, at the start of its sweep, then walks the
    tables one at a time, listing each table's stores when it reaches it. A store of a branch missing from
    that list is a "confirmed orphan" (no writer can hold a branch that does not exist) and is destroyed
    under its lock without a fresh read. A branch created during the sweep is missing from the list too:
    the fork its first write published meanwhile is destroyed (Omnigraph review: stale live_branches)."""
    from sut.engine.maintenance import reclaim_store, report_of
    core = w.core
    live = set(auth.branches)
    verdicts: list[tuple[str, str]] = []
    tables = sorted({p.fork.table for p in map(parse_store, core.stores()) if p is not None})
    for table in tables:
        listed = [s for s in core.stores() if (p := parse_store(s)) is not None and p.fork.table == table]
        for store in sorted(listed, key=lambda s: (-parse_store(s).fork.bid, s)):  # type: ignore[union-attr]
            fork = parse_store(store).fork  # type: ignore[union-attr]
            if store in auth.derived() and fork.branch in live:
                continue  # referenced at the start: not a candidate
            core.fp.hit("cleanup.before_reclaim")
            if fork.branch in live:  # a live branch: the fresh re-check under the lock (correct)
                verdict = reclaim_store(w, store, (table, fork.branch))
            else:
                lock = core.locks.try_write((table, fork.branch))
                if lock is None:
                    verdict = "skipped"
                else:
                    try:
                        core.fp.hit("cleanup.before_drop")
                        core.drop_store(store)
                        verdict = "reclaimed"
                    except Exception as e:
                        verdict = f"{type(e).__name__}: {e}"
                    finally:
                        lock.release()
            verdicts.append((store, verdict))
    return report_of(verdicts)



def complete_drop_without_ddl_lock(w: Any, name: str, seen: int) -> None:
    """The reconciler finishes the drops it saw tombstoned as a worker of its own, without the create path's
    exclusive lock (it reasons that a tombstoned table is invisible, so no call can be using it). The
    drop that left the tombstone may still be running: each drops the stores it listed, and the second
    to reach a store finds it gone (seed 000: concurrent workers reconciling the same table)."""
    w.core.steps["drop.complete"](w, name)
