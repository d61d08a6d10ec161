"""The convergence invariants of DESIGN.md section 6 as small named checks with structured results.

Each check takes observations (an inventory, answers, the possible model states) and returns a `Check`;
none prints or raises, so a harness can run them all, classify what failed, and report. A checker that
itself crashes yields class "harness", never a pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from model.contract import CleanupReport, Inventory
from model.possible import PossibleStates
from model.step import project
from model.values import canon_record

CORRECTNESS, LIVENESS, HARNESS = "correctness", "liveness", "harness"


@dataclass(frozen=True)
class Check:
    invariant: str       # "I5 no ghosts"
    ok: bool
    detail: str = ""
    klass: str = CORRECTNESS

    def __bool__(self) -> bool:
        return self.ok


INVARIANTS = ("I1 equivalence", "I2 atomicity", "I3 acknowledged is durable", "I4 honest failure",
              "I5 no ghosts", "I6 no resurrection", "I7 manifest tracks HEAD", "I8 index honesty",
              "I9 no wedge", "I10 idempotent recovery", "I11 eventual convergence")
CLASS_OF = {name: LIVENESS if name.startswith(("I9 ", "I11 ")) else CORRECTNESS for name in INVARIANTS}


class CheckFailed(AssertionError):
    """A failed check, raised with its verdict as data: whoever catches it (the kill matrix, stress, a
    reproducer, the reports) reads `check`, never the message. An AssertionError, so a reproducer run under
    plain pytest shows it as the failed assertion it is, message first: "I9 no wedge: ..."."""

    def __init__(self, check: Check) -> None:
        super().__init__(f"{check.invariant}: {check.detail}")
        self.check = check


def fail(invariant: str, detail: str, klass: str | None = None) -> CheckFailed:
    """The exception for a broken invariant (`raise fail(...)`); its class is the invariant's unless given."""
    assert invariant in CLASS_OF or klass is not None, f"unknown invariant {invariant!r}"
    return CheckFailed(Check(invariant, False, detail, klass or CLASS_OF[invariant]))


def require(ok: Any, invariant: str, detail: Any) -> None:
    """Raise `fail(invariant, detail)` unless `ok`. `detail` may be a callable, built only on failure."""
    if not ok:
        raise fail(invariant, detail() if callable(detail) else str(detail))


class Verdict(str):
    """A trial's verdict: "ok", or the failed checks as text; `failed` holds them as data."""
    failed: tuple[Check, ...] = ()

    @classmethod
    def of(cls, checks: list[Check] | tuple[Check, ...]) -> "Verdict":
        failed = tuple(c for c in checks if not c.ok)
        v = cls("ok" if not failed else "; ".join(f"{c.invariant} [{c.klass}]: {c.detail}" for c in failed))
        v.failed = failed
        return v

    @property
    def first(self) -> Check | None:
        return self.failed[0] if self.failed else None


def _result(invariant: str, problems: list[str], klass: str = CORRECTNESS) -> Check:
    return Check(invariant, not problems, "; ".join(problems), klass)


def guarded(invariant: str, fn: Callable[[], Check]) -> Check:
    """Run a check; if the checker itself fails, the verdict is "harness", never a pass."""
    try:
        return fn()
    except CheckFailed as e:
        return e.check
    except AssertionError as e:
        return Check(invariant, False, str(e), CORRECTNESS)
    except Exception as e:  # noqa: BLE001 - any checker crash is a harness finding
        return Check(invariant, False, f"checker crashed: {type(e).__name__}: {e}", HARNESS)


def no_ghosts(inv: Inventory) -> Check:
    """I5: after open and cleanup, the physical stores are exactly those the authority derives, and no
    tombstone, sidecar or building marker is left without cause."""
    problems = []
    if inv.ghosts:
        problems.append(f"stores the authority does not derive: {sorted(inv.ghosts)}")
    if inv.missing:
        problems.append(f"stores the authority derives that do not exist: {sorted(inv.missing)}")
    if inv.tombstones:
        problems.append(f"tombstones left: {inv.tombstones}")
    if inv.sidecars:
        problems.append(f"sidecars left: {inv.sidecars}")
    return _result("I5 no ghosts", problems)


def manifest_tracks_head(inv: Inventory) -> Check:
    """I7: after open, every published version (and every pin's version) equals its store's head."""
    problems = [f"{s}: published {p}, head {h}" for s, (p, h) in sorted(inv.drift.items())]
    problems += [f"pin {b}/{t} -> {s}@{v}, head {inv.stores.get(s)}" for (b, t), (s, v) in sorted(inv.pins.items())
                 if v is not None and inv.stores.get(s) != v]
    return _result("I7 manifest tracks HEAD", problems)


def no_resurrection(possible: PossibleStates, tables: list[str], branches: list[str]) -> Check:
    """I6: no table or branch the engine shows is absent from every possible state (a dropped table or a
    deleted branch never comes back)."""
    known_t = {t for s in possible.states for t in s.tables}
    known_b = {b for s in possible.states for b in s.branches}
    problems = [f"table {t} is back" for t in tables if t not in known_t]
    problems += [f"branch {b} is back" for b in branches if b not in known_b]
    return _result("I6 no resurrection", problems)


PROBES = (0, 1, 2, True, False, "x", "1", "")  # values absent from the data too: stale entries must not answer


def index_honesty(ready: Mapping[tuple[str, str], bool], scans: Mapping[tuple[str, str], dict[str, dict]],
                  find: Callable[[str, str, Any, str], Any], probes: tuple[Any, ...] = PROBES) -> Check:
    """I8: a ready index equals the projection of the primary data on every branch, for every value in the
    data and for `probes` (so an entry left behind for a value no record has any more is caught); a
    non-ready one refuses queries (`find` returns the exception it raised). `ready`: (table, attr) ->
    readiness; `scans`: (branch, table) -> rows; `find(table, attr, value, branch)` -> keys or exception."""
    from model.errors import IndexNotReady
    from model.fmap import FMap
    from model.state import State
    problems = []
    for (branch, table), rows in sorted(scans.items()):
        if isinstance(rows, BaseException):
            problems.append(f"scan {table}@{branch} failed: {rows!r}")
            continue
        state = State(data=FMap({(branch, table): FMap({k: canon_record(r) for k, r in rows.items()})}))
        for (t, attr), is_ready in sorted(ready.items()):
            if t != table:
                continue
            present = {(type(r[attr]).__name__, r[attr]) for r in rows.values() if r.get(attr) is not None}
            present |= {(type(v).__name__, v) for v in probes}  # (type, value): 1 and True stay apart
            for _t, value in sorted(present, key=repr):
                got = find(table, attr, value, branch)
                if not is_ready:
                    if not isinstance(got, IndexNotReady):
                        problems.append(f"{table}.{attr}@{branch} is not ready but answered {got!r}")
                    continue
                want = set(project(state, branch, table, attr, value))
                if isinstance(got, BaseException) or set(got) != want:
                    problems.append(f"{table}.{attr}={value!r}@{branch}: index {got!r}, data {sorted(want)}")
    return _result("I8 index honesty", problems)


def no_wedge(probe_results: Mapping[tuple[str, str], Any], locks_held: tuple[str, ...]) -> Check:
    """I9: after a fault, the next write to every (table, branch) succeeds with no manual step, and no lock
    is held between calls (a leaked create lock would make the next create wait forever)."""
    problems = [f"the first write to {t}@{b} failed: {r!r}" for (t, b), r in sorted(probe_results.items())
                if isinstance(r, BaseException)]
    if locks_held:
        problems.append(f"locks held between calls: {locks_held}")
    return _result("I9 no wedge", problems, LIVENESS)


def idempotent_recovery(first: Inventory, second: Inventory, second_cleanup: CleanupReport) -> Check:
    """I10: opening twice gives the same inventory, and a second cleanup reclaims nothing."""
    fields = ("tables", "branches", "pins", "stores", "versions", "derived", "sidecars")
    problems = [f"a second open changed {f}: {getattr(first, f)!r} -> {getattr(second, f)!r}"
                for f in fields if getattr(first, f) != getattr(second, f)]
    if second_cleanup.reclaimed or second_cleanup.failed:
        problems.append(f"a second cleanup still reclaimed {second_cleanup.reclaimed} "
                        f"(failed {second_cleanup.failed})")
    return _result("I10 idempotent recovery", problems)


def converged(inv: Inventory) -> Check:
    """I11: with faults off, open + cleanup + resumed backfills bring every index to ready and leave
    nothing pending."""
    problems = [f"index {t}.{a} is {state}" for t, a, state in inv.unready_indexes]
    pending = (("tombstones", inv.tombstones), ("sidecars", inv.sidecars), ("ghosts", sorted(inv.ghosts)),
               ("missing", sorted(inv.missing)), ("drift", inv.drift), ("locks held", inv.locks_held))
    if any(v for _k, v in pending):
        problems.append("still pending: " + ", ".join(f"{k}={v}" for k, v in pending if v))
    return _result("I11 eventual convergence", problems, LIVENESS)


def classify(exc: BaseException) -> Check:
    """The verdict an exception that ended a run carries: a failed check's own, a possible-state
    contradiction's invariant from the model's history, and for anything else "harness" (the suite broke,
    not the engine). Never a regular expression over a message."""
    from model.possible import TooManyStates, Violation
    if isinstance(exc, CheckFailed):
        return exc.check
    if isinstance(exc, Violation):
        return Check(violated(exc.history), False, str(exc), CORRECTNESS)
    if isinstance(exc, TooManyStates):
        return Check("possible states overflow", False, str(exc), HARNESS)
    first = str(exc).splitlines()[0] if str(exc) else ""
    return Check(type(exc).__name__, False, first, HARNESS)


def violated(history: list[tuple[Any, str]]) -> str:
    """Which of I1-I4 a possible-state violation breaks, from the calls before the contradicted one: after
    an uncertain error it is honest failure, after a crash atomicity, after a reopen durability."""
    reopened = False
    for _op, what in reversed(history[:-1]):
        if "StorageError" in what or "Conflict" in what:
            return "I4 honest failure"
        if "crashed" in what or "unexpectedly" in what:
            return "I2 atomicity"
        reopened = reopened or "reopened" in what
    return "I3 acknowledged is durable" if reopened else "I1 equivalence"
