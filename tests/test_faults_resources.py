"""Real resource faults: a small LMDB map gives a genuine `MapFullError` (no fault plan involved). It must
reach the caller as `StorageError` (not `InjectedError`), leave the failed operation unapplied (a put) or
honestly unfinished (an index that refuses queries), hold no locks, and a reopen with a larger map must
complete what was acknowledged or resumable.
"""
from __future__ import annotations

import lmdb
import pytest

import sut
from model import errors as E

pytestmark = pytest.mark.backend_only("lmdb")

SMALL = 256 << 10   # 64 pages: fills after a few hundred records
LARGE = 8 << 20
VALUES = tuple(c * 120 for c in "abc")  # long index values (inlined, < 128 bytes): index ~ as big as data


@pytest.fixture
def path(backend, tmp_path):
    return tmp_path / "db"


def _assert_map_full(err: E.StorageError) -> None:
    assert not isinstance(err, E.InjectedError), "a real resource fault was reported as an injected one"
    assert isinstance(err.__cause__, lmdb.MapFullError), f"not the real map-full error: {err!r}"


def _fill(db, make, limit=20_000):
    """Put make(i) at k{i} until the map is full. Returns (acknowledged puts, the failed key, the error)."""
    acked: dict[str, dict] = {}
    for i in range(limit):
        key = f"k{i:05d}"
        try:
            db.put("t", key, make(i))
        except E.StorageError as e:
            return acked, key, e
        acked[key] = make(i)
    raise AssertionError(f"the map never filled after {limit} puts")


def _capacity(tmp_path, make) -> int:
    """How many records of make(i) fit in a SMALL map (LMDB's page allocation is deterministic)."""
    db = sut.open_database("lmdb", tmp_path / "probe", map_size=SMALL)
    db.create_table("t")
    acked, _key, err = _fill(db, make)
    _assert_map_full(err)
    db.close()
    return len(acked)


def test_map_full_put_is_a_storage_error_and_not_applied(backend, path):
    db = sut.open_database("lmdb", path, map_size=SMALL)
    db.create_table("t")
    acked, failed, err = _fill(db, lambda i: {"v": f"{i:05d}".ljust(256, "x")})
    _assert_map_full(err)
    assert len(acked) > 10, "the map filled before any real data went in: SMALL is too small to mean much"

    # the failed put left nothing behind, every acknowledged put is readable, no lock is held
    assert db.get("t", failed) is None
    assert db.scan("t") == acked
    assert db.inventory().locks_held == ()
    # still full: the same put fails the same way, and still does not apply
    with pytest.raises(E.StorageError) as again:
        db.put("t", failed, {"v": "y" * 256})
    _assert_map_full(again.value)
    assert db.get("t", failed) is None and db.inventory().locks_held == ()
    db.close()

    db = sut.open_database("lmdb", path, map_size=LARGE)
    assert db.scan("t") == acked, "an acknowledged put was lost across the reopen"
    db.put("t", failed, {"v": "y" * 256})
    assert db.get("t", failed) == {"v": "y" * 256}
    assert db.scan("t") == {**acked, failed: {"v": "y" * 256}}
    db.close()


def test_map_full_put_does_not_apply_an_overwrite(backend, path):
    """An overwrite that hits the full map keeps the previous value (model-level: get and find)."""
    db = sut.open_database("lmdb", path, map_size=SMALL)
    db.create_table("t", indexed=["x"])
    db.put("t", "first", {"x": "old"})
    acked, _failed, err = _fill(db, lambda i: {"x": f"{i:05d}".ljust(256, "x")})
    _assert_map_full(err)
    with pytest.raises(E.StorageError) as exc:
        db.put("t", "first", {"x": "new".ljust(256, "n")})
    _assert_map_full(exc.value)
    assert db.get("t", "first") == {"x": "old"}
    assert db.find("t", "x", "old") == {"first"} and db.find("t", "x", "new".ljust(256, "n")) == frozenset()
    assert db.inventory().locks_held == ()
    db.close()
    db = sut.open_database("lmdb", path, map_size=LARGE)
    assert db.scan("t") == {"first": {"x": "old"}, **acked}
    db.put("t", "first", {"x": "new"})
    assert db.find("t", "x", "new") == {"first"} and db.find("t", "x", "old") == frozenset()
    db.close()


def test_map_full_during_backfill_leaves_the_index_not_ready_then_resumes(backend, path, tmp_path):
    make = lambda i: {"x": VALUES[i % len(VALUES)]}  # noqa: E731
    n = _capacity(tmp_path, make) * 6 // 10  # the data fits; data plus its index does not
    db = sut.open_database("lmdb", path, map_size=SMALL)
    db.create_table("t")
    for i in range(n):
        db.put("t", f"k{i:05d}", make(i))
    expected = {v: {f"k{i:05d}" for i in range(n) if make(i)["x"] == v} for v in VALUES}

    with pytest.raises(E.StorageError) as exc:
        db.create_index("t", "x")
    _assert_map_full(exc.value)
    hits = db.fault_report()["hits"]
    assert hits.get("index.after_descriptor", 0) == 1, "the map filled before the backfill began"
    assert hits.get("backfill.after_checkpoint", 0) >= 1, "the map filled before any chunk was indexed"

    inv = db.inventory()
    assert inv.locks_held == ()
    assert inv.tables["t"]["indexes"]["x"]["state"] != "ready" and inv.unready_indexes
    assert inv.tables["t"]["indexes"]["x"]["checkpoint"], "no progress was checkpointed before the fault"
    for v in VALUES:
        with pytest.raises(E.IndexNotReady):
            db.find("t", "x", v)
    assert len(db.scan("t")) == n  # reads of the data still work
    db.close()

    db = sut.open_database("lmdb", path, map_size=LARGE)
    assert db.fault_report()["hits"].get("recovery.before_resume_backfill", 0) == 1
    inv = db.inventory()
    assert inv.tables["t"]["indexes"]["x"]["state"] == "ready" and not inv.unready_indexes
    for v in VALUES:
        assert db.find("t", "x", v) == expected[v]
    db.put("t", "after", {"x": VALUES[0]})
    assert db.find("t", "x", VALUES[0]) == expected[VALUES[0]] | {"after"}
    db.close()
