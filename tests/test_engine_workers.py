"""Workers: DDL by one worker never lets another read or write through a stale handle (the rocksdb-js and
LMDB seed bugs: a dropped store's handle reused, a same-name recreate inheriting the old records)."""
from __future__ import annotations

import pytest

import sut
from model import errors as E


@pytest.fixture
def db(backend, tmp_path):
    d = sut.open_database(backend, tmp_path / "db")
    yield d
    d.close()


def test_recreate_under_a_worker_holding_handles(db):
    """Worker B holds handles on t; A drops and recreates t; B sees the new, empty table and writes to it."""
    a, b = db.worker(), db.worker()
    a.create_table("t", indexed=["x"])
    b.put("t", "k", {"x": 1})
    assert b.scan("t") == {"k": {"x": 1}} and b.find("t", "x", 1) == {"k"}
    held = dict(b.handles)
    assert any(name.startswith("d.t.") for name in held), "B must hold a handle on t's store"
    a.drop_table("t")
    with pytest.raises(E.NoSuchTable):
        b.get("t", "k")
    a.create_table("t", indexed=["x"])
    assert b.scan("t") == {} and b.find("t", "x", 1) == frozenset()
    b.put("t", "k2", {"x": 2})
    assert a.scan("t") == {"k2": {"x": 2}} and a.find("t", "x", 2) == {"k2"}
    assert not (set(held) & set(b.handles)) - {"__catalog"}, "B still caches a handle on a dropped store"


def test_drop_while_another_worker_writes_on_a_branch(db):
    """Forks held by one worker die with the table; a same-name recreate has no fork and no old record."""
    a, b = db.worker(), db.worker()
    a.create_table("t")
    a.create_branch("br")
    b.put("t", "k", {"v": 1}, branch="br")
    b.put("t", "m", {"v": 2})
    a.drop_table("t")
    a.create_table("t")
    for w in (a, b):
        assert w.scan("t", "br") == {} and w.scan("t") == {}
    b.put("t", "k", {"v": 3}, branch="br")
    assert a.get("t", "k", "br") == {"v": 3} and a.get("t", "k") is None
    inv = db.inventory()
    assert not inv.missing


def test_branch_delete_and_recreate_under_a_worker(db):
    """A deleted and recreated branch starts from the parent's current data, even for a worker that held
    handles on the old branch's fork."""
    a, b = db.worker(), db.worker()
    a.create_table("t")
    a.put("t", "p", {"v": 0})
    a.create_branch("br")
    b.put("t", "old", {"v": 1}, branch="br")
    assert b.scan("t", "br") == {"p": {"v": 0}, "old": {"v": 1}}
    a.delete_branch("br")
    a.put("t", "q", {"v": 2})
    a.create_branch("br")
    assert b.scan("t", "br") == {"p": {"v": 0}, "q": {"v": 2}}
    b.put("t", "new", {"v": 3}, branch="br")
    assert a.scan("t", "br") == {"p": {"v": 0}, "q": {"v": 2}, "new": {"v": 3}}
    assert a.scan("t") == {"p": {"v": 0}, "q": {"v": 2}}
