"""Versioned writes and their recovery (Lance; DESIGN.md section 4, items 6 and 7).

A logical write commits to several datasets, each on its own, then publishes all their versions with one
compare-and-swap of the authority. A sidecar written before the commits lets open finish the write:
roll forward (publish) when every commit landed, or roll back (restore each dataset to its pin and publish
the restored version), so that after open every published version equals its dataset's HEAD (I7).
On key-value backends the same call is one atomic write followed by the authority change, if any.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from model import errors as E
from sut.engine.authority import Authority
from sut.engine.core import storage_call
from sut.engine.naming import parse_store

Items = list[tuple[str, bytes, bytes | None]]


def commit(w: Any, auth: Authority, items: Items, change: Callable[[Authority], Any] | None = None,
           kind: str = "write") -> Authority:
    core = w.core
    if not core.versioned:
        core.write(w.handles, items)
        return core.update(w.handles, change) if change is not None else auth
    by_store: dict[str, list[tuple[bytes, bytes | None]]] = defaultdict(list)
    for store, k, v in items:
        by_store[store].append((k, v))
    bases = {s: auth.version(s) for s in by_store}
    drifted = sorted(s for s in by_store if core.head(s) != bases[s])
    if drifted:  # an earlier write's commits are unresolved: a sidecar must only ever describe our own
        raise E.StorageError(f"HEAD is ahead of the published version on {drifted}; the next open recovers it")
    name = storage_call("write sidecar", core.sidecars.write, {"kind": kind, "stores": bases})
    core.fp.hit("write.after_sidecar")
    try:
        heads = {}
        for store in sorted(by_store):
            heads[store] = storage_call(f"commit {store}", core.backend.commit, store, bases[store],
                                        by_store[store])
            core.fp.hit("write.after_store_commit")
        core.fp.hit("publish.before_manifest_cas")
        auth = core.update(None, lambda a: _publish(a, bases, heads, change))
        core.fp.hit("publish.after_manifest_cas")
    except Exception:
        try:  # honest failure: undo what committed, so the next write finds HEAD == pin
            core.steps["recovery.resolve"](w, name)
        except Exception:
            pass  # the sidecar stays; the next open resolves it
        raise
    storage_call("delete sidecar", core.sidecars.delete, name)
    return auth


def _publish(a: Authority, bases: dict[str, int | None], heads: dict[str, int],
             change: Callable[[Authority], Any] | None = None) -> None:
    for store, base in bases.items():
        if a.version(store) != base:
            raise E.Conflict(f"{store} was published at {a.version(store)}, expected {base}")
        a.versions[store] = heads[store]
    if change is not None:
        change(a)


def recover(w: Any) -> None:
    """Resolve every pending sidecar, then roll back any HEAD that drifted from its pin without one."""
    core = w.core
    storage_call("sweep sidecars", core.sidecars.sweep_temporaries)
    for name in storage_call("list sidecars", core.sidecars.names):
        core.steps["recovery.resolve"](w, name)
    heal_drift(w)


def resolve(w: Any, name: str) -> None:
    """Finish one interrupted write: idempotent, and safe when another opener resolves it too."""
    core = w.core
    intent = storage_call("read sidecar", core.sidecars.read, name)
    for _attempt in range(8):
        if intent is None:
            break
        auth = core.read_authority()
        live = auth.derived()
        bases = {s: b for s, b in intent["stores"].items() if s in live}
        if not bases or any(auth.version(s) != b for s, b in bases.items()):
            break  # published already (by the writer or another opener), or dropped meanwhile
        heads = {s: core.head(s) for s in bases}
        if all(_landed(intent["kind"], heads[s], b) for s, b in bases.items()):
            core.fp.hit("recovery.before_roll_forward_publish")
            target = heads
        else:
            target = {s: (core.steps["recovery.restore"](w, s, b) if heads[s] != b else b)
                      for s, b in bases.items()}
            core.fp.hit("recovery.before_roll_back_publish")
        core.fp.hit("recovery.before_publish")
        try:
            core.steps["recovery.publish" if target is heads else "recovery.publish_rollback"](w, bases, target)
            break
        except E.Conflict:
            continue  # someone published meanwhile: re-read and decide again
    storage_call("delete sidecar", core.sidecars.delete, name)


def _landed(kind: str, head: int, base: int) -> bool:
    # A write commits exactly one version per dataset; compaction commits one or more.
    return head == base + 1 if kind == "write" else head > base


def restore(w: Any, store: str, version: int) -> int:
    """Put the pinned content back on top of HEAD; returns the new HEAD (its content is the pin's)."""
    return storage_call(f"restore {store}", w.core.backend.restore, store, version)


def publish_recovered(w: Any, bases: dict[str, int | None], target: dict[str, int]) -> None:
    w.core.update(None, lambda a: _publish(a, bases, target))


def heal_drift(w: Any) -> None:
    """A HEAD ahead of its pin with no sidecar (a lost or torn one) is rolled back to the pin."""
    core = w.core
    auth = core.read_authority()
    for store in sorted(auth.derived()):
        pinned = auth.version(store)
        if pinned is not None and core.head(store) != pinned:
            core.fp.hit("recovery.before_drift_restore")
            head = core.steps["recovery.restore"](w, store, pinned)
            core.fp.hit("recovery.before_publish")
            core.steps["recovery.publish_rollback"](w, {store: pinned}, {store: head})


def optimize(w: Any) -> None:
    """Compact every published store and publish the compacted version; refuse while recovery is due."""
    core = w.core
    if storage_call("list sidecars", core.sidecars.names):
        raise E.Conflict("a recovery sidecar is pending: reopen the database before optimizing")
    for store in sorted(core.read_authority().derived()):
        fork = parse_store(store).fork  # type: ignore[union-attr]
        # No write may land between compact and publish, so hold the store's write lock; but only try it:
        # a writer inside the store (possibly this very thread, running optimize from inside its write)
        # makes optimize skip the store for now rather than wait on it forever. The next optimize compacts it.
        lock = core.locks.try_write((fork.table, fork.branch))
        if lock is None:
            continue
        try:
            _optimize_store(w, store)
        finally:
            lock.release()


def _optimize_store(w: Any, store: str) -> None:
    core = w.core
    auth = core.read_authority()
    if store not in auth.derived():
        return
    base = auth.version(store)
    name = storage_call("write sidecar", core.sidecars.write,
                        {"kind": "optimize", "stores": {store: base}})
    try:
        head = storage_call(f"compact {store}", core.backend.compact, store)
        if head != base:
            core.fp.hit("optimize.before_publish")
            core.steps["optimize.publish"](w, store, base, head)
    except Exception:
        try:  # finish or undo the compaction now, so the next write finds HEAD == pin
            core.steps["recovery.resolve"](w, name)
        except Exception:
            pass  # the sidecar stays; the next open resolves it
        raise
    storage_call("delete sidecar", core.sidecars.delete, name)


def publish_optimized(w: Any, store: str, base: int | None, head: int) -> None:
    w.core.update(None, lambda a: _publish(a, {store: base}, {store: head}))
