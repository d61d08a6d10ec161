"""The single authority: one JSON document holding the catalog and the branch/pin map.

    epoch      bumped by every write (compare-and-swap)
    next_id    the next incarnation id (tables and branches share one counter)
    tables     name -> {"id", "state": "live"|"dropping", "indexes": {attr: {"state", "checkpoint", "done"}}}
    branches   name -> {"id", "parent"}
    pins       branch -> {table: fork id}: where each (branch, table) reads; a fork owned by another
               branch means "not forked yet, reading the ancestor's store as of the branch point"
    versions   store -> published version, on versioned backends (Lance); every branch that reads a
               fork reads it at this version, which is also its HEAD after open (I7)

Physical stores are derived from it (`derived()`); anything else on disk is a ghost for cleanup.
"""
from __future__ import annotations

import copy
import json
from typing import Any

from model.rules import MAIN
from sut.engine.naming import Fork

READY, BUILDING, FAILED = "ready", "building", "failed"


class Authority:
    def __init__(self, doc: dict[str, Any], token: Any = None) -> None:
        self.doc = doc
        self.doc.setdefault("versions", {})
        self.token = token  # what the backend's compare-and-swap compares against (bytes or a version)

    @classmethod
    def initial(cls) -> Authority:
        return cls({"epoch": 0, "next_id": 1, "tables": {}, "branches": {MAIN: {"id": 0, "parent": None}},
                    "pins": {MAIN: {}}})

    @classmethod
    def loads(cls, raw: bytes, token: Any = None) -> Authority:
        return cls(json.loads(raw.decode("utf-8")), token)

    def dumps(self) -> bytes:
        return json.dumps(self.doc, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def copy(self) -> Authority:
        return Authority(copy.deepcopy(self.doc), self.token)

    # -- views ---------------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.doc["epoch"]

    @property
    def tables(self) -> dict[str, Any]:
        return self.doc["tables"]

    @property
    def branches(self) -> dict[str, Any]:
        return self.doc["branches"]

    @property
    def pins(self) -> dict[str, dict[str, str]]:
        return self.doc["pins"]

    @property
    def versions(self) -> dict[str, int]:
        return self.doc["versions"]

    def version(self, store: str) -> int | None:
        return self.versions.get(store)

    def prune_versions(self) -> None:
        """Forget the versions of stores the authority no longer derives (dropped tables, deleted forks)."""
        live = self.derived()
        for store in [s for s in self.versions if s not in live]:
            del self.versions[store]

    def take_id(self) -> int:
        self.doc["next_id"] += 1
        return self.doc["next_id"] - 1

    def live(self, table: str) -> dict[str, Any] | None:
        t = self.tables.get(table)
        return t if t is not None and t["state"] == "live" else None

    def pin(self, branch: str, table: str) -> Fork:
        return Fork.parse(self.pins[branch][table])

    def own_fork(self, branch: str, table: str) -> Fork:
        """The fork (branch, table) would own once forked."""
        return Fork(table, self.tables[table]["id"], branch, self.branches[branch]["id"])

    def forks(self, table: str) -> list[Fork]:
        """Every distinct fork of a live table that some live branch reads."""
        return sorted({Fork.parse(p[table]) for p in self.pins.values() if table in p})

    def readers(self, table: str, fork: Fork) -> list[str]:
        """Branches that read `fork` of `table`."""
        return sorted(b for b, p in self.pins.items() if p.get(table) == fork.id)

    def children(self, branch: str) -> list[str]:
        return sorted(b for b, d in self.branches.items() if d["parent"] == branch)

    def derived(self) -> frozenset[str]:
        """The physical stores this authority references: all that must exist, all that may."""
        names = set()
        for table, t in self.tables.items():
            if t["state"] != "live":
                continue
            for fork in self.forks(table):
                names.add(fork.data())
                names.update(fork.index(a) for a in t["indexes"])
        return frozenset(names)
