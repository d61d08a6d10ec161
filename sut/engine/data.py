"""Data protocols: a put or delete is one atomic write across the table's store and its index stores
(one LMDB transaction, one RocksDB write batch); reads go through the published pin, never a guess.
"""
from __future__ import annotations

from typing import Any

from model import errors as E
from sut.engine import versioned
from sut.engine.authority import READY, Authority
from sut.engine.branches import prepare_write, write_locks
from sut.engine.codec import index_entries, key_bytes, key_str, record_bytes, record_of, value_prefix
from sut.engine.naming import Fork


def _visible(auth: Authority, table: str, branch: str) -> dict[str, Any]:
    if branch not in auth.branches:
        raise E.NoSuchBranch(branch)
    t = auth.live(table)
    if t is None or table not in auth.pins.get(branch, {}):  # no pin: nowhere to read it from
        raise E.NoSuchTable(table)
    return t


def write(w: Any, table: str, key: str, record: dict[str, Any] | None, branch: str) -> None:
    """Put `record` at `key` (delete when None) on (table, branch)."""
    core = w.core
    auth = core.read_authority(w.handles)
    _visible(auth, table, branch)
    for _attempt in range(8):  # the lock set is read before locking; retry if it grew meanwhile
        keys = write_locks(auth, table, branch)
        with core.locks.write(keys):
            auth = core.read_authority(w.handles)  # fresh under the lock: the self-heal rule
            _visible(auth, table, branch)
            if not set(write_locks(auth, table, branch)) <= set(keys):
                continue
            auth = prepare_write(w, auth, table, branch)
            core.fp.hit("write.before_commit")
            core.steps["write.commit"](w, auth, table, key, record, branch)
            core.fp.hit("write.after_commit")
            return
    raise E.Conflict(f"the readers of {table}@{branch} kept changing")


def commit(w: Any, auth: Authority, table: str, key: str, record: dict[str, Any] | None, branch: str) -> None:
    """The record and every index entry (ready or building) in one atomic write."""
    core = w.core
    fork = auth.pin(branch, table)
    kb = key_bytes(key)
    old_raw = core.get(w.handles, auth, fork.data(), kb)
    old = None if old_raw is None else record_of(old_raw)
    items: list[tuple[str, bytes, bytes | None]] = [
        (fork.data(), kb, None if record is None else record_bytes(record))]
    for attr in sorted(auth.tables[table]["indexes"]):
        gone = set(index_entries(old, key, attr))
        new = set(index_entries(record, key, attr))
        items += [(fork.index(attr), e, None) for e in sorted(gone - new)]
        items += [(fork.index(attr), e, b"") for e in sorted(new - gone)]
    versioned.commit(w, auth, items)


def _pinned(w: Any, table: str, branch: str) -> tuple[Authority, Fork]:
    auth = w.core.read_authority(w.handles)
    _visible(auth, table, branch)
    return auth, auth.pin(branch, table)


def get(w: Any, table: str, key: str, branch: str) -> dict[str, Any] | None:
    auth, fork = _pinned(w, table, branch)
    raw = w.core.get(w.handles, auth, fork.data(), key_bytes(key))
    return None if raw is None else record_of(raw)


def scan(w: Any, table: str, branch: str) -> dict[str, dict[str, Any]]:
    auth, fork = _pinned(w, table, branch)
    return {key_str(k): record_of(v) for k, v in w.core.scan(w.handles, auth, fork.data())}


def find(w: Any, table: str, attr: str, value: Any, branch: str) -> frozenset[str]:
    auth, fork = _pinned(w, table, branch)
    desc = auth.tables[table]["indexes"].get(attr)
    if desc is None:
        raise E.NoSuchIndex(f"{table}.{attr}")
    if desc["state"] != READY:
        raise E.IndexNotReady(f"{table}.{attr} is {desc['state']}")
    prefix = value_prefix(value)
    if prefix is None:
        return frozenset()
    return frozenset(key_str(k[len(prefix):]) for k, _ in w.core.scan(w.handles, auth, fork.index(attr), prefix))
