"""Every invariant of DESIGN.md section 6 can fail: each check is fed a state that violates it and must say
so (ok False, its own name, its class, a detail naming the culprit), and a clean twin must pass, so no
negative test is vacuous. I1..I4 are decided by the possible-states checker (a `Violation`); I5..I11 by the
named checks of harness/invariants.py. Pure and fast: synthetic inventories and answers, no database."""
from __future__ import annotations

import pytest

from model import errors as E
from model.contract import CleanupReport, Inventory
from model.ops import Op
from model.possible import PossibleStates, Violation
from harness import invariants as inv
from harness.invariants import (CORRECTNESS, HARNESS, INVARIANTS, LIVENESS, Check, converged, guarded,
                              idempotent_recovery, index_honesty, manifest_tracks_head, no_ghosts,
                              no_resurrection, no_wedge)

NAME = {n.split()[0]: n for n in INVARIANTS}  # "I5" -> "I5 no ghosts"

def history(*calls: tuple) -> PossibleStates:
    """The possible states after write calls that all returned ok."""
    ps = PossibleStates()
    for call in calls:
        ps.ok(Op.make(*call), None)
    return ps

def failing(check: Check, inv: str, klass: str, *culprits: str) -> None:
    assert check.ok is False and not check, check
    assert (check.invariant, check.klass) == (NAME[inv], klass), check
    for c in culprits:
        assert c in check.detail, (c, check.detail)

def passing(check: Check, inv: str, klass: str) -> None:
    assert check.ok is True and check.detail == "", check
    assert (check.invariant, check.klass) == (NAME[inv], klass), check

def violates(inv: str, scenario, *culprits: str) -> None:
    """The scenario raises `Violation`; through `guarded` that is a correctness failure of `inv`."""
    with pytest.raises(Violation) as info:
        scenario()
    for c in culprits:
        assert c in str(info.value), (c, str(info.value))
    failing(guarded(NAME[inv], lambda: (scenario(), Check(NAME[inv], True))[1]), inv, CORRECTNESS, *culprits)

INDEXED = (("create_table", "t", ("a",)),)

@pytest.mark.parametrize("wrong", [{"a": 2}, {"a": True}, None, {"a": 1, "b": 1}])
def test_i1_wrong_read_after_ok_writes_is_a_violation(wrong):
    def scenario():
        ps = history(*INDEXED, ("put", "t", "k", {"a": 1}))
        ps.ok(Op.make("get", "t", "k"), wrong)
    violates("I1", scenario, "w0.get('t', 'k', 'main')", "returned")

def test_i1_right_reads_pass():
    ps = history(*INDEXED, ("put", "t", "k", {"a": 1}), ("put", "t", "j", {"a": 2}))
    ps.ok(Op.make("get", "t", "k"), {"a": 1})
    ps.ok(Op.make("scan", "t"), {"k": {"a": 1}, "j": {"a": 2}})
    ps.ok(Op.make("find", "t", "a", 2), frozenset({"j"}))
    ps.ok(Op.make("tables"), ["t"])
    assert len(ps) == 1

def crashed_put() -> PossibleStates:
    ps = history(*INDEXED)
    ps.crashed(Op.make("put", "t", "k", {"a": 1}))
    return ps

def test_i2_crashed_put_observed_half_applied_is_a_violation():
    def scenario():  # the record is there, its index entry is not: neither before nor after
        ps = crashed_put()
        ps.ok(Op.make("get", "t", "k"), {"a": 1})
        ps.ok(Op.make("find", "t", "a", 1), frozenset())
    violates("I2", scenario, "w0.find('t', 'a', 1, 'main')", "w0.put('t', 'k', {'a': 1}, 'main')  # crashed")

def test_i2_crashed_put_observed_with_index_entry_but_no_record_is_a_violation():
    def scenario():
        ps = crashed_put()
        ps.ok(Op.make("find", "t", "a", 1), frozenset({"k"}))
        ps.ok(Op.make("scan", "t"), {})
    violates("I2", scenario, "w0.scan('t', 'main')")

@pytest.mark.parametrize("seen", ["before", "after"])
def test_i2_crashed_put_observed_fully_before_or_after_passes(seen):
    ps = crashed_put()
    ps.ok(Op.make("get", "t", "k"), None if seen == "before" else {"a": 1})
    ps.ok(Op.make("find", "t", "a", 1), frozenset() if seen == "before" else frozenset({"k"}))
    assert len(ps) == 1

def test_i2_crashed_create_index_may_leave_the_declared_building_state():
    ps = history(*INDEXED, ("put", "t", "k", {"b": 1}))
    ps.crashed(Op.make("create_index", "t", "b"))
    ps.failed(Op.make("find", "t", "b", 1), E.IndexNotReady("t.b"))  # declared intermediate
    assert len(ps) == 1

def test_i3_acknowledged_put_lost_after_restart_is_a_violation():
    def scenario():
        ps = history(*INDEXED, ("put", "t", "k", {"a": 1}))
        ps.restarted()
        ps.ok(Op.make("get", "t", "k"), None)
    violates("I3", scenario, "w0.get('t', 'k', 'main') returned None", "reopened")

def test_i3_acknowledged_put_seen_after_restart_passes():
    ps = history(*INDEXED, ("put", "t", "k", {"a": 1}))
    ps.restarted()
    ps.ok(Op.make("get", "t", "k"), {"a": 1})
    ps.ok(Op.make("find", "t", "a", 1), frozenset({"k"}))

def test_i4_create_table_that_raised_storage_error_but_applied_is_a_violation():
    def scenario():
        ps = PossibleStates()
        ps.failed(Op.make("create_table", "t"), E.StorageError("disk full"))
        ps.ok(Op.make("tables"), ["t"])
    violates("I4", scenario, "w0.tables() returned ('t',)", "raised StorageError")

def test_i4_delete_branch_that_raised_storage_error_but_applied_is_a_violation():
    def scenario():
        ps = history(("create_branch", "b"))
        ps.failed(Op.make("delete_branch", "b"), E.InjectedError("planned"))
        ps.ok(Op.make("branches"), ["main"])
    violates("I4", scenario, "w0.branches() returned ('main',)", "w0.delete_branch('b')")

def test_i4_create_and_delete_that_raised_and_did_not_apply_pass():
    ps = PossibleStates()
    ps.failed(Op.make("create_table", "t"), E.StorageError("disk full"))
    ps.ok(Op.make("tables"), [])
    ps.ok(Op.make("create_branch", "b"), None)
    ps.failed(Op.make("delete_branch", "b"), E.StorageError("disk full"))
    ps.ok(Op.make("branches"), ["b", "main"])

@pytest.mark.parametrize("seen", [["t"], []])
def test_i4_drop_table_that_raised_may_leave_either_state(seen):
    ps = history(*INDEXED)
    ps.failed(Op.make("drop_table", "t"), E.StorageError("disk full"))
    assert len(ps) == 2
    ps.ok(Op.make("tables"), seen)
    assert len(ps) == 1

LIVE = {"id": 1, "state": "live", "indexes": {"a": {"state": "ready", "checkpoint": None}}}
CLEAN = Inventory(tables={"t": LIVE}, branches={"main": {"id": 0, "parent": None}},
                  pins={("main", "t"): ("s1", 3)}, stores={"s1": 3}, derived=frozenset({"s1"}),
                  versions={"s1": 3})

@pytest.mark.parametrize("inv, culprits", [
    (Inventory(stores={"s1": 3, "ghost9": 1}, derived=frozenset({"s1"})), ["stores the authority does not", "ghost9"]),
    (Inventory(stores={"s1": 3}, derived=frozenset({"s1", "lost7"})), ["that do not exist", "lost7"]),
    (Inventory(tables={"t": LIVE, "old": {"id": 2, "state": "dropping"}}), ["tombstones left", "old"]),
    (Inventory(sidecars=("recover-t-17",)), ["sidecars left", "recover-t-17"]),
], ids=["ghost", "missing", "tombstone", "sidecar"])
def test_i5_leftovers_fail(inv, culprits):
    failing(no_ghosts(inv), "I5", CORRECTNESS, *culprits)

def test_i5_clean_inventory_passes():
    passing(no_ghosts(CLEAN), "I5", CORRECTNESS)
    passing(no_ghosts(Inventory()), "I5", CORRECTNESS)

def test_i6_dropped_table_or_deleted_branch_listed_again_fails():
    ps = history(*INDEXED, ("create_branch", "b"), ("drop_table", "t"), ("delete_branch", "b"))
    failing(no_resurrection(ps, ["t"], ["main"]), "I6", CORRECTNESS, "table t is back")
    failing(no_resurrection(ps, [], ["b", "main"]), "I6", CORRECTNESS, "branch b is back")

def test_i6_nothing_back_or_an_uncertain_drop_passes():
    ps = history(*INDEXED, ("create_branch", "b"), ("drop_table", "t"), ("delete_branch", "b"))
    passing(no_resurrection(ps, [], ["main"]), "I6", CORRECTNESS)
    ps.ok(Op.make("create_table", "t"), None)  # a same-name recreate is not a resurrection
    passing(no_resurrection(ps, ["t"], ["main"]), "I6", CORRECTNESS)
    ps = history(*INDEXED)
    ps.failed(Op.make("drop_table", "t"), E.StorageError("disk full"))  # may or may not have applied
    passing(no_resurrection(ps, ["t"], ["main"]), "I6", CORRECTNESS)

def test_i7_published_version_behind_head_fails():
    failing(manifest_tracks_head(Inventory(versions={"s": 3}, stores={"s": 4}, derived=frozenset({"s"}))),
            "I7", CORRECTNESS, "s: published 3, head 4")
    failing(manifest_tracks_head(Inventory(versions={"gone": 3}, derived=frozenset({"gone"}))), "I7",
            CORRECTNESS, "gone: published 3, head None")
    # versions kept for a tombstoned table's (no longer derived) stores are not published: no drift
    passing(manifest_tracks_head(Inventory(versions={"old": 3})), "I7", CORRECTNESS)

def test_i7_published_equals_head_passes():
    passing(manifest_tracks_head(Inventory(versions={"s": 4}, stores={"s": 4, "u": None})), "I7", CORRECTNESS)
    passing(manifest_tracks_head(CLEAN), "I7", CORRECTNESS)

ROWS = {("main", "t"): {"k1": {"a": 1}, "k2": {"a": 1}, "k3": {"a": 2}}, ("b", "t"): {"k1": {"a": 2}}}

def honest(table, attr, value, branch):
    return frozenset(k for k, r in ROWS[(branch, table)].items()
                     if attr in r and type(r[attr]) is type(value) and r[attr] == value)

def test_i8_ready_index_missing_a_key_fails():
    def lossy(table, attr, value, branch):
        return honest(table, attr, value, branch) - {"k2"}
    failing(index_honesty({("t", "a"): True}, ROWS, lossy), "I8", CORRECTNESS, "t.a=1@main", "'k2'")

def test_i8_ready_index_that_refuses_fails():
    failing(index_honesty({("t", "a"): True}, ROWS, lambda *a: E.IndexNotReady("t.a")), "I8", CORRECTNESS,
            "t.a=2@b", "IndexNotReady")

def test_i8_not_ready_index_that_answers_fails():
    failing(index_honesty({("t", "a"): False}, ROWS, honest), "I8", CORRECTNESS,
            "t.a@main is not ready but answered", "t.a@b")

def test_i8_honest_ready_and_refusing_not_ready_index_pass():
    passing(index_honesty({("t", "a"): True}, ROWS, honest), "I8", CORRECTNESS)
    passing(index_honesty({("t", "a"): False}, ROWS, lambda *a: E.IndexNotReady("t.a")), "I8", CORRECTNESS)

def test_i9_failed_probe_or_held_lock_fails():
    failing(no_wedge({("t", "main"): None, ("t", "b"): E.StorageError("wedged")}, ()), "I9", LIVENESS,
            "t@b", "wedged")
    failing(no_wedge({("t", "main"): TimeoutError("create waited")}, ()), "I9", LIVENESS, "t@main")
    failing(no_wedge({("t", "main"): None}, ("create-lock:t",)), "I9", LIVENESS, "create-lock:t")

def test_i9_successful_probes_and_no_locks_pass():
    passing(no_wedge({("t", "main"): None, ("t", "b"): None}, ()), "I9", LIVENESS)

@pytest.mark.parametrize("field, value", [("tables", {}), ("branches", {"x": {}}), ("pins", {}),
                                          ("stores", {"s1": 4}), ("versions", {"s1": 4})])
def test_i10_second_open_that_changes_the_inventory_fails(field, value):
    second = Inventory(**{**CLEAN.__dict__, field: value})
    failing(idempotent_recovery(CLEAN, second, CleanupReport()), "I10", CORRECTNESS, "second open changed")

def test_i10_second_cleanup_that_reclaims_or_fails_fails():
    failing(idempotent_recovery(CLEAN, CLEAN, CleanupReport(reclaimed=("fork-b-t",))), "I10", CORRECTNESS,
            "second cleanup", "fork-b-t")
    failing(idempotent_recovery(CLEAN, CLEAN, CleanupReport(failed=(("s9", "EIO"),))), "I10", CORRECTNESS,
            "s9", "EIO")

def test_i10_same_inventory_and_empty_second_cleanup_pass():
    same = Inventory(**CLEAN.__dict__)
    passing(idempotent_recovery(CLEAN, same, CleanupReport(skipped=("busy",))), "I10", CORRECTNESS)

def test_i11_unready_index_or_pending_leftovers_fail():
    building = {"id": 1, "state": "live", "indexes": {"a": {"state": "building", "checkpoint": 7}}}
    failing(converged(Inventory(tables={"t": building})), "I11", LIVENESS, "index t.a is building")
    failing(converged(Inventory(tables={"old": {"id": 2, "state": "dropping"}})), "I11", LIVENESS,
            "still pending", "tombstones=('old',)")
    failing(converged(Inventory(sidecars=("sc1",), stores={"g": 1}, versions={"v": 1}, derived=frozenset({"v"}))),
            "I11", LIVENESS,
            "sidecars=('sc1',)", "ghosts=['g']", "drift={'v': (1, None)}")

def test_i11_converged_inventory_passes():
    passing(converged(CLEAN), "I11", LIVENESS)

@pytest.mark.parametrize("exc", [KeyError("pins"), TypeError("bad"), E.StorageError("x"), RuntimeError("y")])
def test_guarded_crashing_checker_is_a_harness_failure_never_a_pass(exc):
    def boom() -> Check:
        raise exc
    got = guarded(NAME["I8"], boom)
    assert (got.ok, got.klass, got.invariant) == (False, HARNESS, NAME["I8"]) and not got
    assert f"checker crashed: {type(exc).__name__}" in got.detail

def test_guarded_passes_a_real_verdict_through():
    assert guarded(NAME["I5"], lambda: no_ghosts(CLEAN)) == no_ghosts(CLEAN)
    failing(guarded(NAME["I5"], lambda: no_ghosts(Inventory(sidecars=("x",)))), "I5", CORRECTNESS, "x")
    assert len(INVARIANTS) == 11 and sorted(NAME) == sorted(f"I{n}" for n in range(1, 12))


# --- regressions for the gaps a review found in the checks themselves ------------------------------------

def test_i7_checks_the_version_of_every_pin():
    check = inv.manifest_tracks_head(Inventory(pins={("main", "t"): ("s", 3)}, stores={"s": 4}))
    assert not check.ok and "main/t" in check.detail


def test_i8_catches_a_stale_entry_for_a_value_no_record_has():
    rows = {("main", "t"): {"k": {"a": 6}}}
    check = inv.index_honesty({("t", "a"): True}, rows, lambda t, a, v, b: {"k"} if v in (5, 6) else set(),
                              probes=(5,))
    assert not check.ok and "5" in check.detail


def test_i8_keeps_1_and_true_apart_and_probes_every_value():
    rows = {("main", "t"): {"k1": {"a": 1}, "k2": {"a": True}, **{f"n{i}": {"a": i + 10} for i in range(6)}}}

    def find(t, a, v, b):
        if v is True:
            return set()  # the index lost k2
        return {k for k, r in rows[("main", "t")].items() if type(r["a"]) is type(v) and r["a"] == v}
    assert not inv.index_honesty({("t", "a"): True}, rows, find).ok
    wrong_late = lambda t, a, v, b: set() if v == 15 else find(t, a, v, b) | ({"k2"} if v is True else set())
    assert not inv.index_honesty({("t", "a"): True}, rows, wrong_late).ok


def test_i10_names_the_field_a_second_open_changed():
    check = inv.idempotent_recovery(Inventory(), Inventory(sidecars=("x.json",)), CleanupReport())
    assert not check.ok and "sidecars" in check.detail


def test_i11_counts_missing_stores_and_held_locks():
    assert not inv.converged(Inventory(derived=frozenset({"m"}))).ok
    assert not inv.converged(Inventory(locks_held=("ddl",))).ok
