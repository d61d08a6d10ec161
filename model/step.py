"""The reference model's step function: `step(state, op) -> (state', Outcome)`.

Pure: the same state and op always give the same result. Each operation validates every input first
(names, then keys, then records and values), then checks existence (branch, then table, then index), then
applies. An error leaves the state unchanged. Answers are returned in canonical form (model.ops.canon).

`outcomes_on_error` and `outcomes_on_crash` declare the states an operation may leave when the engine
raised `StorageError`/`Conflict` or died mid-call: the set the possible-states checker forks into.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from model import errors as E
from model.fmap import FMap
from model.ops import Op
from model.rules import MAIN, check_indexed, check_key, check_name, check_record, check_value
from model.state import EMPTY_ROWS, State, TableDef, rows_with
from model.values import canon_record, record_of, tag


@dataclass(frozen=True)
class Outcome:
    """`error` is None for success; `answer` is canonical (model.ops.canon)."""
    answer: Any = None
    error: type[E.ContractError] | None = None

    def __repr__(self) -> str:
        return f"raises {self.error.__name__}" if self.error else f"returns {self.answer!r}"


def _table(s: State, name: str) -> TableDef:
    if name not in s.tables:
        raise E.NoSuchTable(name)
    return s.tables[name]


def _branch(s: State, name: str) -> str:
    if name not in s.branches:
        raise E.NoSuchBranch(name)
    return name


# --- DDL ---------------------------------------------------------------------------------------------

def create_table(s: State, name: str, indexed: Any = ()) -> tuple[State, None]:
    check_name(name, "table")
    attrs = check_indexed(indexed)
    if name in s.tables:
        raise E.TableExists(name)
    td = TableDef(s.next_incarnation, FMap({a: True for a in attrs}))
    data = s.data
    for b in s.branches:  # a new incarnation: empty on every branch, nothing inherited
        data = data.set((b, name), EMPTY_ROWS)
    return replace(s, tables=s.tables.set(name, td), data=data, next_incarnation=s.next_incarnation + 1), None


def drop_table(s: State, name: str) -> tuple[State, None]:
    check_name(name, "table")
    _table(s, name)
    data = s.data
    for b in s.branches:
        data = data.remove((b, name))
    return replace(s, tables=s.tables.remove(name), data=data), None


def create_index(s: State, table: str, attr: str) -> tuple[State, None]:
    check_name(table, "table")
    check_name(attr, "attribute")
    td = _table(s, table)
    if td.indexes.get(attr) is True:
        raise E.IndexExists(f"{table}.{attr}")
    # A missing index is created and backfilled; a not-ready one is resumed. Either way it ends ready.
    return replace(s, tables=s.tables.set(table, td.with_index(attr, True))), None


def create_branch(s: State, name: str, parent: str = MAIN) -> tuple[State, None]:
    check_name(name, "branch")
    check_name(parent, "branch")
    _branch(s, parent)
    if name in s.branches:
        raise E.BranchExists(name)
    data = s.data
    for t in s.tables:  # a snapshot of the parent's data at this moment
        data = data.set((name, t), s.rows(parent, t))
    return replace(s, branches=s.branches.set(name, parent), data=data), None


def delete_branch(s: State, name: str) -> tuple[State, None]:
    check_name(name, "branch")
    if name == MAIN:
        raise E.InvalidName("main cannot be deleted")
    _branch(s, name)
    if s.children(name):
        raise E.BranchInUse(f"{name} has children {s.children(name)}")
    data = s.data
    for t in s.tables:
        data = data.remove((name, t))
    return replace(s, branches=s.branches.remove(name), data=data), None


# --- data --------------------------------------------------------------------------------------------

def put(s: State, table: str, key: str, record: Any, branch: str = MAIN) -> tuple[State, None]:
    check_name(table, "table")
    check_name(branch, "branch")
    check_key(key)
    rec = check_record(record)
    _branch(s, branch)
    _table(s, table)
    rows = rows_with(s.rows(branch, table), key, canon_record(rec))
    return replace(s, data=s.data.set((branch, table), rows)), None


def delete(s: State, table: str, key: str, branch: str = MAIN) -> tuple[State, None]:
    check_name(table, "table")
    check_name(branch, "branch")
    check_key(key)
    _branch(s, branch)
    _table(s, table)
    rows = rows_with(s.rows(branch, table), key, None)
    return replace(s, data=s.data.set((branch, table), rows)), None


def get(s: State, table: str, key: str, branch: str = MAIN) -> tuple[State, Any]:
    check_name(table, "table")
    check_name(branch, "branch")
    check_key(key)
    _branch(s, branch)
    _table(s, table)
    return s, s.rows(branch, table).get(key)


def scan(s: State, table: str, branch: str = MAIN) -> tuple[State, Any]:
    check_name(table, "table")
    check_name(branch, "branch")
    _branch(s, branch)
    _table(s, table)
    return s, tuple(sorted(s.rows(branch, table).items()))


def find(s: State, table: str, attr: str, value: Any, branch: str = MAIN) -> tuple[State, Any]:
    check_name(table, "table")
    check_name(attr, "attribute")
    check_name(branch, "branch")
    check_value(value)
    _branch(s, branch)
    td = _table(s, table)
    if attr not in td.indexes:
        raise E.NoSuchIndex(f"{table}.{attr}")
    if not td.indexes[attr]:
        raise E.IndexNotReady(f"{table}.{attr}")
    return s, project(s, branch, table, attr, value)


def project(s: State, branch: str, table: str, attr: str, value: Any) -> tuple[str, ...]:
    """The keys whose record has `attr == value`, type-sensitively; `None` and missing are not indexed."""
    if value is None:
        return ()
    want = (tag(value), value)
    hits = []
    for key, canon in s.rows(branch, table).items():
        for a, t, v in canon:
            if a == attr and (t, v) == want:
                hits.append(key)
    return tuple(sorted(hits))


def tables(s: State) -> tuple[State, Any]:
    return s, tuple(sorted(s.tables))


def branches(s: State) -> tuple[State, Any]:
    return s, tuple(sorted(s.branches))


def no_change(s: State) -> tuple[State, None]:
    return s, None


STEPS: dict[str, Callable[..., tuple[State, Any]]] = {
    "create_table": create_table, "drop_table": drop_table, "create_index": create_index,
    "put": put, "delete": delete, "get": get, "scan": scan, "find": find,
    "tables": tables, "branches": branches, "create_branch": create_branch,
    "delete_branch": delete_branch, "optimize": no_change, "cleanup": no_change,
}


def step(s: State, op: Op) -> tuple[State, Outcome]:
    """Apply `op` to `s`. Errors leave the state unchanged."""
    try:
        s2, answer = STEPS[op.name](s, *op.args)
    except E.ContractError as e:
        return s, Outcome(error=type(e))
    return s2, Outcome(answer=answer)


# --- declared outcomes of uncertain calls ----------------------------------------------------------

def _building(s: State, op: Op) -> list[State]:
    """create_index interrupted after the descriptor was persisted: the index exists and is not ready."""
    table, attr = op.args[0], op.args[1]
    if step(s, op)[1].error is not None:
        return []
    return [replace(s, tables=s.tables.set(table, s.tables[table].with_index(attr, False)))]


# Beyond "not applied" and "applied", which intermediate states may an interrupted call leave?
INTERMEDIATES: dict[str, Callable[[State, Op], list[State]]] = {"create_index": _building}
# Which operations may have applied when they raised StorageError or Conflict? The others roll back
# before raising (create rolls back its stores, delete_branch fails only before the authority flip).
# Drops tombstone first, writes may be rolled forward by recovery. create_branch rolls its authority
# write back too, but that rollback is a second authority write, and when it fails as well the branch
# stays (found by the fault machine: an error after the publish while catalog puts failed).
INPUT_ERRORS = frozenset({E.InvalidName, E.InvalidRecord, E.InvalidKey})
APPLIED_ON_ERROR = frozenset({"drop_table", "put", "delete", "create_branch"})


def outcomes_on_error(s: State, op: Op) -> list[State]:
    """States a `StorageError` or `Conflict` from `op` may leave (DESIGN: did not apply, or recovery will).

    None when the model rejects the input itself: input rules are checked before any store is touched,
    so bad input must get its typed error, never a storage failure."""
    if step(s, op)[1].error in INPUT_ERRORS:
        return []
    result = [s] + INTERMEDIATES.get(op.name, lambda *_: [])(s, op)
    if op.name in APPLIED_ON_ERROR:
        result.append(step(s, op)[0])
    return result


def outcomes_on_crash(s: State, op: Op) -> list[State]:
    """States a crash (or an unexpected error) in the middle of `op` may leave."""
    return [s, step(s, op)[0]] + INTERMEDIATES.get(op.name, lambda *_: [])(s, op)


def outcomes_on_restart(s: State) -> list[State]:
    """Open resumes every not-ready index's backfill; each may finish (ready) or fail again (not ready)."""
    result = [s]
    for t, td in s.tables.items():
        pending = [a for a, ready in td.indexes.items() if not ready]
        for a in pending:
            result = result + [replace(x, tables=x.tables.set(t, x.tables[t].with_index(a, True)))
                               for x in result]
    return result


def settled(s: State) -> State:
    """The state after faults are off and every backfill resumed to completion (the heal phase)."""
    return outcomes_on_restart(s)[-1]


__all__ = [
    "Outcome",
    "outcomes_on_crash",
    "outcomes_on_error",
    "outcomes_on_restart",
    "project",
    "record_of",
    "settled",
    "step",
]
