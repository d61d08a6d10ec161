"""One trial of a crash-point enumeration: run a program of contract operations on a fresh database
under a fault plan beside the model, and after the fault (or at the end) heal and check the state with the
named invariants of harness/invariants.py: the reopen succeeds and every answer equals a possible model state
(I2, I3, I4), nothing resurrects (I6), published versions equal HEAD (I7), ready indexes equal the data
(I8), the next write everywhere succeeds before any cleanup and no lock is held (I9), cleanup leaves
exactly what the authority derives (I5), a second open and cleanup change nothing (I10), and everything
has converged (I11). The verdict is "ok" or every broken invariant with its class.
"""
from __future__ import annotations

import os
import shutil
from typing import Any, Sequence

from faults import FaultPlan, Failpoints, SimulatedCrash
from faults.catalogue import RACING_OPEN
from harness import invariants as inv
from harness.invariants import Check, CheckFailed, Verdict, fail
from harness.target import Target, points_tagged
from harness.targets import resolve
from model import errors as E
from model.contract import CleanupReport
from model.ops import READS, Op
from model.possible import PossibleStates, TooManyStates, Violation

REOPEN = Op("reopen", ())
# DDL that must leave nothing behind when it reports success, whatever failed inside it (I4). (A branch
# delete may: reclaiming its forks after the authority flip is best effort, for cleanup to finish.)
GHOSTLESS = frozenset({"create_table", "drop_table", "create_index"})


def run_honest(db: Any, model: PossibleStates, op: Op, fps: Failpoints, findings: list[Check],
               white: bool = True, versions: bool = True) -> Any:
    """Run one call, then check what only the moment after it shows (with a white-box inventory): no lock
    held (I9), no published version behind HEAD without a pending sidecar (I7), and for DDL that reported
    success no new ghost stores (I4)."""
    if op.name in READS or not white:
        return run(db, model, op)
    with fps.suspended():
        before = db.inventory().ghosts
    answer = run(db, model, op)
    with fps.suspended():
        after = db.inventory()
    if after.locks_held:  # a lock kept after the call returned (or failed) blocks the next one forever
        findings.append(fail("I9 no wedge", f"{op!r} left locks held: {after.locks_held}").check)
    if versions and after.drift and not after.sidecars:
        findings.append(fail("I7 manifest tracks HEAD", f"after {op!r}, no recovery pending: {after.drift}").check)
    left = after.ghosts - before
    if left and op.name in GHOSTLESS and not isinstance(answer, E.ContractError):
        findings.append(fail("I4 honest failure", f"{op!r} reported success but left {sorted(left)}").check)
    return answer


def run(db: Any, model: PossibleStates, op: Op) -> Any:
    try:
        answer = op.call(db)
    except E.ContractError as e:
        model.failed(op, e)
        return e
    model.ok(op, answer)
    return answer


def look(db: Any, model: PossibleStates, op: Op) -> Any:
    """A read by the harness, with no fault active: it may not fail for a storage reason (the authority
    would then reference something that cannot be read)."""
    answer = run(db, model, op)
    if isinstance(answer, (E.StorageError, E.Conflict)):
        raise fail("I5 no ghosts", f"{op!r} failed with no fault active: {answer!r}")
    return answer


def observe(db: Any, model: PossibleStates) -> None:
    """Read everything observable, so the possible states collapse to what the engine shows."""
    look(db, model, Op("tables", ()))
    look(db, model, Op("branches", ()))
    tables = sorted({t for s in model.states for t in s.tables})
    branches = sorted({b for s in model.states for b in s.branches})
    for b in branches:
        for t in tables:
            rows = look(db, model, Op("scan", (t, b)))
            attrs = sorted({a for s in model.states if t in s.tables for a in s.tables[t].indexes})
            values = {v for r in (rows.values() if isinstance(rows, dict) else ()) for v in r.values()}
            for a in attrs:
                for v in sorted(values - {None}, key=repr)[:3] or [1]:
                    look(db, model, Op("find", (t, a, v, b)))


def raced(target: Target | str) -> str:
    """How the heal phase's second opener (seed 003) shows among a trial's fired points."""
    racing = points_tagged(resolve(target), RACING_OPEN)
    return f"heal:{racing[0]}" if racing else "heal:(no racing point)"


def heal_checks(target: Target | str, path: str, model: PossibleStates, after: str = "I2 atomicity",
                mutants: tuple[str, ...] = (), race_opener: bool = False,
                fired: list[tuple[str, int, str]] | None = None, recovery: FaultPlan | None = None) -> list[Check]:
    """The heal phase: faults off, reopen, observe, write, cleanup, reopen again. Every check's result.
    `race_opener`: a second opener runs its own recovery in the middle of the first one's (seed 003); it
    runs only when that recovery publishes (a sidecar resolved, or drift rolled back), so each run of it
    goes into `fired` as `raced(target)`.
    `recovery`: faults for the first reopen only (a restore failing inside roll-back): that open may fail
    with a StorageError, honestly, and then the next open, with no faults, must heal. What fires in the
    heal goes into `fired` with a "heal:" prefix."""
    t = resolve(target)
    caps = t.capabilities
    checks: list[Check] = []
    opened = []

    def reopen(faults: Failpoints | None = None) -> Any:
        return t.open(path, faults=faults, mutants=mutants)

    def second() -> None:
        opened.append(reopen())
    racing = points_tagged(t, RACING_OPEN)
    try:
        # Only the first reopen carries the race and the recovery faults; every later open runs clean.
        first = Failpoints((FaultPlan.callback_at(racing[0], second) if race_opener and racing
                           else FaultPlan()) | (recovery or FaultPlan()))
        try:
            db = reopen(first)
        except E.StorageError:
            if all(action == "callback" for _name, _n, action in first.fired):
                raise  # with no fault injected, a failed recovery is a wedge
            db = reopen()
        first.set_plan(None)  # the reads and writes of the heal run with no fault
    except Exception as e:  # noqa: BLE001
        return [Check("I9 no wedge", False, f"reopen failed: {type(e).__name__}: {e}", inv.LIVENESS)]
    finally:
        for other in opened:
            other.close()
        if fired is not None:
            fired.extend((f"heal:{name}", n, action) for name, n, action in first.fired)
    try:
        model.restarted()
        try:
            observe(db, model)  # I1-I4: the model's history says which call the answer contradicts
            # Read back after a reopen: what was acknowledged is there (I3), and nothing half-done (I2).
            checks += [Check(after, True), Check("I3 acknowledged is durable", True)]
        except Violation as e:
            return checks + [Check(inv.violated(e.history), False, str(e))]
        except CheckFailed as e:
            return checks + [e.check]
        except TooManyStates as e:
            return checks + [Check("possible states", False, str(e), inv.HARNESS)]
        checks.append(inv.no_resurrection(model, db.tables(), db.branches()))
        if caps.inventory and caps.versions:
            checks.append(inv.manifest_tracks_head(db.inventory()))
        state = model.only()
        if caps.indexes:
            checks.append(inv.index_honesty(
                {(tb, a): r for tb, td in state.tables.items() for a, r in td.indexes.items()},
                {(b, tb): _answer(db.scan, tb, b) for b in state.branches for tb in state.tables},
                lambda tb, a, v, b: _answer(db.find, tb, a, v, b)))
        locks = db.inventory().locks_held if caps.inventory else ()
        db.close()
        # I9 and I5 want opposite orders (write before any cleanup; cleanup before any write heals an
        # orphan fork), so the writes go to a copy of the directory and cleanup runs on the original.
        copy = path + ".wedge"
        shutil.copytree(path, copy)
        try:
            db = t.open(copy, mutants=mutants)
            probes = {(tb, b): _answer(db.put, tb, "probe", {"p": 1}, b)
                      for b in sorted(state.branches) for tb in sorted(state.tables)}
            db.close()
        finally:
            shutil.rmtree(copy, ignore_errors=True)
        checks.append(inv.no_wedge(probes, locks))
        db = reopen()
        if caps.cleanup:
            db.cleanup()
        if caps.inventory:
            checks.append(inv.no_ghosts(db.inventory()))
        for b in sorted(state.branches):
            for tb in sorted(state.tables):
                run(db, model, Op("put", (tb, "probe", {"p": 1}, b)))
        db.close()
        db = reopen()
        if caps.inventory:
            cleaned = db.inventory()
            again = db.cleanup() if caps.cleanup else CleanupReport()  # no sweep: nothing to reclaim
            checks.append(inv.idempotent_recovery(cleaned, db.inventory(), again))
            checks.append(inv.converged(db.inventory()))
    finally:
        db.close()
    return checks


def _answer(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except E.ContractError as e:
        return e


def verdict(checks: list[Check]) -> Verdict:
    return Verdict.of(checks)


def heal_and_check(target: Target | str, path: str, model: PossibleStates, **kwargs: Any) -> Verdict:
    return verdict(heal_checks(target, path, model, **kwargs))


def trial(target: Target | str, root: str, program: Sequence[Op], plan: FaultPlan, mutants: tuple[str, ...] = (),
          during: tuple[str, Op] | None = None, race_opener: bool = False,
          recovery: FaultPlan | None = None) -> tuple[list, Verdict]:
    """Run `program` under `plan` in a fresh directory; return (what fired, verdict). `during`: run that
    operation (or those operations) on another worker at the first hit of that failpoint (an
    interleaving); the model takes them as happening before the call they interrupt completes.
    `recovery`: faults for the heal's first reopen (see heal_checks)."""
    if during is not None:
        point, other_ops = during[0], (during[1] if isinstance(during[1], tuple) else (during[1],))
        others: list[Any] = []

        def interleaved() -> None:
            for other_op in other_ops if others else ():
                try:
                    run(others[0], model, other_op)
                except SimulatedCrash:  # the process dies inside it: it may or may not have happened
                    model.crashed(other_op)
                    raise
        plan = plan | FaultPlan.callback_at(point, interleaved)
    path = os.path.join(root, f"trial-{abs(hash(repr(plan))) % 10**12}")
    shutil.rmtree(path, ignore_errors=True)
    t = resolve(target)
    fps = Failpoints(plan)  # one counter across every open of the run
    model = PossibleStates()
    op = None
    db = None
    findings: list[Check] = []
    try:
        db = t.open(path, faults=fps, mutants=mutants)
        if during is not None:
            others.append(db.worker())
        for op in program:
            if op is REOPEN or op.name == "reopen":
                db.close()
                db = None
                db = t.open(path, faults=fps, mutants=mutants)
                model.restarted()
            else:
                run_honest(db, model, op, fps, findings, t.capabilities.inventory, t.capabilities.versions)
                if findings:
                    break
    except E.StorageError:  # an injected error inside open: it abandoned itself; heal from disk
        db = None
    except (Violation, TooManyStates, AssertionError) as e:  # the engine contradicted the model mid-run
        findings.append(inv.classify(e))
        if db is not None:
            t.kill(db)
        db = None
    except SimulatedCrash:
        if db is not None:
            t.kill(db)
        if op is not None and op.name != "reopen":
            model.crashed(op)
    else:
        if db is not None:
            db.close()
    healed: list[tuple[str, int, str]] = []
    try:
        verdict = Verdict.of(findings) if findings else heal_and_check(t, path, model, mutants=mutants,
                                                                          race_opener=race_opener, fired=healed,
                                                                          recovery=recovery)
    except (Violation, TooManyStates, E.ContractError, AssertionError) as e:
        found = inv.classify(e)
        verdict = Verdict.of([found if not isinstance(e, E.ContractError) else
                              Check("I9 no wedge", False, f"{type(e).__name__}: {e}", inv.LIVENESS)])
    finally:
        shutil.rmtree(path, ignore_errors=True)
    return fps.fired + healed, verdict
