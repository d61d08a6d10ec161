"""The model-vs-engine machine under faults: the differential machine's rules, plus a crash or an injected
error inside an operation at a failpoint of that operation (drawn from the catalogue), failing primitives
armed and disarmed, restarts (process death and reopen, also with a crash inside recovery), and a heal
phase at the end of every program (faults off, reopen, cleanup: every invariant of harness/invariants.py).

Calls that crash or raise unexpectedly are indeterminate and fork the possible states; unexpected
(non-contract) exceptions are also recorded and fail the run, so an engine bug cannot hide as "info".
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

import sut
from faults import CATALOGUE, FaultPlan, Failpoints, PointFault, SimulatedCrash
from faults.plan import PRIMITIVES, TARGETS
from model import errors as E
from model.ops import Op
from model.possible import TooManyStates
from reports.counters import RUN
from harness import strategies as S
from harness.crashcheck import GHOSTLESS, heal_checks, observe, verdict
from harness.machine import DifferentialMachine, bad_ops, counted

ALIASES = {"delete": "put"}  # a delete takes the steps of a put
FAULTABLE = ("put", "delete", "drop_table", "create_table", "create_index", "create_branch", "delete_branch",
             "optimize", "cleanup")
TOTALS: Counter[str] = Counter()  # per process: planned and fired faults, steps, reopens
# The primitives each operation calls (any backend): a drawn primitive fault aims at one of these, since a
# fault on a primitive the operation never calls cannot fire (arm_primitives still draws from all of them).
OPERATION_PRIMITIVES = {
    "put": ("create", "put", "fork", "read"), "delete": ("create", "put", "fork", "read"),
    "drop_table": ("drop", "put", "read"), "create_table": ("create", "put", "drop"),
    "create_index": ("create", "put", "read"), "create_branch": ("put", "read"),
    "delete_branch": ("drop", "put", "read"), "optimize": ("compact", "put", "restore", "read"),
    "cleanup": ("drop", "read")}


def failpoints_for(backend: str, op_name: str) -> list[str]:
    key = ALIASES.get(op_name, op_name)
    return sorted(n for n, fp in CATALOGUE.items() if fp.operation == key and backend in fp.backends)


class FaultMachine(DifferentialMachine):

    def __init__(self) -> None:
        super().__init__()
        self.fps = Failpoints(FaultPlan())
        self.primitives: FaultPlan | None = None
        self.unexpected: list[str] = []
        self.recovery_crash: str | None = None
        self.second_opener = False
        self.steps = 0
        self.deaths = 0
        self.fired_at_open = 0  # a StorageError with no fault fired since the last open is a wedge (I9)

    def open_db(self) -> Any:
        """Open with the armed faults; an open that fails under them (a failing disk) is retried with
        faults off, as an operator would after fixing the disk. The failed open itself released all."""
        self.fired_at_open = self._faults_fired()
        try:
            return sut.open_database(self.backend, self.dir, faults=self.fps, mutants=self.mutants)
        except E.StorageError:
            TOTALS["failed opens"] += 1
            self.fps.set_plan(FaultPlan())
            self.primitives = None
            self.model.restarted()  # the failed open may have recovered part of what was pending
            return sut.open_database(self.backend, self.dir, faults=self.fps, mutants=self.mutants)

    # -- one operation, any outcome -----------------------------------------------------------------
    def run(self, op: Op) -> Any:
        TOTALS["steps"] += 1
        self.steps += 1
        target = self.workers[op.worker % len(self.workers)]
        before = self._ghosts() if op.name in GHOSTLESS else None
        try:
            answer = op.call(target)
        except SimulatedCrash:
            self.deaths += 1
            self.model.crashed(op)
            self._restart_after_death()
            return None
        except E.ContractError as e:
            if isinstance(e, E.StorageError) and self._fault_free_since_open():
                raise AssertionError(f"I9 no wedge: {op!r} failed with no fault since the last open: {e!r}") from e
            self.model.failed(op, e)  # StorageError and Conflict fork; the others filter
            if len(self.model) > 1:  # collapse at once: composite rules run several calls in a row
                with self.fps.suspended():
                    observe(self.db, self.model)
            return e
        except (AssertionError, TooManyStates):
            raise  # a check that failed inside the call (in another worker's interleaved call): the finding
        except Exception as e:  # noqa: BLE001 - indeterminate, and recorded: it fails the run
            self.unexpected.append(f"{op!r} raised {type(e).__name__}: {e}")
            self.model.crashed(op, "raised unexpectedly")
            return e
        self.model.ok(op, answer)
        if before is not None:
            left = self._ghosts() - before
            assert not left, f"I4 honest failure: {op!r} reported success but left {sorted(left)}"
        return answer

    def _faults_fired(self) -> int:
        """Faults injected so far: callbacks (interleavings) and counts are not faults."""
        return sum(1 for _name, _n, action in self.fps.fired if action not in ("callback", "count"))

    def _fault_free_since_open(self) -> bool:
        plan = self.fps.plan
        armed = plan is not None and (plan.primitives or any(p.action not in ("callback", "count")
                                                             for p in plan.points))
        return self._faults_fired() == self.fired_at_open and not armed

    def _ghosts(self) -> frozenset[str]:
        with self.fps.suspended():
            return self.db.inventory().ghosts

    def _restart_after_death(self) -> None:
        """Process death: nothing of the dead process survives, its faults included; reopen from disk.
        If the step planned it, the first reopen crashes inside recovery (while there is work pending)."""
        self.db.abandon()
        self.fps.set_plan(FaultPlan())
        self.primitives = None
        point, self.recovery_crash = self.recovery_crash, None
        if self.second_opener and self.backend == "lance":  # another process opens in mid-recovery
            self.second_opener = False
            TOTALS["planned"] += 1
            others: list[Any] = []
            plan = FaultPlan.callback_at("recovery.before_publish",
                                         lambda: others.append(sut.open_database(self.backend, self.dir,
                                                                                  mutants=self.mutants)))
            try:
                sut.open_database(self.backend, self.dir, faults=plan, mutants=self.mutants).close()
            except E.ContractError as e:
                raise AssertionError(f"I9 no wedge: an open racing a second opener failed: {e!r}") from e
            finally:
                for other in others:
                    other.close()
            TOTALS["fired"] += bool(others)
            self.model.restarted()
        if point is not None:
            TOTALS["planned"] += 1
            try:
                sut.open_database(self.backend, self.dir, faults=FaultPlan.crash_at(point),
                                  mutants=self.mutants).close()
            except SimulatedCrash:
                TOTALS["fired"] += 1
            self.model.restarted()
        self.db = self.open_db()
        self.workers = [self.db]
        self.model.restarted()
        TOTALS["reopens"] += 1
        with self.fps.suspended():
            inv = self.db.inventory()
        assert not inv.drift, f"I7: after open, published versions != HEAD: {inv.drift}"
        assert not inv.missing, f"I5: after open, derived stores missing: {sorted(inv.missing)}"

    def _arm(self, plan: FaultPlan) -> int:
        TOTALS["planned"] += 1
        self.fps.set_plan(plan | (self.primitives or FaultPlan()))
        return len(self.fps.fired)

    def _fired_since(self, mark: int) -> None:
        if len(self.fps.fired) > mark:
            TOTALS["fired"] += 1

    # -- fault rules --------------------------------------------------------------------------------
    def fault_in(self, w: int, kind: str, table: str, branch: str, key: str, record: dict[str, Any],
                 attr: str, name: str, which: int, action: str, then_in_recovery: bool,
                 points: list[str] | None = None) -> None:
        """Run one operation on existing names with a crash or an injected error at one of its failpoints
        (`points`; else, two times in three, one this run has already passed), or with one of its
        primitive calls failing; after a crash, optionally crash again in recovery; a crashed write is
        retried (I9)."""
        if kind == "delete":  # a key that is there, if any: deleting nothing takes no step to fault
            there = sorted({k for s in self.model.states if table in s.tables and branch in s.branches
                            for k in s.rows(branch, table)})
            if there and key not in there:
                key = there[which % len(there)]
        if kind == "create_branch":  # a new name if there is one: an existing one fails before any step
            taken = {b for s in self.model.states for b in s.branches}
            name = next((n for n in (name, "b", "c", "d") if n not in taken), name)
        args = {"put": (table, key, record, branch), "delete": (table, key, branch), "drop_table": (table,),
                "create_table": (name if table in self._live_tables() else table, (attr,)),
                "create_index": (table, attr), "create_branch": (name, branch),
                "delete_branch": (name if branch == "main" else branch,),
                "optimize": (), "cleanup": ()}[kind]
        if points is None:  # a write forks only on a branch's first write: that is fault_in_first_write's
            names = [n for n in failpoints_for(self.backend, kind)
                     if kind not in ("put", "delete") or not n.startswith("fork.")]
            reached = [n for n in names if self.fps.hits[n]]  # points this run has passed: likely again
            points = reached if reached and which % 3 else names
        point = points[which % len(points)]
        if action == "primitive":  # one call of a primitive this operation makes, on one kind of store, fails
            made = OPERATION_PRIMITIVES[kind]
            fault = FaultPlan.fail_primitive(made[which % len(made)], TARGETS[which // 7 % 4],
                                             calls=(1 + which // 28,))
        else:
            fault = FaultPlan(points=(PointFault(point, action, hit=self.fps.hits[point] + 1),))
        mark = self._arm(fault)
        if then_in_recovery and action == "crash":
            recovery = failpoints_for(self.backend, "open")
            self.recovery_crash = recovery[which % len(recovery)]
            self.second_opener = which % 2 == 0
        op, deaths = Op(kind, args, w % len(self.workers)), self.deaths
        self.run(op)
        self.recovery_crash = None
        self._fired_since(mark)
        TOTALS[f"fired in {kind}"] += len(self.fps.fired) > mark
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())
            if self.deaths > deaths and kind in ("put", "delete"):
                self.run(op)  # the client retries: I9, the next write must succeed

    # One rule per family of operations, so that each family is faulted about as often as any plain rule
    # is called (one rule over all nine faulted a create_branch in about 1 of 40 CI programs, cleanup never).
    def _fault_rule(kinds: tuple[str, ...], name: str) -> Any:  # type: ignore[misc]
        def faulted(self: "FaultMachine", kind: str, **kwargs: Any) -> None:
            self.fault_in(kind=kind, **kwargs)
        faulted.__name__ = name
        faulted.__doc__ = f"fault_in for {', '.join(kinds)}."
        return rule(w=S.workers, kind=st.sampled_from(kinds), table=DifferentialMachine.tables,
                    branch=DifferentialMachine.branches, key=S.keys, record=S.records, attr=S.attrs,
                    name=S.new_branches, which=st.integers(0, 40),
                    action=st.sampled_from(["crash", "error", "primitive"]),
                    then_in_recovery=st.booleans())(counted(faulted))

    fault_in_write = _fault_rule(("put", "delete"), "fault_in_write")
    fault_in_ddl = _fault_rule(("create_table", "drop_table", "create_index"), "fault_in_ddl")
    fault_in_branch_op = _fault_rule(("create_branch", "delete_branch"), "fault_in_branch_op")
    fault_in_maintenance = _fault_rule(("optimize", "cleanup"), "fault_in_maintenance")
    del _fault_rule

    @rule(w=S.workers, parent=DifferentialMachine.branches, table=DifferentialMachine.tables,
          name=S.new_branches, key=S.keys, record=S.records, which=st.integers(0, 40),
          action=st.sampled_from(["crash", "error", "primitive"]), then_in_recovery=st.booleans())
    @counted
    def fault_in_first_write(self, w: int, parent: str, table: str, name: str, key: str,
                             record: dict[str, Any], which: int, action: str, then_in_recovery: bool) -> None:
        """A new branch and its first write to a table, faulted at a step of that write or at one of its
        primitive calls: the fork-to-publish gap of the Omnigraph seeds, and a fork whose copy fails, are
        reachable by construction (a new branch has forked nothing)."""
        self.op("create_branch", name, parent, w=w)
        if action == "primitive":  # one call of a primitive the fork's copy makes, on the table's stores
            fault = FaultPlan.fail_primitive(("create", "put", "fork")[which % 3], "table",
                                             calls=(1 + which // 3 % 3,))
            mark = self._arm(fault)
            self.run(Op("put", (table, key, record, name), w % len(self.workers)))
            self._fired_since(mark)
            if self.db is not None:
                self.fps.set_plan(self.primitives or FaultPlan())
            return
        self.fault_in(w, "put", table, name, key, record, "a", name, which, action, then_in_recovery,
                      points=failpoints_for(self.backend, "put"))  # all on a first write's path

    @rule(w=S.workers, table=DifferentialMachine.tables, attr=S.attrs, which=st.integers(0, 40),
          action=st.sampled_from(["crash", "error", "primitive"]), then_in_recovery=st.booleans())
    @counted
    def fault_in_backfill(self, w: int, table: str, attr: str, which: int, action: str,
                          then_in_recovery: bool) -> None:
        """Rows first, then an index over them, faulted at a step of its backfill (HarperDB #529). The
        attribute actually used is one with no index yet, if there is one (a ready index ends the call
        before any backfill): a printed program shows the drawn `attr`, the model decides the one used."""
        indexed = {a for s in self.model.states if table in s.tables for a in s.tables[table].indexes}
        attr = next((a for a in (attr, *S.ATTRS, "c") if a not in indexed), attr)
        for i in range(10):
            self.op("put", table, f"r{i}", {attr: i % 3}, "main", w=w)
        if action != "primitive":
            self.fault_in(w, "create_index", table, "main", "k1", {}, attr, "b", which, action,
                          then_in_recovery)
            return
        mark = self._arm(FaultPlan.fail_primitive("put", "index", calls=(1 + which % 10,)))  # the seed's
        self.run(Op("create_index", (table, attr), w % len(self.workers)))
        self._fired_since(mark)
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())

    @rule(w=S.workers, parent=DifferentialMachine.branches, table=DifferentialMachine.tables,
          name=S.new_branches, key=S.keys, record=S.records, what=st.sampled_from(["cleanup", "optimize"]))
    @counted
    def maintenance_inside_first_write(self, w: int, parent: str, table: str, name: str, key: str,
                                       record: dict[str, Any], what: str) -> None:
        """Another worker's maintenance loop runs cleanup or optimize before a first write on a new branch,
        at every one of its steps (inside its fork-to-publish window too) and after it: it must neither
        destroy nor freeze what the write makes."""
        self.op("create_branch", name, parent, w=w)
        other = self.db.worker()
        busy: list[str] = []

        def interleaved() -> None:
            if busy:
                return  # a step of the maintenance itself, not of the write
            busy.append(what)
            try:
                getattr(other, what)()
            except E.StorageError as e:  # with no fault since the last open, nothing explains it
                if clean:
                    raise AssertionError(f"I9 no wedge: {what} failed with no fault since the last open: {e!r}") \
                        from e
            except E.ContractError:
                pass  # a Conflict: maintenance may lose a race; it must not harm the write
            finally:
                busy.pop()
        clean = self._fault_free_since_open()
        interleaved()
        steps = tuple(PointFault(p, "callback", callback=interleaved) for p in failpoints_for(self.backend, "put"))
        mark = self._arm(FaultPlan(points=steps))
        answer = self.run(Op("put", (table, key, record, name), w % len(self.workers)))
        self._fired_since(mark)
        # No fault since the last open and only maintenance inside the write: a failure is its doing.
        assert not (clean and isinstance(answer, E.StorageError)), \
            f"I1 equivalence: a first write to {table}@{name} failed with only {what} interleaved: {answer!r}"
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())
            interleaved()

    @rule(w=S.workers, parent=DifferentialMachine.branches, name=S.new_branches, doomed=S.new_branches,
          key=S.keys, record=S.records)
    @counted
    def first_write_inside_cleanup(self, w: int, parent: str, name: str, doomed: str, key: str,
                                   record: dict[str, Any]) -> None:
        """The mirror of maintenance_inside_first_write: a cleanup sweeps the ghost of a deleted branch
        (its reclaim failed), and at that step another worker creates a branch and writes to it, forking
        every table: those the sweep has passed and those it has yet to reach (there are two at least).
        Each fork it publishes meanwhile must survive the rest of the sweep."""
        for t in S.TABLES:
            if t not in self._live_tables():
                self.op("create_table", t, (), w=w)
        self.op("create_branch", doomed, parent, w=w)
        for t in sorted(self._live_tables()):
            self.op("put", t, "mine", {"a": 1}, doomed, w=w)
        drops = FaultPlan.fail_primitive("drop", "any", calls=(1,))  # the delete's reclaim leaves a ghost
        self.fps.set_plan(drops | (self.primitives or FaultPlan()))
        self.op("delete_branch", doomed, w=w)
        writer = self.db.worker()

        def interleaved() -> None:
            writes = [Op("put", (t, key, record, name)) for t in sorted(self._live_tables())]
            for op in [Op("create_branch", (name, parent)), *writes]:
                self.workers.append(writer)  # self.run addresses workers by index
                try:
                    self.run(Op(op.name, op.args, len(self.workers) - 1))
                finally:
                    self.workers.pop()
        mark = self._arm(FaultPlan.callback_at("cleanup.before_reclaim", interleaved,
                                               hit=self.fps.hits["cleanup.before_reclaim"] + 1))
        self.run(Op("cleanup", (), w % len(self.workers)))
        self._fired_since(mark)
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())

    @rule(w=S.workers, table=DifferentialMachine.tables, attr=S.attrs, which=st.integers(0, 40),
          action=st.sampled_from(["crash", "error", "primitive"]))
    @counted
    def fault_in_drop_then_recreate(self, w: int, table: str, attr: str, which: int, action: str) -> None:
        """A drop faulted at one of its steps, then a same-name create (HarperDB #1246): the new table must
        start empty everywhere and the old one must never come back."""
        self.op("put", table, "old", {attr: 1}, "main", w=w)
        self.fault_in(w, "drop_table", table, "main", "k1", {}, attr, "b", which, action, False)
        if self.db is not None:
            self.op("create_table", table, (attr,), w=w)

    @rule(w=S.workers, parent=DifferentialMachine.branches, table=DifferentialMachine.tables,
          name=S.new_branches, which=st.integers(0, 40), action=st.sampled_from(["crash", "error", "primitive"]))
    @counted
    def fault_in_branch_delete(self, w: int, parent: str, table: str, name: str, which: int, action: str) -> None:
        """A new branch with a fork of its own, then its delete faulted at one of its steps."""
        self.op("create_branch", name, parent, w=w)
        self.op("put", table, "mine", {"a": 1}, name, w=w)
        self.fault_in(w, "delete_branch", table, name, "k1", {}, "a", name, which, action, False)

    def _live_tables(self) -> set[str]:
        return {t for s in self.model.states for t in s.tables}

    @rule(primitive=st.sampled_from(PRIMITIVES), holding=st.sampled_from(TARGETS),
          every=st.integers(1, 6), persistent=st.booleans())
    @precondition(lambda self: self.primitives is None)
    @counted
    def arm_primitives(self, primitive: str, holding: str, every: int, persistent: bool) -> None:
        """From now on, fail every nth call of a primitive on the stores holding tables/indexes/catalog."""
        self.primitives = FaultPlan.fail_primitive(primitive, holding, every=every, persistent=persistent)
        self.fps.set_plan(self.primitives)
        self.armed_at = len(self.fps.fired)
        TOTALS["planned"] += 1

    @rule()
    @precondition(lambda self: self.primitives is not None)
    @counted
    def disarm_primitives(self) -> None:
        self._fired_since(self.armed_at)
        self.primitives = None
        self.fps.set_plan(FaultPlan())

    @rule()
    @counted
    def restart(self) -> None:
        """Process death between calls: abandon and reopen."""
        self._restart_after_death()

    @rule()
    @counted
    def heal(self) -> None:
        """Faults off, reopen, cleanup: every invariant must hold, then the program goes on."""
        self._heal()

    def _heal(self) -> None:
        self.fps.set_plan(FaultPlan())
        self.primitives = None
        self.db.close()
        self.db = None
        checks = heal_checks(self.backend, self.dir, self.model, mutants=self.mutants)
        TOTALS["invariant checks"] += len(checks)
        for check in checks:
            RUN.checked(check.invariant)
        assert all(checks), verdict(checks)
        self.db = self.open_db()
        self.workers = [self.db]

    # -- invariants and the end of a program ---------------------------------------------------------
    def cleanup(self, w: int) -> None:  # faults may leave ghosts that only a fault-free cleanup reclaims
        self.op("cleanup", w=w)

    cleanup = rule(w=S.workers)(counted(cleanup))  # type: ignore[assignment]

    def bad_input(self, w: int, op: tuple[str, tuple]) -> None:
        with self.fps.suspended():  # input rules come before any store: no fault can be reached
            super().bad_input.__wrapped__(self, w, op)  # type: ignore[attr-defined]

    bad_input = rule(w=S.workers, op=bad_ops())(counted(bad_input))  # type: ignore[assignment]

    @invariant()
    def observable_state_matches(self) -> None:
        if self.db is not None:
            with self.fps.suspended():  # the harness looks; faults are for the operations under test
                observe(self.db, self.model)
            RUN.checked("I1 equivalence")

    @invariant()
    def authority_matches_disk(self) -> None:
        if self.db is not None:
            with self.fps.suspended():
                inv = self.db.inventory()
            assert not inv.missing, f"I5: the authority references missing stores {sorted(inv.missing)}"
            assert inv.sidecars or not inv.drift, f"I7: published versions != HEAD, no recovery pending: {inv.drift}"
            assert not inv.locks_held, f"I9: locks held between calls: {inv.locks_held}"
            for name in ("I5 no ghosts", "I7 manifest tracks HEAD", "I9 no wedge"):
                RUN.checked(name)

    def teardown(self) -> None:
        if self.primitives is not None:
            self._fired_since(self.armed_at)
        try:
            assert not self.unexpected, f"unexpected exceptions (engine bugs): {self.unexpected}"
            if self.db is not None:
                self._heal()
        finally:
            RUN.machine_done(self.backend, self.steps, self.fps.report())
            super().teardown()
