"""One trial of a crash-point enumeration: run a program of contract operations on a fresh database
under a fault plan beside the model, and after the fault (or at the end) heal and check the state with the
named invariants of tests/invariants.py: the reopen succeeds and every answer equals a possible model state
(I2, I3, I4), nothing resurrects (I6), published versions equal HEAD (I7), ready indexes equal the data
(I8), the next write everywhere succeeds before any cleanup and no lock is held (I9), cleanup leaves
exactly what the authority derives (I5), a second open and cleanup change nothing (I10), and everything
has converged (I11). The verdict is "ok" or every broken invariant with its class.
"""
from __future__ import annotations

import os
import shutil
from typing import Any, Sequence

import sut
from faults import FaultPlan, Failpoints, SimulatedCrash
from model import errors as E
from model.ops import Op
from model.possible import PossibleStates, TooManyStates, Violation
from tests import invariants as inv
from tests.invariants import Check

REOPEN = Op("reopen", ())


def run(db: Any, model: PossibleStates, op: Op) -> Any:
    try:
        answer = op.call(db)
    except E.ContractError as e:
        model.failed(op, e)
        return e
    model.ok(op, answer)
    return answer


def observe(db: Any, model: PossibleStates) -> None:
    """Read everything observable, so the possible states collapse to what the engine shows."""
    run(db, model, Op("tables", ()))
    run(db, model, Op("branches", ()))
    tables = sorted({t for s in model.states for t in s.tables})
    branches = sorted({b for s in model.states for b in s.branches})
    for b in branches:
        for t in tables:
            rows = run(db, model, Op("scan", (t, b)))
            attrs = sorted({a for s in model.states if t in s.tables for a in s.tables[t].indexes})
            values = {v for r in (rows.values() if isinstance(rows, dict) else ()) for v in r.values()}
            for a in attrs:
                for v in sorted(values - {None}, key=repr)[:3] or [1]:
                    run(db, model, Op("find", (t, a, v, b)))


def heal_checks(backend: str, path: str, model: PossibleStates, after: str = "I2 atomicity") -> list[Check]:
    """The heal phase: faults off, reopen, observe, write, cleanup, reopen again. Every check's result."""
    checks: list[Check] = []
    try:
        db = sut.open_database(backend, path)
    except Exception as e:  # noqa: BLE001
        return [Check("I9 no wedge", False, f"reopen failed: {type(e).__name__}: {e}", inv.LIVENESS)]
    try:
        model.restarted()
        try:
            observe(db, model)  # I2 (or I3/I4: the model's history says which call it contradicts)
            checks.append(Check(after, True))
        except (Violation, TooManyStates) as e:
            return checks + [Check(after, False, str(e))]
        checks.append(inv.no_resurrection(model, db.tables(), db.branches()))
        opened = db.inventory()
        checks.append(inv.manifest_tracks_head(opened))
        state = model.only()
        checks.append(inv.index_honesty(
            {(t, a): r for t, td in state.tables.items() for a, r in td.indexes.items()},
            {(b, t): db.scan(t, b) for b in state.branches for t in state.tables},
            lambda t, a, v, b: _answer(db.find, t, a, v, b)))
        locks = db.inventory().locks_held
        db.close()
        # I9 and I5 want opposite orders (write before any cleanup; cleanup before any write heals an
        # orphan fork), so the writes go to a copy of the directory and cleanup runs on the original.
        copy = path + ".wedge"
        shutil.copytree(path, copy)
        try:
            db = sut.open_database(backend, copy)
            probes = {(t, b): _answer(db.put, t, "probe", {"p": 1}, b)
                      for b in sorted(state.branches) for t in sorted(state.tables)}
            db.close()
        finally:
            shutil.rmtree(copy, ignore_errors=True)
        checks.append(inv.no_wedge(probes, locks))
        db = sut.open_database(backend, path)
        db.cleanup()
        cleaned = db.inventory()
        checks.append(inv.no_ghosts(cleaned))
        for b in sorted(state.branches):
            for t in sorted(state.tables):
                run(db, model, Op("put", (t, "probe", {"p": 1}, b)))
        db.close()
        db = sut.open_database(backend, path)
        cleaned = db.inventory()
        checks.append(inv.idempotent_recovery(cleaned, db.inventory(), db.cleanup()))
        checks.append(inv.converged(db.inventory()))
    finally:
        db.close()
    return checks


def _answer(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except E.ContractError as e:
        return e


def verdict(checks: list[Check]) -> str:
    failed = [c for c in checks if not c.ok]
    return "ok" if not failed else "; ".join(f"{c.invariant} [{c.klass}]: {c.detail}" for c in failed)


def heal_and_check(backend: str, path: str, model: PossibleStates) -> str:
    return verdict(heal_checks(backend, path, model))


def trial(backend: str, root: str, program: Sequence[Op], plan: FaultPlan) -> tuple[list, str]:
    """Run `program` under `plan` in a fresh directory; return (what fired, verdict)."""
    path = os.path.join(root, f"trial-{abs(hash(repr(plan))) % 10**12}")
    shutil.rmtree(path, ignore_errors=True)
    fps = Failpoints(plan)  # one counter across every open of the run
    model = PossibleStates()
    op = None
    db = None
    try:
        db = sut.open_database(backend, path, faults=fps)
        for op in program:
            if op is REOPEN or op.name == "reopen":
                db.close()
                db = None
                db = sut.open_database(backend, path, faults=fps)
                model.restarted()
            else:
                run(db, model, op)
    except E.StorageError:  # an injected error inside open: it abandoned itself; heal from disk
        db = None
    except SimulatedCrash:
        if db is not None:
            db.abandon()
        if op is not None and op.name != "reopen":
            model.crashed(op)
    else:
        db.close()
    try:
        verdict = heal_and_check(backend, path, model)
    except (Violation, TooManyStates, E.ContractError, AssertionError) as e:
        verdict = f"{type(e).__name__}: {e}"
    finally:
        shutil.rmtree(path, ignore_errors=True)
    return fps.fired, verdict
