"""The public fault surface: FaultPlan, SimulatedCrash, CATALOGUE; plans are frozen, seeded, printable
data; unknown names are refused when the plan is built; planned faults reach the caller as documented."""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

import sut
from faults import FaultPlan, SimulatedCrash
from sut.failpoints import CATALOGUE, REQUIRED, for_backend
from faults.plan import PointFault
from faults.strategies import plans
from model import errors as E


def test_required_failpoints_are_catalogued_where_their_step_exists():
    assert set(REQUIRED) <= set(CATALOGUE)
    for name in ("drop.after_tombstone", "fork.before_publish", "create.after_store"):
        assert set(CATALOGUE[name].backends) == {"lmdb", "rocksdb", "lance"}
    for name in ("optimize.before_publish", "recovery.before_publish"):
        assert CATALOGUE[name].backends == ("lance",)  # KV optimize and recovery publish nothing
    assert all(fp.leaves and fp.operation for fp in CATALOGUE.values())


@pytest.mark.parametrize("build", [lambda: FaultPlan.crash_at("fork.before_publishh"),
                                   lambda: FaultPlan.error_at("nope.nothing"),
                                   lambda: FaultPlan.fail_primitive("putt"),
                                   lambda: FaultPlan.fail_primitive("put", target="tables")])
def test_unknown_names_are_refused_when_the_plan_is_built(build):
    with pytest.raises(ValueError):
        build()


def test_plans_are_frozen_combinable_printable_data():
    plan = FaultPlan.crash_at("drop.after_tombstone", hit=2) | FaultPlan.fail_primitive("put", "index", every=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.seed = 3
    assert len(plan.points) == 1 and len(plan.primitives) == 1
    assert "drop.after_tombstone" in repr(plan) and "every=10" in repr(plan)
    same = FaultPlan.crash_at("drop.after_tombstone", hit=2) | FaultPlan.fail_primitive("put", "index", every=10)
    assert plan == same


def test_crash_fires_at_the_planned_hit_and_unwinds_past_except_exception(backend, tmp_path):
    db = sut.open_database(backend, tmp_path / "db", faults=FaultPlan.crash_at("write.before_commit", hit=2))
    db.create_table("t")
    db.put("t", "a", {})
    with pytest.raises(SimulatedCrash):
        db.put("t", "b", {})
    assert not issubclass(SimulatedCrash, Exception)
    assert db.fault_report()["fired"] == [("write.before_commit", 2, "crash")]
    db.abandon()
    db = sut.open_database(backend, tmp_path / "db")  # the same path, at once, in the same process
    assert db.scan("t") == {"a": {}}
    db.close()


def test_injected_error_reaches_the_caller_as_storage_error(backend, tmp_path):
    db = sut.open_database(backend, tmp_path / "db", faults=FaultPlan.error_at("create.after_store"))
    with pytest.raises(E.StorageError) as info:
        db.create_table("t", indexed=["x"])
    assert type(info.value) is E.InjectedError
    inv = db.inventory()
    assert db.tables() == [] and inv.stores == {} and inv.locks_held == ()  # discarded, lock released
    db.create_table("t")
    db.close()


def test_a_crash_during_recovery_leaves_nothing_held(backend, tmp_path):
    """A crash inside open_database (recovery) releases everything, as process death would."""
    db = sut.open_database(backend, tmp_path / "db", faults=FaultPlan.crash_at("drop.after_tombstone"))
    db.create_table("t")
    with pytest.raises(SimulatedCrash):
        db.drop_table("t")
    db.abandon()
    with pytest.raises(SimulatedCrash):
        sut.open_database(backend, tmp_path / "db", faults=FaultPlan.crash_at("recovery.before_complete_drop"))
    db = sut.open_database(backend, tmp_path / "db")
    assert db.tables() == [] and db.inventory().tombstones == ()
    db.close()


def test_every_nth_and_persistent_primitive_failures(backend, tmp_path):
    db = sut.open_database(backend, tmp_path / "db", faults=FaultPlan.fail_primitive("put", "table", every=3))
    db.create_table("t")
    results = []
    for i in range(6):
        try:
            db.put("t", f"k{i}", {})
            results.append("ok")
        except E.InjectedError:
            results.append("failed")
    assert results == ["ok", "ok", "failed", "ok", "ok", "failed"]
    assert sorted(db.scan("t")) == ["k0", "k1", "k3", "k4"]  # a failed put applied nothing
    db.close()
    db = sut.open_database(backend, tmp_path / "db",
                           faults=FaultPlan.fail_primitive("put", "table", calls=(2,), persistent=True))
    db.put("t", "x1", {})
    for key in ("x2", "x3"):
        with pytest.raises(E.InjectedError):
            db.put("t", key, {})
    db.close()


def test_probability_is_drawn_from_the_plan_seed(tmp_path):
    def fired(seed, where):
        plan = FaultPlan(seed=seed, primitives=FaultPlan.fail_primitive("put", "table", probability=0.5).primitives)
        db = sut.open_database("lmdb", tmp_path / where, faults=plan)
        db.create_table("t")
        for i in range(20):
            try:
                db.put("t", f"k{i}", {})
            except E.InjectedError:
                pass
        out = [n for _name, n, _a in db.fault_report()["fired"]]
        db.close()
        return out
    first = fired(7, "a")
    assert first and first == fired(7, "b") and first != fired(8, "c")


@settings(max_examples=30)
@given(plan=plans(for_backend("lance")))
def test_swarm_plans_are_valid_printable_data(plan):
    assert eval(repr(plan), {**vars(__import__("faults.plan", fromlist=["x"]))}) == plan
    assert all(p.failpoint in for_backend("lance") for p in plan.points)


def test_point_conditions_every_nth_and_probability_and_the_count_action(tmp_path):
    """A point fault by `every` fires at hits n, 2n, ...; by `probability`, at the hits the plan's seed
    draws (the same hits for the same seed); `count` only records that the point was reached."""
    runs = iter(range(100))

    def fired_over(plan, writes=12):
        db = sut.open_database("lmdb", tmp_path / f"db{next(runs)}", faults=plan)
        db.create_table("t")
        for i in range(writes):
            try:
                db.put("t", f"k{i}", {})
            except E.InjectedError:
                pass
        fired = [n for name, n, _a in db.fault_report()["fired"] if name == "write.before_commit"]
        assert db.scan("t") == {f"k{i}": {} for i in range(writes) if i + 1 not in fired}
        db.close()
        return fired
    every = FaultPlan(points=(PointFault("write.before_commit", "error", every=4),))
    assert fired_over(every) == [4, 8, 12]
    chance = FaultPlan(seed=7, points=(PointFault("write.before_commit", "error", probability=0.3),))
    drawn = fired_over(chance)
    assert 0 < len(drawn) < 12 and fired_over(chance) == drawn
    assert fired_over(chance.with_seed(8)) != drawn
    counted = FaultPlan(points=(PointFault("write.before_commit", "count"),))
    db = sut.open_database("lmdb", tmp_path / "count", faults=counted)
    db.create_table("t")
    db.put("t", "a", {})
    db.put("t", "b", {})
    assert db.fault_report()["fired"] == [("write.before_commit", 1, "count"), ("write.before_commit", 2, "count")]
    assert db.scan("t") == {"a": {}, "b": {}}
    db.close()
