"""Deterministic interleavings: a second worker's operation runs at a failpoint of the first (the
pause/callback action), so the races of the seeds are replayed exactly, every time.
(Two recovery sweeps on one sidecar: tests/test_lance_versioned.py::test_second_opener_races_the_same_sidecar.)"""
from __future__ import annotations

import threading

import pytest

import sut
from faults import FaultPlan, PointFault
from model import errors as E


def _open(backend, path, plan=None):
    db = sut.open_database(backend, path, faults=plan)
    return db


def test_cleanup_inside_a_first_writes_fork_to_publish_window(backend, tmp_path):
    """Cleanup runs while a fork exists but is not yet published. Destroy only on proof: the fork's write
    lock is held, so cleanup skips it; the write publishes it, and nothing is lost or left over."""
    reports = []
    holder = {}
    plan = FaultPlan.callback_at("fork.before_publish", lambda: reports.append(holder["w2"].cleanup()))
    db = _open(backend, tmp_path / "db", plan)
    holder["w2"] = db.worker()
    db.create_table("t", indexed=["x"])
    db.put("t", "base", {"x": 1})
    db.create_branch("b")
    db.put("t", "mine", {"x": 2}, branch="b")
    assert db.fault_report()["fired"] == [("fork.before_publish", 1, "callback")] and len(reports) == 1
    assert reports[0].reclaimed == () and reports[0].skipped, f"cleanup destroyed an in-flight fork: {reports[0]}"
    assert db.scan("t", "b") == {"base": {"x": 1}, "mine": {"x": 2}} and db.find("t", "x", 2, "b") == {"mine"}
    assert db.cleanup().reclaimed == () and not db.inventory().ghosts
    db.close()


def test_drop_and_recreate_inside_another_workers_write(backend, tmp_path):
    """Worker 2 drops and recreates the table while worker 1 is between its authority read and its commit,
    holding handles on the old stores. Worker 1 must not write into the new incarnation (nor bring an old
    store back): its write fails or lands on the dropped table; the new table stays empty."""
    holder = {}

    def ddl():
        holder["w2"].drop_table("t")
        holder["w2"].create_table("t", indexed=["x"])
    db = _open(backend, tmp_path / "db", FaultPlan.callback_at("write.before_commit", ddl, hit=2))
    holder["w2"] = db.worker()
    w1 = db.worker()
    db.create_table("t", indexed=["x"])
    w1.put("t", "old", {"x": 1})
    try:
        w1.put("t", "racing", {"x": 1})
    except E.StorageError:
        pass  # the store it was about to write is gone: not applied
    assert db.fault_report()["fired"] == [("write.before_commit", 2, "callback")]
    assert w1.scan("t") == {} and w1.find("t", "x", 1) == frozenset()
    db.cleanup()
    inv = db.inventory()
    assert not inv.ghosts and not inv.missing, inv
    w1.put("t", "new", {"x": 1})
    assert holder["w2"].find("t", "x", 1) == {"new"}
    db.close()


def test_branch_delete_inside_a_first_write_on_it(backend, tmp_path):
    """The branch is deleted while its first write is forking: the write must not publish a pin for a
    branch that no longer exists, and the fork it made is reclaimed, not resurrected."""
    holder = {}
    db = _open(backend, tmp_path / "db",
               FaultPlan.callback_at("fork.before_publish", lambda: holder["w2"].delete_branch("b")))
    holder["w2"] = db.worker()
    db.create_table("t")
    db.create_branch("b")
    with pytest.raises((E.NoSuchBranch, E.Conflict, E.StorageError)):
        db.put("t", "k", {}, branch="b")
    assert db.branches() == ["main"]
    db.cleanup()
    assert not db.inventory().ghosts and db.scan("t") == {}
    db.create_branch("b")
    assert db.scan("t", "b") == {}
    db.close()


@pytest.mark.parametrize("inner", [lambda w: w.delete("t", "k2"), lambda w: w.put("t", "kb", {"a": 1}, "b")],
                         ids=["delete-on-main", "first-write-on-b"])
def test_a_write_that_forks_the_table_inside_create_index_leaves_no_index_store_missing(backend, tmp_path, inner):
    """Found by the generic interleaving family (harness.interleave), no rule written for it: create_index
    listed the table's forks, made their index stores, and at `index.after_stores` another worker's first
    write on branch b forked the table there. The descriptor then covered a fork with no index store: every
    find on b (and on its child c) failed for good (I5, a missing derived store). create_index must cover
    the forks the authority holds when it publishes the descriptor. It was found with a delete on main that
    forked the table for child branch b (copy on write); a first write on b itself does the same."""
    holder = {}
    plan = FaultPlan.callback_at("index.after_stores", lambda: inner(holder["w2"]))
    db = _open(backend, tmp_path / "db", plan)
    holder["w2"] = db.worker()
    db.create_table("t")
    db.put("t", "k1", {"a": 1})
    db.put("t", "k2", {"a": 1})
    db.create_branch("b")
    db.create_index("t", "a")
    assert db.fault_report()["fired"] == [("index.after_stores", 1, "callback")]
    assert not db.inventory().missing, db.inventory().missing
    on_b, on_main = db.find("t", "a", 1, "b"), db.find("t", "a", 1)
    assert (on_b, on_main) in (({"k1", "k2"}, {"k1"}), ({"k1", "k2", "kb"}, {"k1", "k2"}))
    db.close()


@pytest.mark.parametrize("point", ["cleanup.before_complete_drop", "cleanup.before_reclaim"])
def test_a_same_name_create_inside_a_cleanup_that_finishes_the_same_drop(backend, tmp_path, point):
    """Two workers complete one interrupted drop: a cleanup (which finishes tombstoned drops) and, after it
    read the tombstone or at a step of its sweep, a same-name create (which finishes the drop first, then
    makes a new incarnation). The engine re-reads the catalog under the DDL lock: the new table survives."""
    holder = {}
    during = FaultPlan.callback_at(point, lambda: (holder["w2"].create_table("t"), holder["w2"].put("t", "new", {})))
    plan = during | FaultPlan.fail_primitive("drop", "table", calls=(1,)) | FaultPlan.error_at("drop.after_tombstone")
    db = sut.open_database(backend, tmp_path / "db", faults=plan)
    holder["w2"] = db.worker()
    db.create_table("t")
    db.create_table("u")
    db.create_branch("c")
    db.put("u", "kc", {}, branch="c")
    db.delete_branch("c")  # the reclaim of u's fork fails: a ghost for the sweep
    with pytest.raises(E.StorageError):
        db.drop_table("t")  # fails after its tombstone: a drop to finish
    db.cleanup()
    assert (point, 1, "callback") in db.fault_report()["fired"]
    assert db.tables() == ["t", "u"] and db.scan("t") == {"new": {}}
    db.close()


@pytest.mark.parametrize("mutants", [(), ("reconcile_without_ddl_lock",)], ids=["engine", "reconcile_without_ddl_lock"])
def test_a_cleanup_inside_a_drop_waits_for_it_to_finish(backend, tmp_path, mutants):
    """A cleanup run while a drop is between its index and its primary stores reads the tombstone and would
    finish the same drop: it waits on the DDL lock the drop holds (the engine). Without that lock (the
    mutant) it drops the stores the drop listed, and the drop fails on a store already gone."""
    holder, waiting, threads, reports = {}, threading.Event(), [], []

    def inside():  # the cleanup on a thread of its own, until it is done or waits on the drop
        threads.append(threading.Thread(target=lambda: (reports.append(holder["w2"].cleanup()), waiting.set())))
        threads[0].start()
        assert waiting.wait(timeout=60), "the cleanup neither finished nor waited"
    plan = FaultPlan(points=(PointFault("drop.after_index_stores", "callback", hit=1, callback=inside),
                             PointFault("lock.wait", "callback", callback=waiting.set)))
    db = sut.open_database(backend, tmp_path / "db", faults=plan, mutants=mutants)
    holder["w2"] = db.worker()
    db.create_table("t", indexed=["x"])
    db.put("t", "k", {"x": 1})
    try:
        if mutants:
            with pytest.raises(E.StorageError):
                db.drop_table("t")
        else:
            db.drop_table("t")
    finally:
        threads[0].join(timeout=60)
    report = db.fault_report()
    assert ("drop.after_index_stores", 1, "callback") in report["fired"]
    assert report["hits"]["cleanup.before_complete_drop"]  # the cleanup read the drop's tombstone
    assert bool(report["hits"].get("lock.wait")) != bool(mutants)  # the engine's cleanup waited; the mutant's did not
    assert reports and db.tables() == []
    db.close()


@pytest.mark.parametrize("point,call", [("create.after_create_store", lambda db: db.create_table("v", indexed=["x"])),
                                        ("index.after_stores", lambda db: db.create_index("t", "y"))],
                         ids=["create_table", "create_index"])
def test_cleanup_inside_a_create_leaves_its_unpublished_stores_alone(backend, tmp_path, point, call):
    """Found by the generic interleaving family (shrunk: drop t, create_branch b, then cleanup inside a
    create_table at `create.after_create_store`): a create makes its stores before it publishes them, so a
    sweep meanwhile saw them as ghosts and reclaimed them, and the create then published a table (an
    index) whose store was gone: unreadable for good (I5). Destroy only on proof: a create runs under the
    DDL lock, and the sweep reclaims only while it can take that lock, so it skips them."""
    reports, holder = [], {}
    db = sut.open_database(backend, tmp_path / "db", faults=FaultPlan())
    holder["w2"] = db.worker()
    db.create_table("t", indexed=["x"])
    db.put("t", "k1", {"x": 1, "y": 2})
    db.create_branch("b")
    db.put("t", "kb", {"x": 1, "y": 2}, branch="b")
    db.core.fp.set_plan(FaultPlan.callback_at(point, lambda: reports.append(holder["w2"].cleanup()),
                                              hit=db.core.fp.hits[point] + 1))
    call(db)
    assert [f[0] for f in db.fault_report()["fired"]] == [point] and reports[0].reclaimed == ()
    inv = db.inventory()
    assert not inv.missing and not inv.ghosts, (inv.missing, inv.ghosts)
    assert db.find("t", "y", 2, "b") == {"k1", "kb"} if point.startswith("index") else db.scan("v") == {}
    db.close()


@pytest.mark.backend_only("lmdb", "rocksdb")  # Lance's optimize publishes per store (versioned.optimize)
def test_a_drop_inside_optimize_is_skipped_not_a_failure(backend, tmp_path):
    """Found by the generic interleaving family (a drop's stores removed at `optimize.before_compact`):
    optimize compacted the stores of the catalog it read when it started, and failed with a StorageError
    on one dropped since, so a maintenance loop failed on every concurrent drop. A store the authority no
    longer derives is skipped."""
    holder = {}
    db = _open(backend, tmp_path / "db", FaultPlan())
    holder["w2"] = db.worker()
    db.create_table("t", indexed=["x"])
    db.create_table("u")
    db.put("t", "k", {"x": 1})
    point = "optimize.before_compact"
    db.core.fp.set_plan(FaultPlan.callback_at(point, lambda: holder["w2"].drop_table("t")))
    db.optimize()
    assert [f[0] for f in db.fault_report()["fired"]] == [point]
    assert db.tables() == ["u"] and not db.inventory().missing
    db.close()


def test_create_index_after_one_interrupted_on_a_table_with_forks_starts_every_store_afresh(backend, tmp_path):
    """Found in review: create_index interrupted after its stores, on a table forked on main and b, leaves
    ghosts of both; the next create_index drops and recreates them, parent first, and on Lance dropping
    the parent's dataset took the child branch with it, so dropping the child failed (a StorageError with
    no fault: I9). Every store is checked against a fresh listing before it is dropped."""
    db = _open(backend, tmp_path / "db", FaultPlan.error_at("index.after_stores"))
    db.create_table("t")
    db.put("t", "k1", {"a": 1})
    db.create_branch("b")
    db.put("t", "kb", {"a": 1}, branch="b")
    with pytest.raises(E.StorageError):
        db.create_index("t", "a")
    assert db.fault_report()["fired"] == [("index.after_stores", 1, "error")]
    db.create_index("t", "a")
    assert db.find("t", "a", 1, "b") == {"k1", "kb"} and not db.inventory().missing
    db.close()


def test_create_index_inside_a_first_writes_fork_window_leaves_no_fork_without_its_index(backend, tmp_path):
    """Found in review (the other order of the create_index race above): a first write on b forks the table
    with the indexes it read, and at `fork.before_publish` another worker creates an index and backfills
    it. Publishing that fork would leave a fork with no store for the new index (I5, for good); the publish
    refuses (Conflict), the orphan is reclaimed, and the retried write forks with the index."""
    holder = {}
    plan = FaultPlan.callback_at("fork.before_publish", lambda: holder["w2"].create_index("t", "a"))
    db = _open(backend, tmp_path / "db", plan)
    holder["w2"] = db.worker()
    db.create_table("t")
    db.put("t", "k1", {"a": 1})
    db.create_branch("b")
    with pytest.raises(E.Conflict):
        db.put("t", "kb", {"a": 1}, branch="b")
    assert db.fault_report()["fired"] == [("fork.before_publish", 1, "callback")]
    assert not db.inventory().missing, db.inventory().missing
    db.put("t", "kb", {"a": 1}, branch="b")
    assert db.find("t", "a", 1, "b") == {"k1", "kb"} and not db.inventory().missing
    db.close()


LMDB_HANDLE_RACE = """
import sys, tempfile, threading, time
from sut.backends.lmdb import LmdbBackend
be = LmdbBackend(tempfile.mkdtemp())
be.create("s")
inside = threading.Event()
def writer():  # another worker's write transaction, between its steps (the GIL released)
    with be.env.begin(write=True) as txn:
        inside.set()
        time.sleep(0.2)
        txn.put(b"k", b"v")
threading.Thread(target=writer, daemon=True).start()
inside.wait()
be.handle("s")  # a first write's fork copy opens its handles here
print("returned")
"""


def test_an_lmdb_handle_opened_during_another_threads_write_does_not_deadlock_the_process():
    """Found by the generic interleavings: a create_index backfill's authority write on one thread and a
    first write's fork copy opening a handle on another hung the whole process for good (the harness's own
    bound too: py-lmdb's open_db without a transaction waits for the writer mutex holding the GIL,
    tests/surface/test_lmdb_surface.py). Run in a child, with a bound, because a hang stops every thread."""
    import subprocess
    import sys
    try:
        out = subprocess.run([sys.executable, "-c", LMDB_HANDLE_RACE], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the process deadlocked: a handle open waited for the writer mutex holding the GIL")
    assert out.stdout.strip() == "returned", out.stderr
