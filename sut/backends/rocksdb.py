"""RocksDB via rocksdict: one database per path, one column family per store, raw bytes everywhere.

Sharp edges pinned in tests/surface/test_rocksdb_surface.py and handled here:
- a write batch that names a dropped column family raises, is applied in part, and refuses every later
  write until reopen; so `ColumnFamily` handles are looked up by name for each batch and never kept;
- a CF `Rdict` outlives `close()` of the database and keeps its LOCK; so every CF handle this adapter hands
  out is tracked and closed on `close()`/`abandon()`, and on `drop()` of its store;
- `Rdict(path)` opens the column families of the latest OPTIONS file, which a death inside a drop leaves
  stale (tests/surface/test_rocksdb_kill_surface.py); so it opens those of the MANIFEST (`list_cf`).
Durability: the WAL without fsync per write; a process crash keeps every acknowledged write.
"""
from __future__ import annotations

import os
import threading
from typing import Any, cast

from rocksdict import Options, Rdict, WriteBatch

from sut.backends.kvauth import KVAuthority


def _raw() -> Options:
    return Options(raw_mode=True)


class _Store:
    """The engine's handle on one store: the column family's name and its `Rdict` for reads."""
    __slots__ = ("__weakref__", "cf", "name")

    def __init__(self, name: str, cf: Rdict) -> None:
        self.name = name
        self.cf = cf


class RocksBackend(KVAuthority):
    name = "rocksdb"
    versioned = False

    def __init__(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        self.path = path
        self.db = Rdict(path, _raw(), column_families=self._existing(path))
        self._handles: list[_Store] = []
        self._auth_lock = threading.Lock()

    @staticmethod
    def _existing(path: str) -> dict[str, Options] | None:
        """Every column family the MANIFEST lists. Not `Rdict(path)`'s default, the latest OPTIONS file: a
        death inside a drop can leave that file naming a column family the MANIFEST has dropped, and then
        the open fails (tests/surface/test_rocksdb_kill_surface.py)."""
        if not os.path.exists(os.path.join(path, "CURRENT")):
            return None  # a new database: nothing to list
        return {n: _raw() for n in Rdict.list_cf(path) if n != "default"}

    def stores(self) -> list[str]:
        return [n for n in Rdict.list_cf(self.path) if n != "default"]

    def create(self, name: str) -> None:
        self.db.create_column_family(name, _raw()).close()

    def drop(self, name: str) -> None:
        self._close_handles(name)
        self.db.drop_column_family(name)

    def handle(self, name: str, version: int | None = None) -> _Store:
        h = _Store(name, self.db.get_column_family(name))
        self._handles.append(h)
        return h

    def get(self, h: _Store, key: bytes) -> bytes | None:
        return h.cf.get(key)

    def scan(self, h: _Store, prefix: bytes = b"", start: bytes | None = None,
             limit: int | None = None) -> list[tuple[bytes, bytes]]:
        seek = max(start or b"", prefix)
        out: list[tuple[bytes, bytes]] = []
        for k, v in cast(Any, h.cf.items(from_key=seek)):  # raw mode: keys and values are bytes
            if not k.startswith(prefix) or (limit is not None and len(out) >= limit):
                break
            out.append((k, v))
        return out

    def write(self, batch: list[tuple[_Store, bytes, bytes | None]]) -> None:
        wb = WriteBatch(raw_mode=True)
        cfs: dict[str, Any] = {}
        try:
            for h, k, v in batch:
                cf = cfs.get(h.name)
                if cf is None:  # by name, now: raises cleanly if the store is gone, never poisons the DB
                    cf = cfs[h.name] = self.db.get_column_family_handle(h.name)
                if v is None:
                    wb.delete(k, cf)
                else:
                    wb.put(k, v, cf)
            self.db.write(wb)
        finally:
            cfs.clear()  # a traceback keeps this frame; it must not keep column families (and the LOCK)
            del wb

    def compact(self, h: _Store) -> None:
        h.cf.compact_range(None, None)

    def _close_handles(self, name: str | None = None) -> None:
        keep = []
        for h in self._handles:
            if name is None or h.name == name:
                try:
                    h.cf.close()
                except Exception:
                    pass  # a dropped CF's close raises, and still releases the handle
            else:
                keep.append(h)
        self._handles = keep

    def close(self) -> None:
        self._close_handles()
        try:
            self.db.close()
        finally:
            del self.db

    def abandon(self) -> None:
        # Process death loses nothing acknowledged (WAL); closing releases the LOCK for the next opener.
        try:
            self.close()
        except Exception:
            pass
