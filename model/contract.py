"""The contract as types: the API every database and worker offers, and the white-box reports it returns.

`sut` implements it; later, a user's own engine implements it too, and the whole suite runs against that.
Input rules are in model.rules, errors in model.errors, behaviour in model.step.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class CleanupReport:
    """What one cleanup sweep did. `reclaimed`: stores and forks removed; `skipped`: left because their
    write lock was busy (no proof they are unused); `failed`: store -> error text (the sweep went on)."""
    reclaimed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Inventory:
    """Authority and physical state, so invariants can be checked without knowing the naming scheme.

    - `tables`: name -> {"id", "state" ("live"|"dropping"), "indexes": {attr: {"state", "checkpoint"}}}
    - `branches`: name -> {"id", "parent"}
    - `pins`: (branch, table) -> (store, version): the published place each (branch, table) reads from
    - `stores`: every physical store and fork that exists -> its head version (None where unversioned)
    - `derived`: the stores the authority references (what must exist, and all that may exist after cleanup)
    - `versions`: store -> the version the authority publishes for it (versioned backends; I7: == head)
    - `sidecars`: pending recovery sidecars; `locks_held`: locks held right now (none between calls)
    """
    tables: dict[str, Any] = field(default_factory=dict)
    branches: dict[str, Any] = field(default_factory=dict)
    pins: dict[tuple[str, str], tuple[str, Any]] = field(default_factory=dict)
    stores: dict[str, Any] = field(default_factory=dict)
    derived: frozenset[str] = frozenset()
    versions: dict[str, Any] = field(default_factory=dict)
    sidecars: tuple[str, ...] = ()
    locks_held: tuple[str, ...] = ()

    @property
    def ghosts(self) -> frozenset[str]:
        """Physical stores the authority does not derive."""
        return frozenset(self.stores) - self.derived

    @property
    def missing(self) -> frozenset[str]:
        """Stores the authority derives that do not exist."""
        return self.derived - frozenset(self.stores)

    @property
    def drift(self) -> dict[str, tuple[Any, Any]]:
        """Derived stores whose published version is not their head: store -> (published, head). (Versions
        kept for a tombstoned table's stores are not published for reading; the drop removes them.)"""
        return {s: (v, self.stores.get(s)) for s, v in self.versions.items()
                if s in self.derived and self.stores.get(s) != v}

    @property
    def tombstones(self) -> tuple[str, ...]:
        return tuple(sorted(t for t, d in self.tables.items() if d.get("state") != "live"))

    @property
    def unready_indexes(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(sorted((t, a, i["state"]) for t, d in self.tables.items()
                            for a, i in d.get("indexes", {}).items() if i["state"] != "ready"))


@runtime_checkable
class Worker(Protocol):
    """One client of the database. Workers of one database share its data; each caches its own handles."""

    def create_table(self, name: str, indexed: Iterable[str] = ()) -> None: ...
    def drop_table(self, name: str) -> None: ...
    def create_index(self, table: str, attr: str) -> None: ...
    def put(self, table: str, key: str, record: dict[str, Any], branch: str = "main") -> None: ...
    def delete(self, table: str, key: str, branch: str = "main") -> None: ...
    def get(self, table: str, key: str, branch: str = "main") -> dict[str, Any] | None: ...
    def scan(self, table: str, branch: str = "main") -> dict[str, dict[str, Any]]: ...
    def find(self, table: str, attr: str, value: Any, branch: str = "main") -> frozenset[str]: ...
    def tables(self) -> list[str]: ...  # sorted
    def branches(self) -> list[str]: ...  # sorted, `main` included
    def create_branch(self, name: str, parent: str = "main") -> None: ...
    def delete_branch(self, name: str) -> None: ...
    def optimize(self) -> None: ...
    def cleanup(self) -> CleanupReport: ...


@runtime_checkable
class Database(Worker, Protocol):
    """Worker 0 plus the lifecycle: more workers, white-box inventory, orderly close, process death."""

    def worker(self) -> Worker: ...
    def inventory(self) -> Inventory: ...
    def close(self) -> None: ...
    def abandon(self) -> None: ...
