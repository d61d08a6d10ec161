"""A small file-backed engine offered as a target, with one planted bug: the worked example of docs/targets.md."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from faults.catalogue import Failpoint, register
from faults.hook import Failpoints
from harness.target import Capabilities, MutantInfo, SimpleTarget
from model import errors as E
from model.contract import Inventory
from model.rules import MAIN, check_indexed, check_key, check_name, check_record, check_value

# A name the reference engine also registers carries its text (sut/failpoints.py): one name, one step.
CATALOGUE = {fp.name: fp for fp in (
    Failpoint("create.after_store", "create_table", "all of the new table's stores, no catalog row: ghosts"),
    Failpoint("drop.after_tombstone", "drop_table", "a tombstone, every store intact: open completes the drop"),
    Failpoint("drop.after_store", "drop_table", "a tombstone and no store: open removes the row"),
    Failpoint("drop.after_catalog", "drop_table", "the drop complete"),
    Failpoint("put.before_write", "put", "nothing: the record is not written"))}
register(CATALOGUE.values())
CATALOG = "catalog.json"  # {"tables": {name: {"id", "state": "live" or "dropping", "indexes"}}, "next_id"}
RULES: dict[str, Callable[[Any], Any]] = {  # each argument's input rule: checked before any file is touched
    "name": lambda v: check_name(v, "table"), "table": lambda v: check_name(v, "table"),
    "attr": lambda v: check_name(v, "attribute"), "branch": lambda v: check_name(v, "branch"),
    "indexed": check_indexed, "key": check_key, "record": check_record, "value": check_value}


class MemoryDatabase:
    """Files in one directory: `catalog.json` and a store file of rows per table incarnation. Each durable step
    writes or removes one whole file, atomically; opening is recovery, and no file stays open between steps."""

    def __init__(self, path: Any, faults: Any = None, mutants: Iterable[str] = ()) -> None:
        self.root, self.closed = Path(path), False
        self.bug = "catalog_first_drop" in mutants  # the planted bug (seed 000): three steps marked "the bug"
        self.fps = faults if isinstance(faults, Failpoints) else Failpoints(faults)  # or a plan, or None
        self.root.mkdir(parents=True, exist_ok=True)
        self.catalog: dict[str, Any] = self._read(CATALOG) or {"tables": {}, "next_id": 1}
        for name in [n for n, row in self.catalog["tables"].items() if row["state"] == "dropping"]:  # died in a drop
            self._drop(name)
        if not self.bug:  # the bug: open leaves the stores nothing references
            for store in {f.name for f in self.root.glob("store.*.json")} - self._derived():  # a dead create's, say
                self._write(store, None)

    def store_of(self, table: str, tid: int | None = None) -> str:  # the store file of incarnation `tid`
        check_name(table, "table")  # where a name becomes part of a path: no dot, no slash
        if self.bug:  # the bug: by name only, so a recreate opens the old store (as LMDB reopens a named DBI)
            return f"store.{table}.json"
        tid = self.catalog["tables"][table]["id"] if tid is None else tid
        return f"store.{table}.{tid:d}.json"

    def _drop(self, name: str) -> None:  # seed 000's fix: the tombstone first; from there open finishes the drop
        if self.bug:  # the bug: the row first, so a crash here leaves a store nothing references
            self._edit(lambda c: c["tables"].pop(name))
            self.fps.hit("drop.after_catalog")
            self._write(self.store_of(name), None)
            self.fps.hit("drop.after_store")
            return
        if name in self.tables():  # not when open (or a create of the same name) finishes an interrupted drop
            self._edit(lambda c: c["tables"][name].update(state="dropping"))
            self.fps.hit("drop.after_tombstone")
        self._write(self.store_of(name), None)
        self.fps.hit("drop.after_store")
        self._edit(lambda c: c["tables"].pop(name))
        self.fps.hit("drop.after_catalog")

    def _read(self, name: str) -> Any:  # None: no such file
        return json.loads((self.root / name).read_text("utf-8")) if (self.root / name).exists() else None

    def _write(self, name: str, value: Any) -> None:  # one durable step: the new file, or the old if we die
        file, tmp = self.root / name, self.root / f"{name}.tmp"
        if value is None:
            file.unlink(missing_ok=True)  # recovery may repeat a step that was done
        else:
            tmp.write_text(json.dumps(value, sort_keys=True), "utf-8")
            tmp.replace(file)  # a death keeps the page cache; to survive power loss, fsync too

    def _edit(self, edit: Callable[[dict[str, Any]], Any]) -> None:
        edit(self.catalog)
        self._write(CATALOG, self.catalog)

    def _derived(self) -> frozenset[str]:  # not a tombstone's stores: the drop may have removed them already
        return frozenset(self.store_of(n) for n in self.tables())

    def _begin(self, **args: Any) -> list[Any]:
        """Every call's checks, in the model's order (model/step.py): arguments, then the branch and the table."""
        if self.closed:
            raise E.StorageError("the database is closed")
        checked = [RULES[what](value) for what, value in args.items()]
        if args.get("branch", MAIN) != MAIN:
            raise E.NoSuchBranch(args["branch"])
        if "table" in args and args["table"] not in self.tables():
            raise E.NoSuchTable(args["table"])
        return checked

    def _live(self, table: str, **args: Any) -> dict[str, dict[str, Any]]:  # rows fresh from the file: no aliases
        self._begin(table=table, **args)
        return self._read(self.store_of(table))

    def create_table(self, name: str, indexed: Iterable[str] = ()) -> None:
        name, attrs = self._begin(name=name, indexed=indexed)
        if name in self.tables():
            raise E.TableExists(name)
        if name in self.catalog["tables"]:
            self._drop(name)  # a tombstone of the same name: finish that drop first
        tid = self.catalog["next_id"]
        self._edit(lambda c: c.update(next_id=tid + 1))  # reserve the incarnation id
        store = self.store_of(name, tid)
        old = self._read(store)  # open-or-create, as a real store does: an existing file's rows are kept
        self._write(store, old or {})
        try:
            self.fps.hit("create.after_store")
        except Exception:  # an injected error: a failed create did not apply (a crash is a BaseException)
            self._write(store, old)  # the store as it was: no file, or its old rows
            raise
        self._edit(lambda c: c["tables"].update({name: {"id": tid, "state": "live", "indexes": list(attrs)}}))

    def drop_table(self, name: str) -> None:
        self._begin(table=name)
        self._drop(name)

    def create_index(self, table: str, attr: str) -> None:
        self._begin(table=table, attr=attr)
        if attr in self.catalog["tables"][table]["indexes"]:
            raise E.IndexExists(f"{table}.{attr}")
        self._edit(lambda c: c["tables"][table]["indexes"].append(attr))  # ready at once: `find` reads the rows

    def put(self, table: str, key: str, record: dict[str, Any], branch: str = MAIN) -> None:
        rows = self._live(table, branch=branch, key=key, record=record)
        self.fps.hit("put.before_write")
        self._write(self.store_of(table), {**rows, key: record})

    def delete(self, table: str, key: str, branch: str = MAIN) -> None:
        rows = self._live(table, branch=branch, key=key)
        self.fps.hit("put.before_write")  # a delete takes the steps of a put
        self._write(self.store_of(table), {k: r for k, r in rows.items() if k != key})

    def get(self, table: str, key: str, branch: str = MAIN) -> dict[str, Any] | None:
        return self._live(table, branch=branch, key=key).get(key)
    def scan(self, table: str, branch: str = MAIN) -> dict[str, dict[str, Any]]:
        return self._live(table, branch=branch)

    def find(self, table: str, attr: str, value: Any, branch: str = MAIN) -> frozenset[str]:
        rows = self._live(table, attr=attr, branch=branch, value=value)
        if attr not in self.catalog["tables"][table]["indexes"]:
            raise E.NoSuchIndex(f"{table}.{attr}")
        return frozenset(k for k, r in rows.items()  # type-sensitive: 1 does not find True; None finds nothing
                         if value is not None and type(r.get(attr)) is type(value) and r[attr] == value)

    def tables(self) -> list[str]:
        self._begin()
        return sorted(n for n, row in self.catalog["tables"].items() if row["state"] == "live")  # not tombstones
    def branches(self) -> list[str]:
        self._begin()
        return [MAIN]

    def inventory(self) -> Inventory:
        self._begin()
        ready = {"state": "ready", "checkpoint": None}  # an index is built at once
        tables = {n: {**r, "indexes": {a: ready for a in r["indexes"]}} for n, r in self.catalog["tables"].items()}
        return Inventory(tables=tables, branches={MAIN: {"id": 0, "parent": None}},
                         stores=dict.fromkeys(f.name for f in self.root.glob("store.*.json")),  # unversioned: None
                         derived=self._derived())

    def close(self) -> None:
        self.closed = True  # every step is on disk already
    abandon = close  # a death writes nothing either: the files stay as the last step left them

    def _absent(self, *args: Any) -> Any:  # the capabilities leave these out: the suite never calls them
        raise NotImplementedError("the memory target has no branches, optimize, cleanup or workers")
    create_branch = delete_branch = optimize = cleanup = worker = _absent


MEMORY = SimpleTarget(
    name="memory", opener=MemoryDatabase, catalogue=CATALOGUE,
    capabilities=Capabilities(indexes=True, inventory=True, failpoints=True),
    mutants={"catalog_first_drop": MutantInfo("catalog_first_drop", "I5 no ghosts", None, "000 ghost tables")},
    default=False, programs_per_batch=20)  # not in a run that names no target; a program takes milliseconds
