"""The model-vs-engine state machine: Hypothesis drives the reference model (as a set of possible states)
and a real database side by side, through random workers, and compares every answer.

This is the fault-free differential machine; the fault rules build on it (issue 6). A failing example
prints as a runnable program over the concrete subclass of each backend (`DifferentialLmdb` ...).
"""
from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

import sut
from model import errors as E
from model.ops import Op
from model.possible import PossibleStates
from harness import strategies as S

RULE_CALLS: Counter[str] = Counter()  # per process: lets a test prove every rule was exercised


def counted(fn: Any) -> Any:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        RULE_CALLS[fn.__name__] += 1
        return fn(self, *args, **kwargs)
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _args(name: str, *args: Any, **kwargs: Any) -> tuple:
    return Op.make(name, *args, **kwargs).args


def any_op() -> st.SearchStrategy[tuple[str, tuple]]:
    t, b, a = S.tables, S.branches, S.attrs
    return st.one_of(
        st.tuples(st.just("create_table"), st.tuples(t, st.lists(a, max_size=2).map(tuple))),
        st.tuples(st.just("drop_table"), st.tuples(t)),
        st.tuples(st.just("create_index"), st.tuples(t, a)),
        st.tuples(st.just("put"), st.tuples(t, S.keys, S.records, b)),
        st.tuples(st.just("delete"), st.tuples(t, S.keys, b)),
        st.tuples(st.just("get"), st.tuples(t, S.keys, b)),
        st.tuples(st.just("scan"), st.tuples(t, b)),
        st.tuples(st.just("find"), st.tuples(t, a, S.values, b)),
        st.tuples(st.just("create_branch"), st.tuples(b, b)),
        st.tuples(st.just("delete_branch"), st.tuples(b)),
    )


def bad_ops() -> st.SearchStrategy[tuple[str, tuple]]:
    n, k, r, t = S.bad_names, S.bad_keys, S.bad_records, S.tables
    return st.one_of(
        st.builds(lambda x: Op.make("create_table", x), n),
        st.builds(lambda x: Op.make("create_table", "t", indexed=[x]), n),
        st.builds(lambda x: Op.make("drop_table", x), n),
        st.builds(lambda x, y: Op.make("create_index", x, y), st.one_of(n, t), n),
        st.builds(lambda x: Op.make("put", x, "k1", {}), n),
        st.builds(lambda x, y: Op.make("put", x, y, {}), t, k),
        st.builds(lambda x, y: Op.make("put", x, "k1", y), t, r),
        st.builds(lambda x, y: Op.make("put", x, "k1", {}, y), t, n),
        st.builds(lambda x, y: Op.make("delete", x, y), t, k),
        st.builds(lambda x, y: Op.make("get", x, y), t, k),
        st.builds(lambda x: Op.make("scan", x), n),
        st.builds(lambda x, v: Op.make("find", x, "a", v), t, st.sampled_from([1.5, b"x", [], 2**64])),
        st.builds(lambda x: Op.make("create_branch", x), n),
        st.builds(lambda x: Op.make("create_branch", "b", x), n),
        st.builds(lambda x: Op.make("delete_branch", x), n),
    ).map(lambda op: (op.name, op.args))  # a tuple's repr is valid Python; an Op's is a call on a worker


class DifferentialMachine(RuleBasedStateMachine):
    backend = "lmdb"
    mutants: tuple[str, ...] = ()  # a mutant whose bug needs no fault shows up here already

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix=f"diff-{self.backend}-")
        self.model = PossibleStates()
        self.db: Any = None
        self.workers: list[Any] = []

    tables = Bundle("tables")
    branches = Bundle("branches")

    @initialize(target=tables, indexed=st.lists(S.attrs, max_size=2, unique=True))
    def open(self, indexed: list[str]) -> str:
        """Open a fresh database with one table, so most programs start with something to write to."""
        self.db = self.open_db()
        self.workers = [self.db]
        self.op("create_table", "t", tuple(indexed))
        return "t"

    @initialize(target=branches)
    def main_branch(self) -> str:
        return "main"

    def open_db(self) -> Any:
        return sut.open_database(self.backend, self.dir, mutants=self.mutants)

    def teardown(self) -> None:
        if self.db is not None:
            self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- running one operation on both sides --------------------------------------------------------
    def run(self, op: Op) -> Any:
        target = self.workers[op.worker % len(self.workers)]
        try:
            answer = op.call(target)
        except E.StorageError as e:  # fault-free: the engine has no reason to fail
            raise AssertionError(f"{op!r} raised {e!r} with no fault planned") from e
        except E.ContractError as e:
            self.model.failed(op, e)
            return e
        self.model.ok(op, answer)
        return answer

    def op(self, name: str, *args: Any, w: int = 0) -> Any:
        return self.run(Op(name, args, w % max(1, len(self.workers))))

    # -- rules: every contract operation ----------------------------------------------------------
    @rule()
    @precondition(lambda self: len(self.workers) < 3)
    @counted
    def add_worker(self) -> None:
        self.workers.append(self.db.worker())

    @rule(target=tables, w=S.workers, name=S.tables, indexed=st.lists(S.attrs, max_size=2))
    @counted
    def create_table(self, w: int, name: str, indexed: list[str]) -> str:
        self.op("create_table", name, tuple(indexed), w=w)
        return name

    @rule(w=S.workers, table=consumes(tables))
    @counted
    def drop_table(self, w: int, table: str) -> None:
        self.op("drop_table", table, w=w)

    @rule(w=S.workers, table=tables, attr=S.attrs)
    @counted
    def create_index(self, w: int, table: str, attr: str) -> None:
        self.op("create_index", table, attr, w=w)

    @rule(w=S.workers, table=tables, branch=branches, key=S.keys, record=S.records)
    @counted
    def put(self, w: int, table: str, branch: str, key: str, record: dict[str, Any]) -> None:
        self.op("put", table, key, record, branch, w=w)

    @rule(w=S.workers, table=tables, branch=branches, key=S.keys)
    @counted
    def delete(self, w: int, table: str, branch: str, key: str) -> None:
        self.op("delete", table, key, branch, w=w)

    @rule(w=S.workers, table=tables, branch=branches, key=S.keys)
    @counted
    def get(self, w: int, table: str, branch: str, key: str) -> None:
        self.op("get", table, key, branch, w=w)

    @rule(w=S.workers, table=tables, branch=branches)
    @counted
    def scan(self, w: int, table: str, branch: str) -> None:
        self.op("scan", table, branch, w=w)

    @rule(w=S.workers, table=tables, branch=branches, attr=S.attrs, value=S.values)
    @counted
    def find(self, w: int, table: str, branch: str, attr: str, value: Any) -> None:
        self.op("find", table, attr, value, branch, w=w)

    @rule(target=branches, w=S.workers, name=S.new_branches, parent=branches)
    @counted
    def create_branch(self, w: int, name: str, parent: str) -> str:
        self.op("create_branch", name, parent, w=w)
        return name

    @rule(w=S.workers, branch=branches)
    @counted
    def delete_branch(self, w: int, branch: str) -> None:
        self.op("delete_branch", branch, w=w)

    @rule(w=S.workers)
    @counted
    def optimize(self, w: int) -> None:
        self.op("optimize", w=w)

    @rule(w=S.workers)
    @counted
    def cleanup(self, w: int) -> None:
        self.op("cleanup", w=w)
        inv = self.db.inventory()
        assert not inv.ghosts, f"cleanup left ghosts {sorted(inv.ghosts)}"

    @rule(w=S.workers, op=any_op())
    @counted
    def random_op(self, w: int, op: tuple[str, tuple]) -> None:
        """Any operation on any names of the alphabet: the error paths (NoSuch*, *Exists, BranchInUse)."""
        self.run(Op(op[0], op[1], w % len(self.workers)))

    @rule()
    @counted
    def reopen(self) -> None:
        """Orderly close and open: recovery runs, every answer must stay the same."""
        self.db.close()
        self.db = self.open_db()
        self.workers = [self.db]
        self.model.restarted()

    @rule(w=S.workers, op=bad_ops())
    @counted
    def bad_input(self, w: int, op: tuple[str, tuple]) -> None:
        """A bad name, key, record or value gets its typed error and nothing on disk changes."""
        before = self.db.inventory()
        result = self.run(Op(op[0], op[1], w % len(self.workers)))
        assert isinstance(result, (E.InvalidName, E.InvalidRecord)), f"{op!r} gave {result!r}"
        assert self.db.inventory() == before, f"{op!r} changed the inventory"

    # -- invariants: the whole observable state equals the model's, and the authority derives disk ---
    @invariant()
    def observable_state_matches(self) -> None:
        if self.db is None:
            return
        self.op("tables")
        self.op("branches")
        state = self.model.only()
        for branch in state.branches:
            for table, td in state.tables.items():
                self.op("scan", table, branch)
                for attr in td.indexes:
                    for value in (1, True, "x"):
                        self.op("find", table, attr, value, branch)

    @invariant()
    def authority_matches_disk(self) -> None:
        if self.db is None:
            return
        inv = self.db.inventory()
        assert not inv.missing, f"the authority references missing stores {sorted(inv.missing)}"
        assert not inv.locks_held, f"locks held between calls: {inv.locks_held}"
        assert not inv.tombstones, f"tombstones left by successful drops: {inv.tombstones}"
        assert not inv.drift, f"I7: published versions != HEAD: {inv.drift}"
