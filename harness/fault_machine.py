"""The model-vs-engine machine under faults: the differential machine's rules, plus a crash or an injected
error inside an operation at a failpoint of that operation (drawn from the catalogue), failing primitives
armed and disarmed, restarts (process death and reopen, also with a crash inside recovery), and a heal
phase at the end of every program (faults off, reopen, cleanup: every invariant of harness/invariants.py).

Calls that crash or raise unexpectedly are indeterminate and fork the possible states; unexpected
(non-contract) exceptions are also recorded and fail the run, so an engine bug cannot hide as "info".
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from functools import partial
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from faults import FaultPlan, Failpoints, PointFault, SimulatedCrash
from faults.catalogue import FIRST_WRITE, INTERLEAVE, RACING_OPEN
from faults.plan import PRIMITIVES
from faults.plan import TARGETS as STORE_KINDS
from harness import strategies as S
from harness.blackbox import BlackBoxRules
from harness.concurrent import ConcurrentRules
from harness.interleave import InterleaveRules
from harness.crashcheck import GHOSTLESS, heal_checks, observe
from harness.invariants import CheckFailed, fail, require
from harness.sticky import sticky
from harness.machine import DifferentialMachine, bad_ops, can, counted
from harness.target import Target, points_of, points_tagged
from model import errors as E
from model.ops import Op
from model.possible import TooManyStates
from reports.counters import RUN

ALIASES = {"delete": "put"}  # a delete takes the steps of a put
FAULTABLE = ("put", "delete", "drop_table", "create_table", "create_index", "create_branch", "delete_branch",
             "optimize", "cleanup")
TOTALS: Counter[str] = Counter()  # per process: planned and fired faults, steps, reopens
# The backfill rule indexes attributes no other rule indexes (they still occur in records), so that its
# index is new and its backfill runs: an index that exists ends the call before any backfill step.
BACKFILLED = ("c", "d", "e")
# The interleavings written for known races; the generic family (harness.interleave) is to cover them.
HAND_WRITTEN = ("maintenance_inside_first_write", "first_write_inside_cleanup")


def _primitive_fault(kind: str, calls: int, pair: tuple[str, str]) -> st.SearchStrategy[tuple]:
    return st.tuples(st.just(kind), st.just("primitive"), st.just(pair[0]), st.just(pair[1]), st.integers(1, calls))


class FaultMachine(InterleaveRules, ConcurrentRules, BlackBoxRules, DifferentialMachine):

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
        self.reopened = False  # the next observation reads back what was acknowledged before a reopen (I3)

    def open_db(self) -> Any:
        """Open with the armed faults; an open that fails under them (a failing disk) is retried with
        faults off, as an operator would after fixing the disk. The failed open itself released all."""
        self.fired_at_open = self._faults_fired()
        self.blackbox_armed = False
        try:
            return self.target.open(self.dir, faults=self.fps, mutants=self.mutants)
        except E.StorageError:
            TOTALS["failed opens"] += 1
            self.fps.set_plan(FaultPlan())
            self.primitives = None
            self.model.restarted()  # the failed open may have recovered part of what was pending
            return self.target.open(self.dir, faults=self.fps, mutants=self.mutants)

    # -- one operation, any outcome -----------------------------------------------------------------
    def run(self, op: Op) -> Any:
        TOTALS["steps"] += 1
        self.steps += 1
        target = self.workers[op.worker % len(self.workers)]
        before = self._ghosts() if op.name in GHOSTLESS else None
        try:
            answer = op.call(target)
        except SimulatedCrash as e:
            if getattr(e, "unplanned", False) and self._fault_free_since_open():  # the engine's process died
                raise fail("I9 no wedge", f"{op!r}: {e} with no fault planned") from e
            self.deaths += 1
            self.model.crashed(op)
            self._restart_after_death()
            return None
        except E.ContractError as e:
            if isinstance(e, E.StorageError) and self._fault_free_since_open():
                raise fail("I9 no wedge", f"{op!r} failed with no fault since the last open: {e!r}") from e
            self.model.failed(op, e)  # StorageError and Conflict fork; the others filter
            if len(self.model) > 1 and not self.blackbox_armed:  # collapse at once: composite rules run
                # several calls in a row (under a system-call fault, the restart that follows comes first)
                with self.fps.suspended():
                    observe(self.db, self.model)
            return e
        except (CheckFailed, AssertionError, TooManyStates):
            raise  # a check that failed inside the call (in another worker's interleaved call): the finding
        except Exception as e:  # noqa: BLE001 - indeterminate, and recorded: it fails the run
            self.unexpected.append(f"{op!r} raised {type(e).__name__}: {e}")
            self.model.crashed(op, "raised unexpectedly")
            return e
        self.model.ok(op, answer)
        if before is not None:
            left = self._ghosts() - before
            require(not left, "I4 honest failure", lambda: f"{op!r} reported success but left {sorted(left)}")
        return answer

    def _faults_fired(self) -> int:
        """Faults injected so far: callbacks (interleavings) and counts are not faults."""
        return sum(1 for _name, _n, action in self.fps.fired if action not in ("callback", "count"))

    def _fault_free_since_open(self) -> bool:
        return self._faults_fired() == self.fired_at_open and self._nothing_armed()

    def _nothing_armed(self) -> bool:
        """No fault is in force: no failing primitive, no point fault other than callbacks, no black-box one."""
        plan = self.fps.plan
        armed = plan is not None and (plan.primitives or any(p.action not in ("callback", "count")
                                                             for p in plan.points))
        return not armed and not self.blackbox_armed

    def _ghosts(self) -> frozenset[str]:
        if not self.target.capabilities.inventory:
            return frozenset()
        with self.fps.suspended():
            return self._inventory().ghosts

    def _inventory(self) -> Any:
        """The harness's own look at the engine, between calls: with no fault in force, a StorageError is a
        wedge (I9), not a harness failure."""
        try:
            return self.db.inventory()
        except E.StorageError as e:
            raise fail("I9 no wedge", f"inventory() failed with no fault in force: {e!r}") from e

    def _restart_after_death(self) -> None:
        """Process death: nothing of the dead process survives, its faults included; reopen from disk.
        If the step planned it, another opener races the first reopen's recovery (at the target's failpoint
        tagged RACING_OPEN), and the first reopen crashes inside recovery (while there is work pending)."""
        self.target.kill(self.db)
        self.fps.set_plan(FaultPlan())
        self.primitives = None
        point, self.recovery_crash = self.recovery_crash, None
        racing = points_tagged(self.target, RACING_OPEN)
        if self.second_opener and racing:  # another process opens in mid-recovery
            self.second_opener = False
            TOTALS["planned"] += 1
            others: list[Any] = []
            plan = FaultPlan.callback_at(racing[0], lambda: others.append(self.target.open(self.dir,
                                                                                             mutants=self.mutants)))
            try:
                self.target.open(self.dir, faults=Failpoints(plan), mutants=self.mutants).close()
            except E.ContractError as e:
                raise fail("I9 no wedge", f"an open racing a second opener failed: {e!r}") from e
            finally:
                for other in others:
                    other.close()
            TOTALS["fired"] += bool(others)
            self.model.restarted()
        if point is not None:
            TOTALS["planned"] += 1
            try:
                self.target.open(self.dir, faults=Failpoints(FaultPlan.crash_at(point)), mutants=self.mutants).close()
            except SimulatedCrash:
                TOTALS["fired"] += 1
            self.model.restarted()
        self._recover_with_kill()
        self.db = self.open_db()
        self.workers = self.reopened_workers()
        self.model.restarted()
        TOTALS["reopens"] += 1
        self.reopened = True
        if not self.target.capabilities.inventory:
            return
        with self.fps.suspended():
            inv = self._inventory()
        if self.target.capabilities.versions:
            require(not inv.drift, "I7 manifest tracks HEAD", f"after open, published versions != HEAD: {inv.drift}")
        require(not inv.missing, "I5 no ghosts", lambda: f"after open, derived stores missing: {sorted(inv.missing)}")

    def _arm(self, plan: FaultPlan) -> int:
        TOTALS["planned"] += 1
        self.fps.set_plan(plan | (self.primitives or FaultPlan()))
        return len(self.fps.fired)

    def _fired_since(self, mark: int) -> None:
        if len(self.fps.fired) > mark:
            TOTALS["fired"] += 1

    # -- fault rules --------------------------------------------------------------------------------
    # Each rule draws what it does as named values from the target (its catalogue, primitives and store
    # kinds), so a printed program says which fault ran: `fault=('drop_table', 'crash', '<failpoint>')`,
    # `fault=('put', 'primitive', 'put', 'index', 1)` (the first matching call fails); `recovery` names
    # the failpoint of the open that crashes next. The strategies are the target's (`rules_for`).
    def fault_in(self, w: int, fault: tuple, args: tuple, recovery: str | None = None,
                 second_opener: bool = False) -> None:
        """Run the operation `fault[0]` on `args` with the fault the rest of `fault` names: a crash or an
        injected error at the next hit of a failpoint, or one call of a primitive failing on one kind of
        store. After a crash the first reopen crashes at `recovery` (and, with `second_opener`, another
        opener races the recovery before that); a crashed write is retried (I9)."""
        kind, action = fault[0], fault[1]
        if action == "primitive":
            _kind, _action, primitive, store, call = fault
            plan = FaultPlan.fail_primitive(primitive, store, calls=(call,))
        else:
            point = fault[2]
            plan = FaultPlan(points=(PointFault(point, action, hit=self.fps.hits[point] + 1),))
        mark = self._arm(plan)
        if action == "crash":
            self.recovery_crash, self.second_opener = recovery, second_opener
        op, deaths = Op(kind, args, w % len(self.workers)), self.deaths
        self.run(op)
        self.recovery_crash, self.second_opener = None, False
        self._fired_since(mark)
        TOTALS[f"planned in {kind}"] += 1
        TOTALS[f"fired in {kind}"] += len(self.fps.fired) > mark
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())
            if self.deaths > deaths and kind in ("put", "delete"):
                self.run(op)  # the client retries: I9, the next write must succeed

    def _fault_in_write(self, w: int, fault: tuple, table: str, branch: str, key: str, record: dict[str, Any],
                        recovery: str | None = None, second_opener: bool = False) -> None:
        """A put or delete faulted at one of its steps (a later write's: the first write's fork steps are
        fault_in_first_write's) or one of its primitive calls."""
        args = (table, key, record, branch) if fault[0] == "put" else (table, key, branch)
        self.fault_in(w, fault, args, recovery, second_opener)

    def _fault_in_ddl(self, w: int, fault: tuple, table: str, new_table: str, attr: str,
                      recovery: str | None = None, second_opener: bool = False) -> None:
        """create_table (`new_table`: a name that may be live, dropped or never used), drop_table or
        create_index, faulted."""
        indexed = (attr,) if self.target.capabilities.indexes else ()
        args = {"create_table": (new_table, indexed), "drop_table": (table,), "create_index": (table, attr)}
        self.fault_in(w, fault, args[fault[0]], recovery, second_opener)

    def _fault_in_branch_op(self, w: int, fault: tuple, branch: str, name: str, recovery: str | None = None,
                            second_opener: bool = False) -> None:
        """create_branch `name` off `branch`, or delete_branch `branch`, faulted."""
        args = (name, branch) if fault[0] == "create_branch" else (branch,)
        self.fault_in(w, fault, args, recovery, second_opener)

    def _fault_in_maintenance(self, w: int, fault: tuple, recovery: str | None = None,
                              second_opener: bool = False) -> None:
        """optimize or cleanup, faulted."""
        self.fault_in(w, fault, (), recovery, second_opener)

    def _fault_in_first_write(self, w: int, parent: str, table: str, name: str, key: str,
                              record: dict[str, Any], fault: tuple, recovery: str | None = None,
                              second_opener: bool = False) -> None:
        """A new branch and its first write to a table, faulted at a step of that write (its fork's too)
        or at one of its primitive calls: the fork-to-publish gap of the Omnigraph seeds, and a fork whose
        copy fails, are reachable by construction (a new branch has forked nothing)."""
        self.op("create_branch", name, parent, w=w)
        self.fault_in(w, fault, (table, key, record, name), recovery, second_opener)

    def _fault_in_backfill(self, w: int, table: str, attr: str, fault: tuple, recovery: str | None = None,
                           second_opener: bool = False) -> None:
        """Rows first, then an index over them, faulted at a step of its backfill or one of its primitive
        calls (HarperDB #529). `attr` is one only this rule indexes (BACKFILLED), so it is rarely there
        already (an index that exists ends the call before any backfill step)."""
        for i in range(10):
            self.op("put", table, f"r{i}", {attr: i % 3}, "main", w=w)
        self.fault_in(w, fault, (table, attr), recovery, second_opener)

    @classmethod
    def rules_for(cls, target: Target) -> dict[str, Any]:
        """The fault rules of this target, their strategies drawn from its catalogue, primitives and store
        kinds; a rule with nothing to draw (no failpoints, no primitives, a capability missing) is not
        there at all, and the plain rules are switched off by their preconditions."""
        out = {**super().rules_for(target), **cls.blackbox_rules(target), **cls.interleave_rules(target),
               **cls.concurrent_rules(target)}
        caps = target.capabilities
        T, B = DifferentialMachine.tables, DifferentialMachine.branches
        opens = points_of(target, "open") if caps.failpoints else ()
        extra: dict[str, Any] = {"recovery": st.none() | st.sampled_from(opens)} if opens else {}
        if opens and points_tagged(target, RACING_OPEN):
            extra["second_opener"] = st.booleans()

        def add(rule_name: str, fn: Any, fault: Any, needs: tuple[str, ...] = (), recovery: bool = True,
                **strategies: Any) -> None:
            if fault is None or not all(getattr(caps, c) for c in needs):
                return
            drawn = dict(strategies, w=S.workers, fault=fault, **(extra if recovery else {}))
            out[rule_name] = rule(**drawn)(counted(fn, rule_name))

        def faults(kinds: tuple[str, ...], first_write: bool | None = False, calls: int = 2,
                   phase: str | None = None) -> Any:
            """(operation, action, failpoint) or (operation, "primitive", primitive, store, call), uniform
            over operations and then over crash / error / primitive, as each exists on the target.
            `first_write`: False leaves out the failpoints only a first write reaches, None keeps them all;
            `phase`: draw the primitive calls of that part of the operation ("first_write", "backfill")."""
            branches: list[Any] = []
            for kind in kinds:
                points = tuple(p for p in points_of(target, ALIASES.get(kind, kind))
                               if first_write is None or (FIRST_WRITE in target.catalogue[p].tags) <= first_write)
                pairs = target.primitives.get(phase or kind, ()) if caps.primitives else ()
                if caps.failpoints and points:
                    branches += [st.tuples(st.just(kind), st.just(a), st.sampled_from(points))
                                 for a in ("crash", "error")]
                if pairs:
                    # A plain tuple of plain draws: Hypothesis prints a `builds(lambda ...)` value as the
                    # lambda's body, `(kind, 'primitive', *('put', 'catalog'), 1)`, which no reproducer can run.
                    branches.append(st.sampled_from(pairs).flatmap(partial(_primitive_fault, kind, calls)))
            return st.one_of(*branches) if branches else None

        add("fault_in_write", cls._fault_in_write, faults(("put", "delete")), table=T, branch=B, key=S.keys,
            record=S.records)
        add("fault_in_ddl", cls._fault_in_ddl,
            faults(("create_table", "drop_table", "create_index") if caps.indexes else ("create_table", "drop_table")),
            table=T, new_table=S.created_tables, attr=S.attrs)
        add("fault_in_branch_op", cls._fault_in_branch_op, faults(("create_branch", "delete_branch")), ("branches",),
            branch=B, name=S.created_branches)
        add("fault_in_maintenance", cls._fault_in_maintenance,
            faults(tuple(k for k in ("optimize", "cleanup") if getattr(caps, k))))
        add("fault_in_first_write", cls._fault_in_first_write,
            faults(("put",), first_write=None, calls=3, phase="first_write"),
            ("branches",), parent=B, table=T, name=S.created_branches, key=S.keys, record=S.records)
        add("fault_in_backfill", cls._fault_in_backfill, faults(("create_index",), calls=10, phase="backfill"),
            ("indexes", "backfill"), table=T, attr=st.sampled_from(BACKFILLED))
        add("fault_in_drop_then_recreate", cls._fault_in_drop_then_recreate, faults(("drop_table",)),
            recovery=False, table=T, attr=S.attrs)
        add("fault_in_branch_delete", cls._fault_in_branch_delete, faults(("delete_branch",)), ("branches",),
            recovery=False, parent=B, table=T, name=S.created_branches)
        used = {p for pairs in target.primitives.values() for p, _store in pairs}
        unknown = sorted(used - set(PRIMITIVES)) + sorted(set(target.stores) - set(STORE_KINDS))
        if unknown:  # a plan refuses them when it is built: say so now, not in the middle of a program
            raise ValueError(f"target {target.name!r} names primitives or store kinds outside the primitive "
                             f"interface ({PRIMITIVES}, {STORE_KINDS}): {unknown}")
        if caps.primitives and used and target.stores:  # in the primitive interface's order
            prims = tuple(p for p in PRIMITIVES if p in used)
            out["arm_primitives"] = rule(primitive=st.sampled_from(prims), holding=st.sampled_from(target.stores),
                                         every=st.integers(1, 6), persistent=st.booleans())(
                precondition(lambda self: self.primitives is None)(counted(cls._arm_primitives, "arm_primitives")))
        return out

    @rule(w=S.workers, parent=DifferentialMachine.branches, table=DifferentialMachine.tables,
          name=S.new_branches, key=S.keys, record=S.records, what=st.sampled_from(["cleanup", "optimize"]))
    @precondition(lambda self: all(getattr(self.target.capabilities, c) for c in
                                   ("branches", "workers", "cleanup", "optimize", "failpoints")))
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
                    raise fail("I9 no wedge", f"{what} failed with no fault since the last open: {e!r}") from e
            except E.ContractError:
                pass  # a Conflict: maintenance may lose a race; it must not harm the write
            finally:
                busy.pop()
        clean = self._fault_free_since_open()
        interleaved()
        steps = tuple(PointFault(p, "callback", callback=interleaved) for p in points_of(self.target, "put"))
        mark = self._arm(FaultPlan(points=steps))
        answer = self.run(Op("put", (table, key, record, name), w % len(self.workers)))
        self._fired_since(mark)
        # No fault since the last open and only maintenance inside the write: a failure is its doing.
        require(not (clean and isinstance(answer, E.StorageError)), "I1 equivalence",
                lambda: f"a first write to {table}@{name} failed with only {what} interleaved: {answer!r}")
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())
            interleaved()

    @rule(w=S.workers, parent=DifferentialMachine.branches, name=S.new_branches, doomed=S.new_branches,
          key=S.keys, record=S.records)
    @precondition(lambda self: all(getattr(self.target.capabilities, c) for c in
                                   ("branches", "workers", "cleanup", "primitives"))
                  and bool(points_of(self.target, "cleanup", INTERLEAVE))  # where the writer runs
                  and any(p == "drop" for p, _s in self.target.primitives.get("delete_branch", ())))  # the ghost
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
        sweep = points_of(self.target, "cleanup", INTERLEAVE)[0]  # where other workers' calls can run
        mark = self._arm(FaultPlan.callback_at(sweep, interleaved, hit=self.fps.hits[sweep] + 1))
        self.run(Op("cleanup", (), w % len(self.workers)))
        self._fired_since(mark)
        if self.db is not None:
            self.fps.set_plan(self.primitives or FaultPlan())

    def _fault_in_drop_then_recreate(self, w: int, table: str, attr: str, fault: tuple) -> None:
        """A drop faulted at one of its steps, then a same-name create (HarperDB #1246): the new table must
        start empty everywhere and the old one must never come back."""
        self.op("put", table, "old", {attr: 1}, "main", w=w)
        self.fault_in(w, fault, (table,))
        if self.db is not None:
            self.op("create_table", table, (attr,) if self.target.capabilities.indexes else (), w=w)

    def _fault_in_branch_delete(self, w: int, parent: str, table: str, name: str, fault: tuple) -> None:
        """A new branch with a fork of its own, then its delete faulted at one of its steps."""
        self.op("create_branch", name, parent, w=w)
        self.op("put", table, "mine", {"a": 1}, name, w=w)
        self.fault_in(w, fault, (name,))

    def _live_tables(self) -> set[str]:
        return {t for s in self.model.states for t in s.tables}

    def _arm_primitives(self, primitive: str, holding: str, every: int, persistent: bool) -> None:
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
        with self.fps.suspended():  # every worker reads all, before the close drops their caches
            for worker in self.workers:
                observe(worker, self.model)
        self.db.close()
        self.db = None
        checks = heal_checks(self.target, self.dir, self.model, mutants=self.mutants)
        TOTALS["invariant checks"] += len(checks)
        for check in checks:
            RUN.checked(check.invariant)
        failed = [c for c in checks if not c.ok]
        if failed:  # the first broken invariant is the verdict; the others go with its detail
            first = failed[0]
            also = "".join(f"; also {c.invariant} [{c.klass}]: {c.detail}" for c in failed[1:])
            raise CheckFailed(replace(first, detail=first.detail + also))
        self.db = self.open_db()
        self.workers = self.reopened_workers()
        self.reopened = True

    # -- invariants and the end of a program ---------------------------------------------------------
    def cleanup(self, w: int) -> None:  # faults may leave ghosts that only a fault-free cleanup reclaims
        self.op("cleanup", w=w)

    cleanup = rule(w=S.workers)(precondition(can("cleanup"))(counted(cleanup)))  # type: ignore[assignment]

    def bad_input(self, w: int, op: tuple[str, tuple]) -> None:
        with self.fps.suspended():  # input rules come before any store: no fault can be reached
            super().bad_input.__wrapped__(self, w, op)  # type: ignore[attr-defined]

    bad_input = rule(w=S.workers, op=bad_ops())(counted(bad_input))  # type: ignore[assignment]

    @invariant()
    @sticky
    def observable_state_matches(self) -> None:
        if self.db is not None:
            with self.fps.suspended():  # the harness looks; faults are for the operations under test
                observe(self.workers[self.observer()], self.model)
            RUN.checked("I1 equivalence")
            if self.reopened:  # what was acknowledged before the reopen was just read back
                RUN.checked("I3 acknowledged is durable")
                self.reopened = False

    @invariant()
    @sticky
    def authority_matches_disk(self) -> None:
        if self.db is not None and self.target.capabilities.inventory:
            with self.fps.suspended():
                inv = self._inventory()
            require(not inv.missing, "I5 no ghosts", lambda: f"the authority references missing stores "
                                                            f"{sorted(inv.missing)}")
            require(not inv.locks_held, "I9 no wedge", f"locks held between calls: {inv.locks_held}")
            checked = ["I5 no ghosts", "I9 no wedge"]
            if self.target.capabilities.versions:
                require(inv.sidecars or not inv.drift, "I7 manifest tracks HEAD",
                        f"published versions != HEAD, no recovery pending: {inv.drift}")
                checked.append("I7 manifest tracks HEAD")
            for name in checked:
                RUN.checked(name)

    @sticky
    def teardown(self) -> None:
        if self.primitives is not None:
            self._fired_since(self.armed_at)
        try:
            # An exception outside the contract is an answer the contract does not allow.
            require(not self.unexpected, "I1 equivalence", f"unexpected exceptions (engine bugs): {self.unexpected}")
            if self.db is not None:
                self._heal()
        finally:
            RUN.machine_done(self.target.name, self.steps, self.fps.report(),
                             {n: fp.operation for n, fp in self.target.catalogue.items()})
            super().teardown()


def machine_for(target: Target | str, mutants: tuple[str, ...] = (), name: str | None = None) -> type:
    """The fault machine for one target and mutant set (see harness.machine.machine_for)."""
    from harness.machine import machine_for as build
    return build(target, mutants, base=FaultMachine, name=name)
