"""Branch protocols: create and delete (authority first), and the fork of a table onto a branch on its
first write, with the self-heal of an orphan fork (DESIGN.md section 4, item 5).

Key-value stores have no versions, so a branch that has not forked a table reads its ancestor's store and
that store must not change under it: a write to a store forks every other branch that still reads it
first ("fork on first write" of either side). A fork copies the data and index stores in chunks, then
publishes the pin; a crash in between leaves an orphan fork that the next write reclaims and redoes.
"""
from __future__ import annotations

from typing import Any

from model import errors as E
from model.rules import MAIN
from sut.engine.authority import Authority
from sut.engine.core import storage_call
from sut.engine.naming import Fork

COPY_CHUNK = 16


def create_branch(w: Any, name: str, parent: str) -> None:
    core = w.core
    auth = core.read_authority(w.handles)
    if parent not in auth.branches:
        raise E.NoSuchBranch(parent)
    if name in auth.branches:
        raise E.BranchExists(name)
    # Hold the parent's write locks so no write lands on its stores between the snapshot and publish.
    with core.locks.write([(t, parent) for t in auth.tables]):
        core.fp.hit("branch.before_publish")
        core.steps["branch.publish"](w, name, parent)
    try:
        core.fp.hit("branch.after_publish")
    except Exception:
        core.update(None, lambda a: _unpublish_branch(a, name))  # roll back: all or nothing
        raise


def _unpublish_branch(a: Authority, name: str) -> None:
    if name in a.branches and not a.children(name):
        del a.branches[name]
        a.pins.pop(name, None)
        a.prune_versions()


def publish_branch(w: Any, name: str, parent: str) -> None:
    """One authority write: the branch row and all its pins together, so a crash leaves all or nothing."""
    def add(a: Authority) -> None:
        if parent not in a.branches:
            raise E.NoSuchBranch(parent)
        if name in a.branches:
            raise E.BranchExists(name)
        a.branches[name] = {"id": a.take_id(), "parent": parent}
        a.pins[name] = dict(a.pins[parent])
    w.core.update(w.handles, add)


def delete_branch(w: Any, name: str) -> None:
    core = w.core
    auth = core.read_authority(w.handles)
    if name not in auth.branches:
        raise E.NoSuchBranch(name)
    if auth.children(name):
        raise E.BranchInUse(f"{name} has children {auth.children(name)}")
    bid = auth.branches[name]["id"]

    def flip(a: Authority) -> None:
        if a.branches.get(name, {}).get("id") != bid:
            raise E.NoSuchBranch(name)
        if a.children(name):
            raise E.BranchInUse(name)
        del a.branches[name]
        a.pins.pop(name, None)
        a.prune_versions()
    core.fp.hit("branch_delete.before_flip")
    core.update(w.handles, flip)
    core.steps["branch_delete.finish"](w, name, bid)


def finish_branch_delete(w: Any, name: str, bid: int) -> None:
    """The flip is the commit point: what follows is best effort, and never an error to the caller."""
    try:
        w.core.fp.hit("branch_delete.after_flip")
        w.core.steps["branch_delete.reclaim"](w, name, bid)
    except Exception:
        pass  # unreclaimed forks are ghosts for cleanup


def reclaim_branch_forks(w: Any, name: str, bid: int) -> None:
    """Best effort after the flip: drop the deleted branch's forks. What fails here, cleanup reclaims."""
    from sut.engine.naming import parse_store
    core = w.core
    for store in sorted(core.stores()):
        parsed = parse_store(store)
        if parsed is None or (parsed.fork.branch, parsed.fork.bid) != (name, bid):
            continue
        lock = core.locks.try_write((parsed.fork.table, name))
        if lock is None:
            continue
        try:
            core.fp.hit("branch_delete.before_reclaim")
            core.drop_store(store)
        except Exception:
            pass  # the authority no longer references it: a ghost for cleanup, never a resurrection
        finally:
            lock.release()


# --- forks ---------------------------------------------------------------------------------------------

def write_locks(auth: Authority, table: str, branch: str) -> list[tuple[str, str]]:
    """The (table, branch) locks a write needs: its own, and those of every branch that reads the store
    the write will change (they are forked first)."""
    target = auth.pin(branch, table)
    own = auth.own_fork(branch, table)
    keys = [(table, branch)]
    if target == own:
        keys += [(table, b) for b in auth.readers(table, own)]
    return keys


def prepare_write(w: Any, auth: Authority, table: str, branch: str) -> Authority:
    """Under the write locks, with a fresh authority: make `branch` own its fork of `table`, then fork
    away every other branch that still reads it. Returns the authority after those publishes."""
    if auth.pin(branch, table) != auth.own_fork(branch, table):
        auth = w.core.steps["fork.ensure"](w, auth, table, branch)
    own = auth.own_fork(branch, table)
    for other in auth.readers(table, own):
        if other != branch:
            auth = w.core.steps["fork.ensure"](w, auth, table, other)
    return auth


def ensure_fork(w: Any, auth: Authority, table: str, branch: str) -> Authority:
    """Fork `table` onto `branch` from the store it reads now, then publish the pin.

    Self-heal: the authority was re-read under the write lock, and it does not place the table on this
    branch, so any store already named for this fork is an orphan of an interrupted fork: reclaim it."""
    core = w.core
    src, dst = auth.pin(branch, table), auth.own_fork(branch, table)
    attrs = sorted(auth.tables[table]["indexes"])
    names = [dst.data()] + [dst.index(a) for a in attrs]
    core.steps["fork.reclaim_orphan"](w, names)
    versions = {}
    for a in [None] + attrs:
        s, d = (src.data(), dst.data()) if a is None else (src.index(a), dst.index(a))
        versions[d] = core.steps["fork.copy"](w, auth, s, d)
    core.fp.hit("fork.before_publish")
    return core.steps["fork.publish"](w, table, branch, src, dst, versions)


def reclaim_orphan(w: Any, names: list[str]) -> None:
    core = w.core
    existing = core.stores()
    for store in names:
        if store in existing:
            core.drop_store(store)
            core.fp.hit("fork.after_reclaim_orphan")


def copy_store(w: Any, auth: Authority, src: str, dst: str) -> int | None:
    """Make `dst` a copy of `src` as published: a native branch on versioned stores (its version is
    returned), a new store filled in chunks on key-value stores."""
    core = w.core
    if core.versioned:
        version = storage_call(f"fork {src} to {dst}", core.backend.fork, src, auth.version(src), dst)
        core.fp.hit("fork.after_create_branch")
        return version
    core.create_store(dst)
    core.fp.hit("fork.after_create_store")
    start = None
    while True:
        rows = core.scan(w.handles, auth, src, b"", start, COPY_CHUNK)
        if not rows:
            return None
        core.write(w.handles, [(dst, k, v) for k, v in rows])
        core.fp.hit("fork.after_copy_chunk")
        start = rows[-1][0] + b"\x00"


def publish_fork(w: Any, table: str, branch: str, src: Fork, dst: Fork,
                 versions: dict[str, int | None]) -> Authority:
    def move(a: Authority) -> None:
        if a.pins.get(branch, {}).get(table) != src.id:
            raise E.Conflict(f"the pin of {table}@{branch} moved during its fork")
        # An index created meanwhile has no store in this fork: published, its finds would fail for good.
        if any(dst.index(x) not in versions for x in a.tables.get(table, {}).get("indexes", {})):
            raise E.Conflict(f"an index of {table} was created during its fork onto {branch}")
        a.pins[branch][table] = dst.id
        a.versions.update({s: v for s, v in versions.items() if v is not None})
    auth = w.core.update(w.handles, move)
    w.core.fp.hit("fork.after_publish")
    return auth


__all__ = ["MAIN", "create_branch", "delete_branch", "prepare_write", "write_locks"]
