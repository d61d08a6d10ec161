"""The seed protocols on real stores, each driven into its interrupted state through the engine's own
primitives (no mocks): tombstoned drops, the create lock, checkpointed backfills, orphan forks, cleanup."""
from __future__ import annotations

import pytest

import sut
from model import errors as E
from sut.engine.authority import BUILDING, FAILED, READY
from sut.engine.naming import Fork
from tests.engine_helpers import forge_authority, forge_rows, reopen


@pytest.fixture
def db(backend, tmp_path):
    box = {"db": sut.open_database(backend, tmp_path / "db")}
    yield box
    box["db"].close()


def _tombstone(name):
    def change(a):
        a.tables[name]["state"] = "dropping"
    return change


def test_open_completes_a_tombstoned_drop(db):
    """A drop interrupted after its tombstone is completed at open: no resurrection, no ghost stores."""
    d = db["db"]
    d.create_table("t", indexed=["x"])
    d.create_branch("b")
    d.put("t", "k", {"x": 1}, branch="b")
    forge_authority(d, _tombstone("t"))
    assert d.tables() == [] and d.inventory().tombstones == ("t",)
    d = db["db"] = reopen(d)
    inv = d.inventory()
    assert d.tables() == [] and inv.tombstones == () and not inv.stores, inv


def test_create_over_a_tombstone_completes_the_drop_and_starts_empty(db):
    """A same-name create over a tombstone completes the drop inline, then creates a new incarnation."""
    d = db["db"]
    d.create_table("t")
    d.put("t", "k", {"v": 1})
    old = d.inventory().tables["t"]["id"]
    forge_authority(d, _tombstone("t"))
    d.create_table("t")
    inv = d.inventory()
    assert d.scan("t") == {} and inv.tables["t"]["id"] != old and not inv.ghosts, inv


def test_failed_create_releases_the_lock_and_discards_its_stores(db):
    """A create whose store creation fails (a real collision on disk) raises StorageError, releases the
    DDL lock on that path, leaves no store behind, and the next create succeeds at once."""
    d = db["db"]
    next_id = d.core.read_authority(d.handles).doc["next_id"]
    d.core.create_store(Fork("t", next_id, "main", 0).index("x"))  # the index store collides
    with pytest.raises(E.StorageError):
        d.create_table("t", indexed=["x"])
    inv = d.inventory()
    assert inv.locks_held == () and d.tables() == []
    assert Fork("t", next_id, "main", 0).data() not in inv.stores, "the unpublished store was kept"
    d.create_table("t", indexed=["x"])
    assert d.tables() == ["t"]
    assert d.cleanup().reclaimed == (Fork("t", next_id, "main", 0).index("x"),)


def test_open_resumes_a_backfill_from_its_checkpoint(db):
    """An index left `failed` with a checkpoint refuses queries, and open resumes it to ready."""
    d = db["db"]
    d.create_table("t")
    for i in range(20):
        d.put("t", f"k{i:02}", {"x": i % 3})
    d.create_index("t", "x")
    assert d.find("t", "x", 1) == {f"k{i:02}" for i in range(20) if i % 3 == 1}

    def half_built(a):
        desc = a.tables["t"]["indexes"]["x"]
        desc.update(state=FAILED, checkpoint={a.pins["main"]["t"]: "k09"}, done=[])
    forge_authority(d, half_built)
    with pytest.raises(E.IndexNotReady):
        d.find("t", "x", 1)
    with pytest.raises(E.IndexNotReady):
        d.worker().find("t", "x", 1)
    d = db["db"] = reopen(d)
    assert d.inventory().tables["t"]["indexes"]["x"]["state"] == READY
    assert d.find("t", "x", 1) == {f"k{i:02}" for i in range(20) if i % 3 == 1}
    hits = d.fault_report()["hits"]
    assert hits["recovery.before_resume_backfill"] == 1 and hits["backfill.after_chunk"] >= 2


def test_create_index_resumes_a_building_index(db):
    """create_index on a not-ready index resumes it (no IndexExists); on a ready one it is IndexExists."""
    d = db["db"]
    d.create_table("t", indexed=["x"])
    d.put("t", "k", {"x": "v"})
    forge_authority(d, lambda a: a.tables["t"]["indexes"]["x"].update(state=BUILDING, done=[]))
    d.create_index("t", "x")
    assert d.find("t", "x", "v") == {"k"}
    with pytest.raises(E.IndexExists):
        d.create_index("t", "x")


def test_orphan_fork_self_heals_and_a_live_fork_is_kept(db):
    """A fork left unpublished (crash between fork and publish) is reclaimed by the next write to that
    (table, branch), which forks again; cleanup reclaims orphans but keeps published forks."""
    d = db["db"]
    d.create_table("t", indexed=["x"])
    d.put("t", "base", {"x": 1})
    d.create_branch("b")
    d.create_branch("c")
    d.put("t", "live", {"x": 2}, branch="c")  # c's fork is published
    auth = d.core.read_authority(d.handles)
    orphan = auth.own_fork("b", "t")
    d.core.create_store(orphan.data())  # what a crash after the copy, before publish, leaves
    forge_rows(d, orphan.data(), [(b"junk", b'{"x":9}')])
    d.put("t", "new", {"x": 1}, branch="b")  # no wedge: self-heal
    assert d.scan("t", "b") == {"base": {"x": 1}, "new": {"x": 1}}
    assert d.find("t", "x", 9, "b") == frozenset()
    assert d.fault_report()["hits"]["fork.after_reclaim_orphan"] == 1
    ghost = Fork("t", auth.tables["t"]["id"], "zz", 99).data()
    d.core.create_store(ghost)
    report = d.cleanup()
    assert report.reclaimed == (ghost,) and d.cleanup().reclaimed == ()
    assert d.scan("t", "c") == {"base": {"x": 1}, "live": {"x": 2}}


def test_cleanup_skips_a_store_whose_write_lock_is_busy(db):
    """Destroy only on proof: a ghost whose (table, branch) write lock is held is skipped, not dropped."""
    d = db["db"]
    d.create_table("t")
    ghost = Fork("t", 1, "zz", 99).data()
    d.core.create_store(ghost)
    lock = d.core.locks.try_write(("t", "zz"))
    try:
        assert d.cleanup().skipped == (ghost,)
    finally:
        lock.release()
    assert d.cleanup().reclaimed == (ghost,)


def test_writes_on_a_parent_fork_unforked_children_first(db):
    """A child that has not forked still reads its parent's store; a write to the parent forks the child
    first, so the child keeps its snapshot (KV stores have no versions)."""
    d = db["db"]
    d.create_table("t")
    d.put("t", "a", {"v": 1})
    d.create_branch("b")
    d.create_branch("c", parent="b")
    d.put("t", "a", {"v": 2})
    d.put("t", "z", {"v": 3}, branch="b")
    assert d.scan("t", "c") == {"a": {"v": 1}}
    assert d.scan("t", "b") == {"a": {"v": 1}, "z": {"v": 3}}
    assert d.scan("t") == {"a": {"v": 2}}
    inv = d.inventory()
    assert len({store for store, _v in inv.pins.values()}) == 3 and not inv.ghosts


def test_a_branch_create_whose_rollback_fails_may_have_applied(backend, tmp_path):
    """create_branch rolls its one authority write back when a later step fails; when the rollback's own
    write fails too, the branch stays and the call raises. The model must allow that outcome (found by the
    random fault machine: an error at branch.after_publish while every 2nd catalog put failed)."""
    from faults import FaultPlan
    from harness.crashcheck import observe, run
    from model.possible import PossibleStates
    from model.ops import Op
    d = sut.open_database(backend, tmp_path / "db")
    model = PossibleStates()
    run(d, model, Op.make("create_table", "t"))
    d.close()
    plan = FaultPlan.error_at("branch.after_publish") | FaultPlan.fail_primitive("put", "catalog", calls=(2,))
    d = sut.open_database(backend, tmp_path / "db", faults=plan)
    model.restarted()
    try:
        assert isinstance(run(d, model, Op.make("create_branch", "b")), E.StorageError)
        fired = {name for name, _n, _action in d.fault_report()["fired"]}
        assert fired == {"branch.after_publish", "primitive:put:catalog"}, "the rollback's write did not fail"
        assert d.branches() == ["b", "main"]  # the branch stayed
        observe(d, model)  # and the model explains it
    finally:
        d.close()
