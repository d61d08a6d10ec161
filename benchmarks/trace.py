"""One fixed operation trace, and its replay straight on a backend's primitives.

The raw replay does the physical work the engine's data path does for the same trace (encode, read the
old record to retire its index entries, write the record and its index entries; on Lance one commit per
dataset and reads through a per-version snapshot) and nothing else: no authority read or publish, no
locks, no recovery sidecar, no failpoints, no input validation. The engine's cost over the backend is
the difference.
"""
from __future__ import annotations

from typing import Any

from model.ops import Op
from sut.backends import open_backend
from sut.engine.codec import index_entries, key_bytes, key_str, record_bytes, record_of, value_prefix
from sut.engine.naming import Fork

ATTR = "a"


def trace(n: int) -> list[Op]:
    """create a table with one index; n puts, n gets, n/2 finds, n/5 deletes."""
    ops = [Op.make("create_table", "t", indexed=(ATTR,))]
    ops += [Op.make("put", "t", f"k{i}", {ATTR: i % 3, "n": i}) for i in range(n)]
    ops += [Op.make("get", "t", f"k{i}") for i in range(n)]
    ops += [Op.make("find", "t", ATTR, i % 3) for i in range(max(1, n // 2))]
    ops += [Op.make("delete", "t", f"k{i}") for i in range(max(1, n // 5))]
    return ops


class RawReplay:
    """The contract's data calls on a single-branch table, straight on the backend's primitives."""

    def __init__(self, backend: str, path: str) -> None:
        self.be = open_backend(backend, path)
        self.versioned = bool(getattr(self.be, "versioned", False))
        self.fork = Fork("t", 1, "main", 0)
        self.attrs: tuple[str, ...] = ()
        self.version: dict[str, int] = {}      # Lance: the version each store is at (the engine's pin)
        self.snaps: dict[tuple[str, Any], Any] = {}  # read handles, per version (the engine caches them too)

    def close(self) -> None:
        self.be.close()

    def _h(self, store: str) -> Any:
        v = self.version.get(store)
        h = self.snaps.get((store, v))
        if h is None:
            h = self.snaps[(store, v)] = self.be.handle(store, v)
        return h

    def create_table(self, name: str, indexed: tuple[str, ...] = ()) -> None:
        self.attrs = tuple(indexed)
        for store in [self.fork.data()] + [self.fork.index(a) for a in self.attrs]:
            self.be.create(store)
            if self.versioned:
                self.version[store] = self.be.head(store)

    def put(self, table: str, key: str, record: dict[str, Any] | None, branch: str = "main") -> None:
        kb = key_bytes(key)
        old_raw = self.be.get(self._h(self.fork.data()), kb)
        old = None if old_raw is None else record_of(old_raw)
        items: list[tuple[str, bytes, bytes | None]] = [
            (self.fork.data(), kb, None if record is None else record_bytes(record))]
        for a in self.attrs:
            gone, new = set(index_entries(old, key, a)), set(index_entries(record, key, a))
            items += [(self.fork.index(a), e, None) for e in sorted(gone - new)]
            items += [(self.fork.index(a), e, b"") for e in sorted(new - gone)]
        self._write(items)

    def delete(self, table: str, key: str, branch: str = "main") -> None:
        self.put(table, key, None, branch)

    def _write(self, items: list[tuple[str, bytes, bytes | None]]) -> None:
        if not self.versioned:  # one atomic batch, as the engine writes it
            self.be.write([(self._h(s), k, v) for s, k, v in items])
            return
        by_store: dict[str, list[tuple[bytes, bytes | None]]] = {}
        for s, k, v in items:
            by_store.setdefault(s, []).append((k, v))
        for s, rows in sorted(by_store.items()):
            self.version[s] = self.be.commit(s, self.version[s], rows)

    def get(self, table: str, key: str, branch: str = "main") -> dict[str, Any] | None:
        raw = self.be.get(self._h(self.fork.data()), key_bytes(key))
        return None if raw is None else record_of(raw)

    def find(self, table: str, attr: str, value: Any, branch: str = "main") -> frozenset[str]:
        prefix = value_prefix(value)
        if prefix is None:
            return frozenset()
        rows = self.be.scan(self._h(self.fork.index(attr)), prefix)
        return frozenset(key_str(k[len(prefix):]) for k, _ in rows)
