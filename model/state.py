"""The reference model's state: immutable, hashable, holding only what the contract makes observable plus
the incarnation counter that makes a same-name recreate a new table (kept out of equality: unobservable).

- `tables`: name -> TableDef (incarnation, indexes with readiness). Tables are global to all branches.
- `branches`: name -> parent name (`main` has parent None).
- `data`: (branch, table) -> rows, rows being FMap key -> canonical record (see model.values).
Index answers are derived from `data`, never stored twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from model.fmap import FMap
from model.rules import MAIN
from model.values import Canon

Rows = FMap  # FMap[str, Canon]
EMPTY_ROWS: Rows = FMap()


@dataclass(frozen=True)
class TableDef:
    # The incarnation is not observable, so it takes no part in equality: two states that differ only
    # in it are one possible state (else look-alike states could never be collapsed by observation).
    incarnation: int = field(compare=False)
    indexes: FMap = field(default_factory=FMap)  # attr -> ready: bool

    def with_index(self, attr: str, ready: bool) -> TableDef:
        return replace(self, indexes=self.indexes.set(attr, ready))


@dataclass(frozen=True)
class State:
    tables: FMap = field(default_factory=FMap)      # name -> TableDef
    branches: FMap = field(default_factory=lambda: FMap({MAIN: None}))  # name -> parent
    data: FMap = field(default_factory=FMap)        # (branch, table) -> Rows
    next_incarnation: int = field(default=1, compare=False)

    def rows(self, branch: str, table: str) -> Rows:
        return self.data.get((branch, table), EMPTY_ROWS)

    def children(self, branch: str) -> list[str]:
        return sorted(b for b, p in self.branches.items() if p == branch)

    def describe(self) -> str:
        """A short human summary, for violation reports."""
        parts = []
        for t in sorted(self.tables):
            td = self.tables[t]
            idx = ",".join(f"{a}{'' if r else '(building)'}" for a, r in sorted(td.indexes.items()))
            parts.append(f"table {t}#{td.incarnation}[{idx}]")
        for b in sorted(self.branches):
            rows = {t: len(self.rows(b, t)) for t in sorted(self.tables)}
            parts.append(f"branch {b}<-{self.branches[b]} rows={rows}")
        return "; ".join(parts)


def rows_with(rows: Rows, key: str, canon: Canon | None) -> Rows:
    return rows.remove(key) if canon is None else rows.set(key, canon)
