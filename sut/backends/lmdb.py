"""LMDB: one environment per database, one named sub-database per store.

Durability: `sync=False, metasync=False`. The crash models here are in-process unwinding and process
death; a committed transaction is in the OS page cache either way, so it survives both. A power-loss
mode would need `sync=True`.
"""
from __future__ import annotations

import os
import threading
from typing import Any

import lmdb

from sut.backends.kvauth import KVAuthority

MAP_SIZE = 1 << 30   # sparse: address space, not disk
MAX_DBS = 4096


class LmdbBackend(KVAuthority):
    name = "lmdb"
    versioned = False

    def __init__(self, path: str, map_size: int = MAP_SIZE) -> None:
        os.makedirs(path, exist_ok=True)
        self.env = lmdb.open(path, map_size=map_size, max_dbs=MAX_DBS, sync=False, metasync=False,
                             subdir=True, lock=True)
        self._auth_lock = threading.Lock()

    def stores(self) -> list[str]:
        with self.env.begin() as txn:
            return [k.decode("utf-8") for k in txn.cursor().iternext(keys=True, values=False)]

    def create(self, name: str) -> None:
        key = name.encode("utf-8")
        with self.env.begin(write=True) as txn:
            if txn.get(key) is not None:
                raise lmdb.KeyExistsError(f"store {name} exists")
            self.env.open_db(key, txn=txn, create=True)

    def drop(self, name: str) -> None:
        with self.env.begin(write=True) as txn:
            db = self.env.open_db(name.encode("utf-8"), txn=txn, create=False)
            txn.drop(db, delete=True)

    def handle(self, name: str, version: int | None = None) -> Any:
        # In a write transaction of our own: without one, py-lmdb's open_db begins one holding the GIL, and
        # a write on another thread that needs the GIL to finish deadlocks the process; `begin` waits for
        # the writer with the GIL released (tests/surface/test_lmdb_surface.py). Not a read transaction:
        # with one, test_engine_protocols' tombstoned-drop recovery read the authority with EINVAL.
        with self.env.begin(write=True) as txn:
            return self.env.open_db(name.encode("utf-8"), txn=txn, create=False)

    def get(self, h: Any, key: bytes) -> bytes | None:
        with self.env.begin(db=h) as txn:
            return txn.get(key)

    def scan(self, h: Any, prefix: bytes = b"", start: bytes | None = None,
             limit: int | None = None) -> list[tuple[bytes, bytes]]:
        seek = max(start or b"", prefix)
        out: list[tuple[bytes, bytes]] = []
        with self.env.begin(db=h) as txn:
            cur = txn.cursor()
            if not (cur.set_range(seek) if seek else cur.first()):
                return out
            for k, v in cur:
                if not k.startswith(prefix) or (limit is not None and len(out) >= limit):
                    break
                out.append((k, v))
        return out

    def write(self, batch: list[tuple[Any, bytes, bytes | None]]) -> None:
        with self.env.begin(write=True) as txn:  # one transaction: all or nothing
            for h, k, v in batch:
                if v is None:
                    txn.delete(k, db=h)
                else:
                    txn.put(k, v, db=h)

    def compact(self, h: Any) -> None:
        """LMDB reuses freed pages itself; there is nothing to compact per store."""

    def close(self) -> None:
        self.env.close()

    def abandon(self) -> None:
        # Nothing is buffered above LMDB: closing only releases the file handles and the reader slot.
        self.env.close()
