"""Table DDL protocols: create (under the DDL lock, released on every path), the tombstoned drop and its
completion, and index creation with a checkpointed, resumable backfill (DESIGN.md section 4, items 2-4).
"""
from __future__ import annotations

from typing import Any

from model import errors as E
from sut.engine import versioned
from sut.engine.authority import BUILDING, FAILED, READY, Authority
from sut.engine.codec import index_entries, key_bytes, key_str, record_of
from sut.engine.naming import Fork, parse_store

CHUNK = 8  # records per backfill chunk: small, so faults land inside backfills of small tables


def create_table(w: Any, name: str, attrs: tuple[str, ...]) -> None:
    core = w.core
    core.steps["create.lock"](w)
    try:
        auth = core.read_authority(w.handles)
        reuse = None
        if name in auth.tables:
            if auth.tables[name]["state"] == "live":
                raise E.TableExists(name)
            reuse = core.steps["create.over_tombstone"](w, name)
        reserved: dict[str, int] = {} if reuse is None else {"id": reuse}
        if reuse is None:
            core.update(w.handles, lambda a: reserved.setdefault("id", a.take_id()))
        core.fp.hit("create.after_reserve")
        fork = Fork(name, reserved["id"], "main", 0)
        stores = [fork.data()] + [fork.index(a) for a in attrs]
        made: list[str] = []
        existing = core.stores() if reuse is not None else set()
        try:
            for store in stores:
                if store in existing:
                    continue  # an incarnation reopened by name (only a mutant reuses one)
                core.create_store(store)
                made.append(store)
                core.fp.hit("create.after_create_store")
            core.fp.hit("create.after_store")
            heads = {s: core.head(s) for s in stores}
            core.update(w.handles, lambda a: _publish_table(a, name, fork, attrs, heads))
        except Exception:
            for store in made:  # unpublished stores are discarded; what this misses, cleanup reclaims
                try:
                    core.drop_store(store)
                except Exception:
                    pass
            raise
    finally:
        core.steps["create.unlock"](w)


def complete_drop_before_create(w: Any, name: str) -> int | None:
    """A same-name create over a tombstone completes the drop first; the new table is a new incarnation
    (None: allocate a fresh id)."""
    w.core.steps["drop.complete"](w, name)
    return None


def _publish_table(a: Authority, name: str, fork: Fork, attrs: tuple[str, ...],
                   heads: dict[str, int | None]) -> None:
    a.versions.update({s: v for s, v in heads.items() if v is not None})
    a.tables[name] = {"id": fork.tid, "state": "live",
                      "indexes": {x: {"state": READY, "checkpoint": {}, "done": []} for x in attrs}}
    for branch in a.branches:
        a.pins.setdefault(branch, {})[name] = fork.id


def lock_ddl(w: Any) -> None:
    w.core.locks.acquire_ddl()


def unlock_ddl(w: Any) -> None:
    w.core.locks.ddl.release()


def drop_table(w: Any, name: str) -> None:
    core = w.core
    core.steps["create.lock"](w)
    try:
        core.steps["drop.run"](w, name)
    finally:
        core.steps["create.unlock"](w)


def tombstone_then_drop(w: Any, name: str) -> None:
    """Persist the tombstone first (the table is invisible to every worker from here on), then drop."""
    def tombstone(a: Authority) -> None:
        if a.live(name) is None:
            raise E.NoSuchTable(name)
        a.tables[name]["state"] = "dropping"
    w.core.update(w.handles, tombstone)
    w.core.fp.hit("drop.after_tombstone")
    w.core.steps["drop.complete"](w, name)


def complete_drop(w: Any, name: str) -> None:
    """Drop every store of the tombstoned table (all forks, orphans too), then remove its catalog rows."""
    core = w.core
    auth = core.read_authority(w.handles)
    if name not in auth.tables or auth.tables[name]["state"] == "live":
        return  # completed by someone else meanwhile, or never dropped
    tid = auth.tables[name]["id"]
    parsed_all = [(s, parse_store(s)) for s in sorted(core.stores())]
    mine = [(s, p) for s, p in parsed_all if p is not None and p.fork.table == name and p.fork.tid == tid]
    # Index stores, then primary stores, then the catalog rows: the fixed order of the ghost-table seed.
    mine.sort(key=lambda sp: -sp[1].fork.bid)  # forks before the stores they were forked from
    for store, parsed in mine:
        if parsed.kind == "index":
            core.drop_store(store)
    core.fp.hit("drop.after_index_stores")
    for store, parsed in mine:
        if parsed.kind == "data":
            core.drop_store(store)
    core.fp.hit("drop.after_primary_stores")

    def remove_rows(a: Authority) -> None:
        if a.tables.get(name, {}).get("id") == tid:
            del a.tables[name]
            for pins in a.pins.values():
                pins.pop(name, None)
            a.prune_versions()
    core.update(w.handles, remove_rows)
    core.fp.hit("drop.after_catalog")


# --- indexes -----------------------------------------------------------------------------------------

def create_index(w: Any, table: str, attr: str) -> None:
    core = w.core
    core.steps["create.lock"](w)
    try:
        auth = core.read_authority(w.handles)
        t = auth.live(table)
        if t is None:
            raise E.NoSuchTable(table)
        if attr in t["indexes"]:
            if t["indexes"][attr]["state"] == READY:
                raise E.IndexExists(f"{table}.{attr}")
        else:
            _describe_index(core, w, table, t["id"], attr, auth.forks(table))
            core.fp.hit("index.after_descriptor")
        core.steps["backfill.run"](w, table, attr)
    finally:
        core.steps["create.unlock"](w)


class _ForksMoved(Exception):
    """The table gained a fork after its index stores were made (another worker's first write)."""


def _describe_index(core: Any, w: Any, table: str, tid: int, attr: str, forks: Any) -> None:
    """Index stores for every fork of the table, then the descriptor, in one compare-and-swap that checks
    the forks are still those: a write on a parent branch may fork the table for a child meanwhile (copy
    on write), and a descriptor covering a fork with no index store would fail every find there for good.
    If the forks moved, make the new forks' stores and try again."""
    existing, made = core.stores(), []
    while True:
        for store in [f.index(attr) for f in sorted(forks, key=lambda f: f.bid)]:  # a descriptor never
            if store in made:                                                      # names a missing store
                continue
            # A ghost of an interrupted create_index (or its debris): start afresh. Listed again first:
            # on Lance, dropping the main fork's store took its branches (the children) with it.
            if store in existing and store in core.stores():
                core.drop_store(store)
            core.create_store(store)
            made.append(store)
        core.fp.hit("index.after_stores")
        heads = {s: core.head(s) for s in made}

        def describe(a: Authority, heads: dict[str, Any] = heads) -> None:
            if a.live(table) is None or a.tables[table]["id"] != tid:
                raise E.NoSuchTable(table)
            if not {f.index(attr) for f in a.forks(table)} <= set(made):
                raise _ForksMoved()
            a.tables[table]["indexes"][attr] = {"state": BUILDING, "checkpoint": {}, "done": []}
            a.versions.update({s: v for s, v in heads.items() if v is not None})
        try:
            core.update(w.handles, describe)
            return
        except _ForksMoved:
            forks = core.read_authority(w.handles).forks(table)


def backfill(w: Any, table: str, attr: str) -> None:
    """Index every fork of the table, CHUNK records at a time, persisting a checkpoint after each chunk.

    A failed put marks the index `failed`, keeps the checkpoint and raises: never `ready` with a gap."""
    core = w.core
    try:
        while True:
            auth = core.read_authority(w.handles)
            t = auth.live(table)
            if t is None or attr not in t["indexes"]:
                return  # dropped meanwhile: nothing left to build
            desc = t["indexes"][attr]
            if desc["state"] == READY:
                return
            pending = _pending(auth, table, desc)
            if not pending:
                core.fp.hit("backfill.before_ready")
                core.update(w.handles, lambda a, tid=t["id"]: _set_index(a, table, tid, attr, state=READY))
                continue  # re-read: ready, or a fork appeared meanwhile and needs its own pass
            backfill_chunk(w, table, t["id"], attr, pending[0], desc["checkpoint"].get(pending[0].id))
    except Exception:
        try:
            core.update(w.handles, lambda a: _set_index(a, table, None, attr, state=FAILED))
        except Exception:
            pass  # "building" is as honest as "failed": both refuse queries and both resume at open
        raise


def backfill_chunk(w: Any, table: str, tid: int, attr: str, fork: Fork, checkpoint: str | None) -> None:
    core = w.core
    with core.locks.write([(table, fork.branch)]):
        auth = core.read_authority()
        start = None if checkpoint is None else key_bytes(checkpoint) + b"\x00"
        rows = core.scan(w.handles, auth, fork.data(), b"", start, CHUNK)
        if not rows:
            core.update(w.handles, lambda a: _fork_done(a, table, tid, attr, fork))
            return
        items = [(fork.index(attr), entry, b"") for k, v in rows
                 for entry in index_entries(record_of(v), key_str(k), attr)]
        last = key_str(rows[-1][0])
        core.steps["backfill.write_chunk"](w, auth, items, lambda a: _checkpoint(a, table, tid, attr, fork, last))
        core.fp.hit("backfill.after_checkpoint")


def write_chunk(w: Any, auth: Authority, items: list[tuple[str, bytes, bytes | None]],
                checkpoint: Any) -> None:
    """Index entries of one chunk, then the checkpoint past them. On key-value stores these are two
    writes (the window `backfill.before_checkpoint`); on versioned stores one publish covers both."""
    core = w.core
    if core.versioned:
        core.fp.hit("backfill.before_checkpoint")
        versioned.commit(w, auth, items, checkpoint, kind="write") if items else core.update(None, checkpoint)
        core.fp.hit("backfill.after_chunk")
        return
    core.write(w.handles, items)
    core.fp.hit("backfill.after_chunk")
    core.fp.hit("backfill.before_checkpoint")
    core.update(None, checkpoint)


def _index(a: Authority, table: str, tid: int | None, attr: str) -> dict[str, Any] | None:
    t = a.live(table)
    if t is None or (tid is not None and t["id"] != tid) or attr not in t["indexes"]:
        return None
    return t["indexes"][attr]


def _pending(a: Authority, table: str, desc: dict[str, Any]) -> list[Fork]:
    return [f for f in a.forks(table) if f.id not in desc["done"]]


def _set_index(a: Authority, table: str, tid: int | None, attr: str, state: str) -> None:
    desc = _index(a, table, tid, attr)
    if state == READY and desc is not None and _pending(a, table, desc):
        return  # never ready while a fork is unindexed
    if desc is not None and desc["state"] != READY:
        desc["state"] = state
        if state == READY:
            desc["checkpoint"], desc["done"] = {}, []


def _checkpoint(a: Authority, table: str, tid: int, attr: str, fork: Fork, last: str) -> None:
    desc = _index(a, table, tid, attr)
    if desc is not None:
        desc["checkpoint"][fork.id] = last


def _fork_done(a: Authority, table: str, tid: int, attr: str, fork: Fork) -> None:
    desc = _index(a, table, tid, attr)
    if desc is not None and fork.id not in desc["done"]:
        desc["done"].append(fork.id)
