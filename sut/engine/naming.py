"""Physical names derived from the authority. Every name carries the incarnation ids of its table and of
the branch that owns it, so a same-name recreate (table or branch) can never reach an old store.

fork id  `t.3.b.5`        table t incarnation 3, owned by branch b incarnation 5
data     `d.t.3.b.5`      the records of that fork
index    `i.t.3.b.5.a`    the index on attribute a of that fork
Names of tables, branches and attributes match [a-z][a-z0-9_]* (model.rules), so '.' splits them safely.
"""
from __future__ import annotations

from dataclasses import dataclass

CATALOG = "__catalog"


def kind_of(store: str) -> str:
    """What a store holds, for primitive faults aimed at tables, indexes or the catalog."""
    if store == CATALOG:
        return "catalog"
    return "index" if store.startswith("i.") else "table"


@dataclass(frozen=True, order=True)
class Fork:
    table: str
    tid: int
    branch: str
    bid: int

    @property
    def id(self) -> str:
        return f"{self.table}.{self.tid}.{self.branch}.{self.bid}"

    def data(self) -> str:
        return f"d.{self.id}"

    def index(self, attr: str) -> str:
        return f"i.{self.id}.{attr}"

    @classmethod
    def parse(cls, fork_id: str) -> Fork:
        table, tid, branch, bid = fork_id.split(".")
        return cls(table, int(tid), branch, int(bid))


@dataclass(frozen=True)
class StoreName:
    """A parsed physical store name: kind 'data' or 'index', its fork, and the attribute of an index."""
    kind: str
    fork: Fork
    attr: str | None = None


def parse_store(name: str) -> StoreName | None:
    """Parse a store name; None for names this engine did not make (they are never touched)."""
    parts = name.split(".")
    try:
        if parts[0] == "d" and len(parts) == 5:
            return StoreName("data", Fork(parts[1], int(parts[2]), parts[3], int(parts[4])))
        if parts[0] == "i" and len(parts) == 6:
            return StoreName("index", Fork(parts[1], int(parts[2]), parts[3], int(parts[4])), parts[5])
    except ValueError:
        return None
    return None
