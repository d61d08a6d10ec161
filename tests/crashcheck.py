"""One trial of a crash-point enumeration: run a program of contract operations on a fresh database
under a fault plan beside the model, and after the fault (or at the end) heal and check the state:

- the reopen succeeds (I9, I10) and the answers equal one possible model state (I1, I2, I3, I4);
- after cleanup nothing is left that the authority does not derive, nothing it derives is missing,
  every published version equals its HEAD, and no tombstone, sidecar or lock remains (I5, I7);
- the next write to every (table, branch) succeeds (I9); a second cleanup reclaims nothing (I10).
The verdict is "ok" or the text of the first broken invariant.
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


def heal_and_check(backend: str, path: str, model: PossibleStates) -> str:
    db = sut.open_database(backend, path)
    try:
        model.restarted()
        observe(db, model)
        inv = db.inventory()
        problems = [f"after open, {what}: {got}" for what, got in (
            ("missing stores", sorted(inv.missing)), ("published version != HEAD", inv.drift),
            ("tombstones", inv.tombstones), ("sidecars", inv.sidecars)) if got]
        state = model.only()
        for b in sorted(state.branches):  # no wedge: before any cleanup, every write goes through
            for t in sorted(state.tables):
                if isinstance(run(db, model, Op("put", (t, "probe", {"p": 1}, b))), E.ContractError):
                    problems.append(f"the first write to ({t}, {b}) after the fault failed")
        db.cleanup()
        inv = db.inventory()
        problems += [f"after cleanup, {what}: {got}" for what, got in (
            ("ghosts", sorted(inv.ghosts)), ("missing stores", sorted(inv.missing)),
            ("published version != HEAD", inv.drift), ("tombstones", inv.tombstones),
            ("locks held", inv.locks_held)) if got]
        if db.cleanup().reclaimed:
            problems.append("a second cleanup reclaimed something")
        return "ok" if not problems else "; ".join(problems)
    finally:
        db.close()


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
