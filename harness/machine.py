"""The model-vs-engine state machine: Hypothesis drives the reference model (as a set of possible states)
and a real database side by side, through random workers, and compares every answer.

This is the fault-free differential machine; the fault rules build on it (harness.fault_machine). It runs
against one `Target` (`machine_for(target)` makes the class); a rule whose capability the target lacks is
switched off by a precondition. A failing example prints as a runnable program over that class.
"""
from __future__ import annotations

import re
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

from harness import strategies as S
from harness.invariants import require
from harness.sticky import step, sticking, sticky
from harness.target import Capabilities, Target
from harness.targets import resolve
from model import errors as E
from model.ops import Op
from model.possible import PossibleStates

RULE_CALLS: Counter[str] = Counter()  # per process: lets a test prove every rule was exercised


def counted(fn: Any, name: str | None = None) -> Any:
    """The rule body, counting its calls under the rule's name (RULE_CALLS), its failure sticky once the
    program has run calls at once (harness.sticky)."""
    name = name or fn.__name__

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        RULE_CALLS[name] += 1
        if self.stepping:  # a rule body calling another's (an override): one step of the program
            return fn(self, *args, **kwargs)
        self.trail.append(step(name, args, kwargs))
        self.program.append(self.trail[-1])
        self.stepping = True
        try:
            with sticking(self, "the step"):
                return fn(self, *args, **kwargs)
        finally:
            self.stepping = False
    wrapper.__name__ = name
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _args(name: str, *args: Any, **kwargs: Any) -> tuple:
    return Op.make(name, *args, **kwargs).args


ALL_ON = Capabilities(**{f: True for f in Capabilities.__dataclass_fields__})


def any_op(caps: Capabilities = ALL_ON) -> st.SearchStrategy[tuple[str, tuple]]:
    """Any operation the target offers, on any names of the alphabet."""
    t, b, a = S.tables, S.branches, S.attrs
    indexed = st.lists(a, max_size=2).map(tuple) if caps.indexes else st.just(())
    ops = [
        st.tuples(st.just("create_table"), st.tuples(t, indexed)),
        st.tuples(st.just("drop_table"), st.tuples(t)),
        st.tuples(st.just("put"), st.tuples(t, S.keys, S.records, b)),
        st.tuples(st.just("delete"), st.tuples(t, S.keys, b)),
        st.tuples(st.just("get"), st.tuples(t, S.keys, b)),
        st.tuples(st.just("scan"), st.tuples(t, b)),
    ]
    if caps.indexes:  # in the order the alphabet had before targets: a derandomized search stays the same
        ops[2:2] = [st.tuples(st.just("create_index"), st.tuples(t, a))]
        ops.append(st.tuples(st.just("find"), st.tuples(t, a, S.values, b)))
    if caps.branches:
        ops += [st.tuples(st.just("create_branch"), st.tuples(b, b)), st.tuples(st.just("delete_branch"), st.tuples(b))]
    return st.one_of(*ops)


def bad_ops(caps: Capabilities = ALL_ON) -> st.SearchStrategy[tuple[str, tuple]]:
    n, k, r, t = S.bad_names, S.bad_keys, S.bad_records, S.tables
    ops = [
        st.builds(lambda x: Op.make("create_table", x), n),
        st.builds(lambda x: Op.make("drop_table", x), n),
        st.builds(lambda x: Op.make("put", x, "k1", {}), n),
        st.builds(lambda x, y: Op.make("put", x, y, {}), t, k),
        st.builds(lambda x, y: Op.make("put", x, "k1", y), t, r),
        st.builds(lambda x, y: Op.make("put", x, "k1", {}, y), t, n),
        st.builds(lambda x, y: Op.make("delete", x, y), t, k),
        st.builds(lambda x, y: Op.make("get", x, y), t, k),
        st.builds(lambda x: Op.make("scan", x), n),
    ]
    if caps.indexes:
        ops[1:1] = [st.builds(lambda x: Op.make("create_table", "t", indexed=[x]), n)]
        ops[3:3] = [st.builds(lambda x, y: Op.make("create_index", x, y), st.one_of(n, t), n)]
        ops.append(st.builds(lambda x, v: Op.make("find", x, "a", v), t, st.sampled_from([1.5, b"x", [], 2**64])))
    if caps.branches:
        ops += [st.builds(lambda x: Op.make("create_branch", x), n),
                st.builds(lambda x: Op.make("create_branch", "b", x), n),
                st.builds(lambda x: Op.make("delete_branch", x), n)]
    # A tuple's repr is valid Python; an Op's is a call on a worker.
    return st.one_of(*ops).map(lambda op: (op.name, op.args))


def can(capability: str) -> Any:
    """A precondition: the machine's target has this capability."""
    return lambda self: getattr(self.target.capabilities, capability)


class DifferentialMachine(RuleBasedStateMachine):
    target: Target  # set by machine_for
    mutants: tuple[str, ...] = ()  # a mutant whose bug needs no fault shows up here already

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix=f"diff-{self.target.name}-")
        self.model = PossibleStates()
        self.db: Any = None
        self.workers: list[Any] = []
        self.observations = 0  # the per-step observation reads through each worker in turn
        self.trail: list[str] = []  # the steps so far, with their arguments (harness.sticky)
        self.program: list[str] = []  # and the checks between them: the program as a reproducer runs it
        self.stepping = False  # inside a step (a rule body)
        self.scheduled = False  # calls have run at once: where they overlapped was the scheduler's

    tables = Bundle("tables")
    branches = Bundle("branches")

    @initialize(target=tables, indexed=st.lists(S.attrs, max_size=2, unique=True))
    def open(self, indexed: list[str]) -> str:
        """Open a fresh database with one table, so most programs start with something to write to."""
        self.trail.append(step("open", (), {"indexed": indexed}))
        self.program.append(self.trail[-1])
        self.db = self.open_db()
        self.workers = [self.db]
        self.op("create_table", "t", tuple(indexed) if self.target.capabilities.indexes else ())
        return "t"

    @initialize(target=branches)
    def main_branch(self) -> str:
        return "main"

    def open_db(self) -> Any:
        return self.target.open(self.dir, mutants=self.mutants)

    def reopened_workers(self) -> list[Any]:
        """After a reopen, as many workers as before, on the new database: their caches then live long
        enough to go stale under other workers' DDL (the stale dropped-handle reuse of the ghost-table seed)."""
        return [self.db] + [self.db.worker() for _ in self.workers[1:]]

    def observer(self) -> int:
        """The worker the next per-step observation reads through: each in turn, so a stale cache of any of
        them is seen, not only worker 0's (deterministic, so a printed program replays the same reads)."""
        self.observations += 1
        return self.observations % max(1, len(self.workers))

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
    @precondition(lambda self: self.target.capabilities.workers and len(self.workers) < 3)
    @counted
    def add_worker(self) -> None:
        self.workers.append(self.db.worker())

    @rule(target=tables, w=S.workers, name=S.tables, indexed=st.lists(S.attrs, max_size=2))
    @counted
    def create_table(self, w: int, name: str, indexed: list[str]) -> str:
        self.op("create_table", name, tuple(indexed) if self.target.capabilities.indexes else (), w=w)
        return name

    @rule(w=S.workers, table=consumes(tables))
    @counted
    def drop_table(self, w: int, table: str) -> None:
        self.op("drop_table", table, w=w)

    @rule(w=S.workers, table=tables, attr=S.attrs)
    @precondition(can("indexes"))
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
    @precondition(can("indexes"))
    @counted
    def find(self, w: int, table: str, branch: str, attr: str, value: Any) -> None:
        self.op("find", table, attr, value, branch, w=w)

    @rule(target=branches, w=S.workers, name=S.new_branches, parent=branches)
    @precondition(can("branches"))
    @counted
    def create_branch(self, w: int, name: str, parent: str) -> str:
        self.op("create_branch", name, parent, w=w)
        return name

    @rule(w=S.workers, branch=branches)
    @precondition(can("branches"))
    @counted
    def delete_branch(self, w: int, branch: str) -> None:
        self.op("delete_branch", branch, w=w)

    @rule(w=S.workers)
    @precondition(can("optimize"))
    @counted
    def optimize(self, w: int) -> None:
        self.op("optimize", w=w)

    @rule(w=S.workers)
    @precondition(can("cleanup"))
    @counted
    def cleanup(self, w: int) -> None:
        self.op("cleanup", w=w)
        if self.target.capabilities.inventory:
            inv = self.db.inventory()
            require(not inv.ghosts, "I5 no ghosts", lambda: f"cleanup left ghosts {sorted(inv.ghosts)}")

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
        self.workers = self.reopened_workers()
        self.model.restarted()

    @rule(w=S.workers, op=bad_ops())
    @counted
    def bad_input(self, w: int, op: tuple[str, tuple]) -> None:
        """A bad name, key, record or value gets its typed error and nothing on disk changes."""
        white = self.target.capabilities.inventory
        before = self.db.inventory() if white else None
        result = self.run(Op(op[0], op[1], w % len(self.workers)))
        require(isinstance(result, (E.InvalidName, E.InvalidRecord)), "I1 equivalence", f"{op!r} gave {result!r}")
        require(not white or self.db.inventory() == before, "I4 honest failure", f"{op!r} changed the inventory")

    @classmethod
    def rules_for(cls, target: Target) -> dict[str, Any]:
        """Rules whose drawn operations depend on the target's capabilities, rebuilt for it (a target with
        them all keeps the rules as they are)."""
        caps = target.capabilities
        if caps.indexes and caps.branches:
            return {}
        # A rule's __wrapped__ is its `counted` wrapper; that one's __wrapped__ is the body.
        return {name: rule(w=S.workers, op=draw(caps))(counted(getattr(cls, name).__wrapped__.__wrapped__, name))
                for name, draw in (("random_op", any_op), ("bad_input", bad_ops))}

    # -- invariants: the whole observable state equals the model's, and the authority derives disk ---
    @invariant()
    @sticky
    def observable_state_matches(self) -> None:
        if self.db is None:
            return
        w = self.observer()
        self.op("tables", w=w)
        self.op("branches", w=w)
        state = self.model.only()
        for branch in state.branches:
            for table, td in state.tables.items():
                self.op("scan", table, branch, w=w)
                for attr in td.indexes if self.target.capabilities.indexes else ():
                    for value in (1, True, "x"):
                        self.op("find", table, attr, value, branch, w=w)

    @invariant()
    @sticky
    def authority_matches_disk(self) -> None:
        if self.db is None or not self.target.capabilities.inventory:
            return
        inv = self.db.inventory()
        require(not inv.missing, "I5 no ghosts",
                lambda: f"the authority references missing stores {sorted(inv.missing)}")
        require(not inv.locks_held, "I9 no wedge", f"locks held between calls: {inv.locks_held}")
        require(not inv.tombstones, "I4 honest failure", f"tombstones left by successful drops: {inv.tombstones}")
        require(not self.target.capabilities.versions or not inv.drift, "I7 manifest tracks HEAD",
                f"published versions != HEAD: {inv.drift}")


def machine_for(target: Target | str, mutants: tuple[str, ...] = (), base: type = DifferentialMachine,
                name: str | None = None) -> type:
    """The machine class for one target (and mutant set): `base` with the target bound and the rules whose
    strategies depend on what the target offers drawn from it. Its name is stable, so Hypothesis keys its
    example database the same way in every process."""
    t = resolve(target)
    suffix = "".join(f"_{m}" for m in sorted(mutants))
    attrs: dict[str, Any] = {"target": t, "mutants": tuple(mutants), "__module__": base.__module__}
    attrs.update(base.rules_for(t))  # type: ignore[attr-defined]
    # A printed program starts `state = <name>()`: an identifier, whatever the target's name ("x-blackbox").
    return type(re.sub(r"\W", "_", name or f"{base.__name__}_{t.name}{suffix}"), (base,), attrs)
