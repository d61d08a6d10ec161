"""What the workers of one database share: the backend, the authority, the locks, the failpoints, the
enabled mutants, and the registry of workers whose handle caches must be evicted when a store is dropped.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from faults.hook import Failpoints
from model.errors import Conflict, ContractError, StorageError
from sut.engine.authority import Authority
from sut.engine.locks import LockTable
from sut.engine.naming import CATALOG


def storage_call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a backend primitive; anything it raises becomes `StorageError` (contract errors pass through).

    A crash (`BaseException` that is not an `Exception`) is never caught: process death runs no logic."""
    try:
        return fn(*args)
    except ContractError:
        raise
    except Exception as e:  # the backends raise bare and library-specific errors; classify them once here
        raise StorageError(f"{what}: {type(e).__name__}: {e}") from e


class Core:
    def __init__(self, backend: Any, failpoints: Failpoints, steps: dict[str, Callable[..., Any]]) -> None:
        self.backend = backend
        self.fp = failpoints
        self.steps = steps  # protocol steps, some swapped for a mutant's buggy version (sut.mutants)
        self.locks = LockTable(on_wait=lambda: failpoints.hit("lock.wait"))
        self.versioned = bool(getattr(backend, "versioned", False))
        self._workers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.closed = False

    # -- workers and handles -------------------------------------------------------------------------
    def register(self, worker: Any) -> None:
        self._workers.add(worker)

    def evict(self, store: str) -> None:
        """Forget every worker's handle on `store`: no worker may reach a dropped store through a stale
        handle, even after a store of the same name is created again (the rocksdb-js seed bug)."""
        for w in list(self._workers):
            w.handles.pop(store, None)

    # -- authority -----------------------------------------------------------------------------------
    def read_authority(self, handles: dict[str, Any] | None = None) -> Authority:
        """A fresh read of the authority (never a cached copy: decisions are made on what is stored)."""
        raw, token = storage_call("read authority", self.backend.auth_read)
        if raw is None:
            raise StorageError("the authority document is missing")
        return Authority.loads(raw, token)

    def write_authority(self, new: Authority, old: Authority) -> Authority:
        """Compare-and-swap: store `new` only if the stored authority is still `old`."""
        new.doc["epoch"] = old.epoch + 1
        raw = new.dumps()
        token = storage_call("write authority", self.backend.auth_write, raw, old.token)
        if token is None:
            raise Conflict(f"the authority moved past epoch {old.epoch}")
        return Authority.loads(raw, token)

    def update(self, handles: dict[str, Any] | None, change: Callable[[Authority], Any]) -> Authority:
        """Read the authority fresh, apply `change` to a copy, and write it back (compare-and-swap)."""
        old = self.read_authority()
        new = old.copy()
        change(new)
        return self.write_authority(new, old)

    # -- stores --------------------------------------------------------------------------------------
    def handle(self, handles: dict[str, Any], store: str, version: int | None = None) -> Any:
        """A worker's handle on `store` (at `version` on versioned backends), cached per worker."""
        cache = handles.setdefault(store, {})
        h = cache.get(version)
        if h is None:
            h = storage_call(f"open {store}@{version}", self.backend.handle, store, version)
            cache[version] = h
        return h

    def stores(self) -> set[str]:
        return set(storage_call("list stores", self.backend.stores)) - {CATALOG}

    def create_store(self, store: str) -> None:
        storage_call(f"create {store}", self.backend.create, store)

    def drop_store(self, store: str) -> None:
        self.evict(store)
        storage_call(f"drop {store}", self.backend.drop, store)

    def write(self, handles: dict[str, Any], items: Iterable[tuple[str, bytes, bytes | None]]) -> None:
        """One atomic write across stores: (store, key, value or None to delete)."""
        batch = [(self.handle(handles, s), k, v) for s, k, v in items]
        if batch:
            storage_call("write", self.backend.write, batch)

    def get(self, handles: dict[str, Any], auth: Authority, store: str, key: bytes) -> bytes | None:
        h = self.handle(handles, store, auth.version(store))
        return storage_call(f"get {store}", self.backend.get, h, key)

    def scan(self, handles: dict[str, Any], auth: Authority, store: str, prefix: bytes = b"",
             start: bytes | None = None, limit: int | None = None) -> list[tuple[bytes, bytes]]:
        h = self.handle(handles, store, auth.version(store))
        return storage_call(f"scan {store}", self.backend.scan, h, prefix, start, limit)

    def head(self, store: str) -> int | None:
        return storage_call(f"head {store}", self.backend.head, store)
