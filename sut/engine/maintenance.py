"""Open-time recovery, optimize, cleanup and the inventory (DESIGN.md section 4, items 2, 4, 7, 8).

Open completes every tombstoned drop and resumes every unfinished backfill. Cleanup reclaims every store
the authority does not derive, one store at a time, deciding under that store's write lock with a fresh
authority read ("destroy only on proof"); a busy store is skipped, a failing one reported, and the sweep
goes on, so a second cleanup converges.
"""
from __future__ import annotations

from typing import Any

from model.contract import CleanupReport, Inventory
from model.errors import StorageError
from sut.engine import versioned
from sut.engine.authority import READY, Authority
from sut.engine.core import storage_call
from sut.engine.naming import parse_store


def bootstrap(w: Any) -> None:
    """Write the initial authority on a fresh path (idempotent; a racing opener's is as good)."""
    core = w.core
    raw, _token = storage_call("read authority", core.backend.auth_read)
    if raw is None:
        core.fp.hit("open.before_init")
        storage_call("init authority", core.backend.auth_write, Authority.initial().dumps(), None)


def recover(w: Any) -> None:
    core = w.core
    if core.versioned:
        versioned.recover(w)  # first: every pin == HEAD before anything else reads or writes
    auth = core.read_authority(w.handles)
    for name, t in sorted(auth.tables.items()):
        if t["state"] != "live":
            core.fp.hit("recovery.before_complete_drop")
            core.steps["drop.complete"](w, name)
    auth = core.read_authority(w.handles)
    for name, t in sorted(auth.tables.items()):
        for attr, desc in sorted(t["indexes"].items()):
            if desc["state"] != READY:
                core.fp.hit("recovery.before_resume_backfill")
                try:
                    core.steps["backfill.run"](w, name, attr)
                except Exception:
                    pass  # it stays failed and refuses queries; the next open or create_index resumes it


def optimize(w: Any) -> None:
    core = w.core
    if core.versioned:
        versioned.optimize(w)
        return
    auth = core.read_authority(w.handles)
    for store in sorted(auth.derived()):
        core.fp.hit("optimize.before_compact")
        try:
            storage_call(f"compact {store}", core.backend.compact, core.handle(w.handles, store))  # KV: no version
        except StorageError:
            if store in core.read_authority(w.handles).derived():
                raise
            # dropped since this optimize read the catalog (another worker's drop): nothing to compact


def cleanup(w: Any) -> CleanupReport:
    core = w.core
    auth = core.read_authority(w.handles)
    for name, t in sorted(auth.tables.items()):
        if t["state"] != "live":  # finish interrupted drops first: their stores are not derived
            core.fp.hit("cleanup.before_complete_drop")  # a tombstone read, no lock taken yet
            core.steps["cleanup.complete_drop"](w, name, t["id"])
    auth = core.read_authority(w.handles)
    core.fp.hit("cleanup.before_sweep")  # the authority read, no store examined yet
    return core.steps["cleanup.sweep"](w, auth)


def complete_drop_under_lock(w: Any, name: str, seen: int) -> None:
    """Finish a drop this cleanup saw tombstoned (incarnation `seen`), under the DDL lock and on a fresh
    read: another worker may have finished it meanwhile and created a table of that name."""
    core = w.core
    core.locks.acquire_ddl()
    try:
        core.steps["drop.complete"](w, name)
    finally:
        core.locks.ddl.release()


def sweep(w: Any, auth: Authority) -> CleanupReport:
    """Reclaim every store the (freshly read) authority does not derive, one at a time."""
    core = w.core
    verdicts: list[tuple[str, str]] = []
    ghosts = core.stores() - auth.derived()
    # Children before parents: a fork can only be forked from an older branch's fork (lower id).
    for store in sorted(ghosts, key=lambda s: (-(_bid(s)), s)):
        parsed = parse_store(store)
        if parsed is None:  # not a name this engine makes: never destroy what we cannot explain
            verdicts.append((store, "skipped"))
            continue
        core.fp.hit("cleanup.before_reclaim")  # between stores: the sweep holds no lock here
        verdicts.append((store, core.steps["cleanup.reclaim"](w, store, (parsed.fork.table, parsed.fork.branch))))
    return report_of(verdicts)


def report_of(verdicts: list[tuple[str, str]]) -> CleanupReport:
    """The cleanup report from one verdict per store: reclaimed, skipped, kept (published meanwhile, so no
    ghost any more) or the error that stopped its reclaim."""
    return CleanupReport(tuple(s for s, v in verdicts if v == "reclaimed"),
                         tuple(s for s, v in verdicts if v == "skipped"),
                         tuple((s, v) for s, v in verdicts if v not in ("reclaimed", "skipped", "kept")))


def reclaim_store(w: Any, store: str, lock_key: tuple[str, str]) -> str:
    """Destroy one unreferenced store, only on proof: its write lock held, no DDL in flight, and a fresh
    authority read. A create (of a table or an index) makes its stores before it publishes them, under the
    DDL lock: until then they look like ghosts, and reclaiming one left the create publishing a store that
    was gone (found by the generic interleavings)."""
    core = w.core
    lock = core.locks.try_write(lock_key)
    if lock is None:
        return "skipped"
    if not core.locks.try_ddl():
        lock.release()
        return "skipped"
    try:
        if store in core.read_authority(w.handles).derived():
            return "kept"
        core.fp.hit("cleanup.before_drop")
        if lock_key[1] != "main":
            core.fp.hit("cleanup.before_fork_delete")
        core.drop_store(store)
        return "reclaimed"
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    finally:
        core.locks.ddl.release()
        lock.release()


def inventory(w: Any) -> Inventory:
    core = w.core
    auth = core.read_authority(w.handles)
    tables = {n: {"id": t["id"], "state": t["state"],
                  "indexes": {a: {"state": d["state"], "checkpoint": dict(d["checkpoint"])}
                              for a, d in t["indexes"].items()}}
              for n, t in auth.tables.items()}
    pins = {(b, t): (auth.pin(b, t).data(), auth.version(auth.pin(b, t).data()))
            for b, p in auth.pins.items() for t in p if auth.live(t) is not None}
    sidecars = tuple(storage_call("list sidecars", core.sidecars.names)) if core.versioned else ()
    return Inventory(tables=tables, branches={b: dict(d) for b, d in auth.branches.items()}, pins=pins,
                     stores={s: core.head(s) for s in core.stores()}, derived=auth.derived(),
                     versions=dict(auth.versions), sidecars=sidecars, locks_held=core.locks.held())


def _bid(store: str) -> int:
    parsed = parse_store(store)
    return parsed.fork.bid if parsed is not None else -1
