"""Deterministic interleavings: a second worker's operation runs at a failpoint of the first (the
pause/callback action), so the races of the seeds are replayed exactly, every time.
(Two recovery sweeps on one sidecar: tests/test_lance_versioned.py::test_second_opener_races_the_same_sidecar.)"""
from __future__ import annotations

import pytest

import sut
from faults import FaultPlan
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


def test_a_write_that_forks_a_child_branch_inside_create_index_leaves_no_index_store_missing(backend, tmp_path):
    """Found by the generic interleaving family (harness.interleave), no rule written for it: create_index
    listed the table's forks, made their index stores, and at `index.after_stores` another worker wrote to
    main, which forked the table for child branch c (copy on write). The descriptor then covered a fork with
    no index store: every find on c failed for good (I5, a missing derived store). create_index must cover
    the forks the authority holds when it publishes the descriptor."""
    holder = {}
    plan = FaultPlan.callback_at("index.after_stores", lambda: holder["w2"].delete("t", "k1"))
    db = _open(backend, tmp_path / "db", plan)
    holder["w2"] = db.worker()
    db.create_table("t")
    db.put("t", "k1", {"a": 1})
    db.put("t", "k2", {"a": 1})
    db.create_branch("c")
    db.create_index("t", "a")
    assert db.fault_report()["fired"] == [("index.after_stores", 1, "callback")]
    assert not db.inventory().missing, db.inventory().missing
    assert db.find("t", "a", 1, "c") == {"k1", "k2"} and db.find("t", "a", 1) == {"k2"}
    db.close()
