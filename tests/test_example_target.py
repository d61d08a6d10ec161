"""The worked example target (targets/memory.py, docs/targets.md): the engine against the model, the files
its durable steps leave, its crash recovery, and its planted bug (seed 000: a drop that removes the catalog
row first leaves a ghost store file, which a same-name create inherits), alone and through the harness."""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, cast

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from faults import CATALOGUE as REGISTERED
from faults import Failpoints, FaultPlan, SimulatedCrash
from harness import fault_machine, invariants
from harness.crashcheck import run, trial  # run: one call, checked against the model
from harness.kill import by_machine
from harness.target import Target
from harness.targets import load
from model import errors as E
from model.contract import Database
from model.ops import Op
from model.possible import PossibleStates, Violation
from targets.memory import CATALOG, CATALOGUE, MEMORY, MemoryDatabase

M = Op.make


@pytest.fixture
def path(tmp_path: Any) -> str:
    return str(tmp_path / "db")  # a directory of its own; open creates it


def files(path: str) -> dict[str, bytes]:
    """What is on disk: every file of the database directory and its bytes."""
    out = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as f:
            out[name] = f.read()
    return out


def catalog_rows(path: str) -> dict[str, Any]:
    with open(os.path.join(path, CATALOG), encoding="utf-8") as f:
        return json.load(f)["tables"]


def test_memory_is_a_target_with_its_catalogue_registered(path: str) -> None:
    assert isinstance(MEMORY, Target)
    assert set(CATALOGUE) <= set(REGISTERED)
    db = MEMORY.open(path)
    assert isinstance(db, Database)
    db.close()
    with pytest.raises(ValueError):
        MEMORY.open(path, mutants=("no_such_mutant",))


def test_shared_failpoint_names_mean_the_same_step() -> None:
    """Names the reference engine registers too must carry the same operation and text, or the second
    `register` raises: importing both targets in one process must work."""
    import sut.failpoints as ref
    for name in set(CATALOGUE) & set(ref.CATALOGUE):
        assert (CATALOGUE[name].operation, CATALOGUE[name].leaves) == (ref.CATALOGUE[name].operation,
                                                                       ref.CATALOGUE[name].leaves)


PROGRAM = (
    M("tables"), M("branches"),
    M("create_table", "t", indexed=("a",)),
    M("create_table", "t"),                          # TableExists
    M("create_table", "Bad"),                        # InvalidName
    M("create_table", "u", indexed="a"),             # InvalidName: a str is not a collection of names
    M("put", "t", "k1", {"a": 1}), M("put", "t", "k2", {"a": True, "b": "x"}), M("put", "t", "k3", {"a": None}),
    M("put", "t", "", {"a": 1}),                     # InvalidKey
    M("put", "t", "k4", {"A": 1}),                   # InvalidRecord
    M("put", "t", "k4", {"a": 1.5}),                 # InvalidRecord
    M("put", "nope", "k1", {"a": 1}),                # NoSuchTable
    M("put", "t", "k1", {"a": 1}, branch="b"),       # NoSuchBranch
    M("get", "nope", "k1", branch="b"),              # NoSuchBranch: the branch is checked before the table
    M("get", "t", "k1"), M("get", "t", "zz"), M("scan", "t"),
    M("find", "t", "a", 1), M("find", "t", "a", True), M("find", "t", "a", None),
    M("find", "t", "b", "x"),                        # NoSuchIndex
    M("find", "t", "a", 1.5),                        # InvalidRecord: not a valid value
    M("create_index", "t", "a"),                     # IndexExists
    M("create_index", "nope", "a"),                  # NoSuchTable
    M("create_index", "t", "b"), M("find", "t", "b", "x"),
    M("delete", "t", "k2"), M("delete", "t", "zz"), M("scan", "t"),
    Op("reopen", ()),
    M("tables"), M("scan", "t"), M("find", "t", "a", 1),
    M("drop_table", "t"), M("drop_table", "t"),      # NoSuchTable
    M("scan", "t"),                                  # NoSuchTable
    M("create_table", "t"), M("scan", "t"), M("find", "t", "a", 1),  # a new incarnation: empty, unindexed
    M("tables"),
)
ERRORS = {E.TableExists, E.InvalidName, E.InvalidKey, E.InvalidRecord, E.NoSuchTable, E.NoSuchBranch,
          E.NoSuchIndex, E.IndexExists}


@pytest.mark.parametrize("mutants", [(), ("catalog_first_drop",)])
def test_the_engine_agrees_with_the_model_on_a_fixed_program(path: str, mutants: tuple[str, ...]) -> None:
    """Without a fault the mutant is correct too: its bug needs a crash (or an error) inside a drop."""
    model, db, raised = PossibleStates(), MEMORY.open(path, mutants=mutants), set()
    for op in PROGRAM:
        if op.name == "reopen":
            db.close()
            db = MEMORY.open(path, mutants=mutants)
            model.restarted()
            continue
        got = run(db, model, op)
        if isinstance(got, E.ContractError):
            raised.add(type(got))
    assert raised == ERRORS  # every error case of the program was reached
    assert not db.inventory().ghosts and not db.inventory().tombstones
    db.close()


def test_bad_input_writes_nothing_and_records_are_not_aliased(path: str) -> None:
    db = MEMORY.open(path)
    db.create_table("t")
    rec = {"a": 1}
    db.put("t", "k", rec)
    before = files(path)
    for bad in (lambda: db.put("t", "k", {"a": object()}), lambda: db.put("t", "\x00", {"a": 2}),
                lambda: db.create_table("t", indexed=("Bad",)), lambda: db.create_index("t", "__x")):
        with pytest.raises((E.InvalidName, E.InvalidRecord)):
            bad()
    assert files(path) == before
    rec["a"] = 2                      # the caller's dict, after the put
    got = db.get("t", "k")
    assert got is not None
    got["a"] = 3                      # the answer of a get
    db.scan("t")["k"]["a"] = 4        # the answer of a scan
    assert db.get("t", "k") == {"a": 1}
    db.close()


def _die_in_drop(path: str, point: str, mutants: tuple[str, ...] = ()) -> PossibleStates:
    """Create t with one record, crash the drop at `point`, die: the model (the files are on disk)."""
    model = PossibleStates()
    db = MEMORY.open(path, faults=Failpoints(FaultPlan.crash_at(point)), mutants=mutants)
    for op in (M("create_table", "t", indexed=("a",)), M("put", "t", "k1", {"a": 1})):
        run(db, model, op)
    drop = M("drop_table", "t")
    with pytest.raises(SimulatedCrash):
        drop.call(db)
    model.crashed(drop)
    MEMORY.kill(db)
    return model


def _crash_in_drop(path: str, point: str, mutants: tuple[str, ...] = ()) -> tuple[Any, PossibleStates]:
    """`_die_in_drop`, then reopen: the database and the model."""
    model = _die_in_drop(path, point, mutants)
    db = MEMORY.open(path, mutants=mutants)
    model.restarted()
    return db, model


@pytest.mark.parametrize(("point", "mutants", "row", "stores"), [
    ("drop.after_tombstone", (), "dropping", ["store.t.1.json"]),
    ("drop.after_store", (), "dropping", []),
    ("drop.after_catalog", (), None, []),
    ("drop.after_catalog", ("catalog_first_drop",), None, ["store.t.json"]),
])
def test_a_crash_leaves_the_files_of_the_steps_before_it(path: str, point: str, mutants: tuple[str, ...],
                                                         row: str | None, stores: list[str]) -> None:
    """Each step is one atomic file write (or remove); a crash between steps leaves exactly the steps done."""
    _die_in_drop(path, point, mutants)
    left = files(path)
    assert sorted(n for n in left if n.startswith("store.")) == stores
    assert not [n for n in left if n.endswith(".tmp")]
    assert catalog_rows(path).get("t", {}).get("state") == row


@pytest.mark.parametrize("point", ["drop.after_tombstone", "drop.after_store"])
def test_a_crash_inside_drop_is_completed_at_open(path: str, point: str) -> None:
    db, model = _crash_in_drop(path, point)
    inv = db.inventory()
    assert invariants.no_ghosts(inv), inv        # recovery finished the drop: no tombstone, no store
    assert run(db, model, M("tables")) == []
    run(db, model, M("create_table", "t"))
    assert run(db, model, M("scan", "t")) == {}  # the new incarnation inherits nothing
    assert invariants.no_ghosts(db.inventory())
    db.close()


def test_the_planted_bug_is_real_and_caught(path: str) -> None:
    """catalog_first_drop: the row is gone, the store is not; a same-name create inherits the records."""
    db, model = _crash_in_drop(path, "drop.after_catalog", mutants=("catalog_first_drop",))
    assert not invariants.no_ghosts(db.inventory())  # I5 sees the orphaned store already
    run(db, model, M("create_table", "t"))
    scan = M("scan", "t")
    got = scan.call(db)
    assert got == {"k1": {"a": 1}}                   # the old record is back
    with pytest.raises(Violation):                   # and the model rejects that answer
        model.ok(scan, got)
    db.close()


def test_a_create_that_dies_before_its_row_leaves_nothing(path: str) -> None:
    db = MEMORY.open(path, faults=FaultPlan.crash_at("create.after_store"))
    with pytest.raises(SimulatedCrash):
        db.create_table("t")
    assert db.inventory().ghosts                    # the store exists, no row references it
    MEMORY.kill(db)
    db = MEMORY.open(path)
    assert db.tables() == [] and invariants.no_ghosts(db.inventory())
    db.close()


@pytest.mark.parametrize("point", ["create.after_store", "put.before_write", "drop.after_tombstone"])
def test_an_injected_error_is_honest(path: str, point: str) -> None:
    """A StorageError leaves a state the model allows for that operation, and a reopen heals the rest."""
    model, db = PossibleStates(), MEMORY.open(path)
    run(db, model, M("create_table", "t"))
    run(db, model, M("put", "t", "k0", {"a": 0}))
    db.close()
    db = MEMORY.open(path, faults=FaultPlan.error_at(point))
    model.restarted()
    op = {"create.after_store": M("create_table", "u"), "put.before_write": M("put", "t", "k1", {"a": 1}),
          "drop.after_tombstone": M("drop_table", "t")}[point]
    with pytest.raises(E.StorageError):
        op.call(db)
    model.failed(op, E.InjectedError())
    for read in (M("tables"), M("scan", "t")):
        run(db, model, read)
    inv = db.inventory()  # a tombstone's store is not derived (the drop may have removed it): the reopen reclaims it
    assert not inv.missing and set(inv.ghosts) == ({"store.t.1.json"} if point == "drop.after_tombstone" else set())
    db.close()
    db = MEMORY.open(path)
    model.restarted()
    assert invariants.no_ghosts(db.inventory())
    run(db, model, M("tables"))
    db.close()


def test_a_closed_database_refuses_calls(path: str) -> None:
    db = MEMORY.open(path)
    db.close()
    with pytest.raises(E.StorageError):
        db.tables()


def test_the_directory_is_the_database(path: str, tmp_path: Any) -> None:
    """No state outside the directory: a copy of it is a snapshot, and removing it wipes the database."""
    db = MEMORY.open(path)
    db.create_table("t")
    db.put("t", "k", {"a": 1})
    db.close()
    snap = str(tmp_path / "snap")
    shutil.copytree(path, snap)
    db = MEMORY.open(snap)
    db.put("t", "k2", {"a": 2})                       # a write to the copy ...
    db.close()
    db = MEMORY.open(path)
    assert db.scan("t") == {"k": {"a": 1}}             # ... is not a write to the original
    assert set(db.inventory().stores) == {"store.t.1.json"} == db.inventory().derived
    db.close()
    shutil.rmtree(path)
    db = MEMORY.open(path)
    assert db.tables() == [] and not db.inventory().stores
    db.close()


def test_a_name_is_validated_before_it_becomes_a_file_name(path: str) -> None:
    correct, buggy = MemoryDatabase(path), MemoryDatabase(path + "-bug", mutants=("catalog_first_drop",))
    assert correct.store_of("t_1", 3) == "store.t_1.3.json" and buggy.store_of("t") == "store.t.json"
    for bad in ("../x", "a/b", "A", "", "a.b", "x" * 33, 3):
        for db in (correct, buggy):
            with pytest.raises(E.InvalidName):
                db.store_of(bad, 1)  # type: ignore[arg-type]


# -- through the harness (harness.crashcheck.trial): a fresh directory per trial, heal, every invariant --
# A frozen SimpleTarget's fields are read-only, which mypy does not take for Target's plain attributes.
TARGET = cast(Target, MEMORY)
TRIAL = [M("create_table", "t", indexed=("a",)), M("put", "t", "k1", {"a": 1}), M("drop_table", "t"),
         M("create_table", "t"), M("scan", "t")]


DDL_POINTS = sorted(n for n, fp in CATALOGUE.items() if fp.operation in ("create_table", "drop_table"))


@pytest.mark.parametrize("point", DDL_POINTS)
def test_a_trial_of_the_correct_engine_is_ok_at_every_ddl_failpoint(tmp_path: Any, point: str) -> None:
    fired, verdict = trial(TARGET, str(tmp_path), TRIAL, FaultPlan.crash_at(point))
    assert (point, 1, "crash") in fired       # the crash happened, and the heal found nothing wrong
    assert verdict == "ok", verdict
    assert os.listdir(tmp_path) == []         # the trial removed its directory and the copy it probed


def test_a_trial_catches_the_planted_bug_with_its_declared_invariant(tmp_path: Any) -> None:
    fired, verdict = trial(TARGET, str(tmp_path), TRIAL, FaultPlan.crash_at("drop.after_catalog"),
                           mutants=("catalog_first_drop",))
    assert ("drop.after_catalog", 1, "crash") in fired
    assert verdict != "ok" and verdict.first is not None
    assert verdict.first.invariant == MEMORY.mutants["catalog_first_drop"].invariant == "I5 no ghosts", verdict
    assert "store.t.json" in verdict.first.detail  # the orphaned store file


def test_the_whole_fault_machine_passes_on_the_example_target() -> None:
    target = load("memory")  # through the entry point, as --suite-targets=memory does
    run_state_machine_as_test(fault_machine.machine_for(target), settings=settings(
        max_examples=60, stateful_step_count=30, derandomize=True, database=None, deadline=None))


def test_the_generic_search_catches_the_planted_bug() -> None:
    found = by_machine("catalog_first_drop", load("memory"), max_examples=200, shrink=False)
    assert found["killed"] and found["klass"] != "harness", found
