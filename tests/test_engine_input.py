"""Bad input gets the model's typed error and writes nothing: not to the stores, not to the file system."""
from __future__ import annotations

import inspect
from typing import Any

import pytest

import sut
from model import errors as E
from harness import strategies as S
from tests.engine_helpers import tree

BAD_VALUES: tuple[Any, ...] = (1.5, b"x", [], 2**64, "x" * 257)  # no record value: float, bytes, list, too big/long
CASES = [
    *[("create_table", (n,), E.InvalidName) for n in S.BAD_NAMES],
    *[("create_table", ("t", [n]), E.InvalidName) for n in S.BAD_NAMES],
    *[("create_branch", (n,), E.InvalidName) for n in S.BAD_NAMES],
    *[("create_branch", ("b", n), E.InvalidName) for n in S.BAD_NAMES],
    *[("delete_branch", (n,), E.InvalidName) for n in S.BAD_NAMES + ("main",)],
    *[("create_index", ("t", n), E.InvalidName) for n in S.BAD_NAMES],
    *[("put", ("t", k, {}), E.InvalidKey) for k in S.BAD_KEYS],
    *[("put", ("t", "k", r), E.InvalidRecord) for r in S.BAD_RECORDS],
    *[("put", ("t", "k", {}, n), E.InvalidName) for n in S.BAD_NAMES],
    *[("find", ("t", "x", v), E.InvalidRecord) for v in BAD_VALUES],
    *[("scan", (n,), E.InvalidName) for n in S.BAD_NAMES],
    *[("scan", ("t", n), E.InvalidName) for n in S.BAD_NAMES],
    *[("drop_table", (n,), E.InvalidName) for n in S.BAD_NAMES],
    *[("create_index", (n, "x"), E.InvalidName) for n in S.BAD_NAMES],
    *[("put", (n, "k", {"x": 2}), E.InvalidName) for n in S.BAD_NAMES],
    *[(op, (n, "k"), E.InvalidName) for op in ("get", "delete") for n in S.BAD_NAMES],
    *[(op, ("t", k), E.InvalidKey) for op in ("get", "delete") for k in S.BAD_KEYS],
    *[(op, ("t", "k", n), E.InvalidName) for op in ("get", "delete") for n in S.BAD_NAMES],
    *[("find", (n, "x", 1), E.InvalidName) for n in S.BAD_NAMES],
    *[("find", ("t", n, 1), E.InvalidName) for n in S.BAD_NAMES],
    *[("find", ("t", "x", 1, n), E.InvalidName) for n in S.BAD_NAMES],
]


def contents(db):
    """What a reader sees, on every branch: the inventory alone would not show a stray row on LMDB or
    RocksDB (their stores carry no version)."""
    return {b: (db.scan("t", b), db.find("t", "x", 1, b), db.find("t", "x", 2, b)) for b in db.branches()}


@pytest.mark.parametrize("name,args,error", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_refused_and_writes_nothing(backend, tmp_path, name, args, error):
    path = tmp_path / "db"
    db = sut.open_database(backend, path)
    try:
        db.create_table("t", indexed=["x"])
        db.put("t", "k", {"x": 1})
        db.create_branch("b")
        before, seen, files = db.inventory(), contents(db), tree(str(path))
        with pytest.raises(error) as info:
            getattr(db, name)(*args)
        assert issubclass(type(info.value), error) and (error is not E.InvalidRecord
                                                         or type(info.value) is E.InvalidRecord)
        assert db.inventory() == before and contents(db) == seen
        assert tree(str(path)) == files, "a bad name reached the file system"
        assert not any(".." in p or "x\x00" in p for p in tree(str(tmp_path)))
    finally:
        db.close()


def test_the_engine_offers_the_contract_as_typed(backend, tmp_path):
    """Every method of the contract's Protocols, with the same parameters and defaults, on a database and on
    a worker: a user's engine is held to the same types (model.contract)."""
    from model.contract import Database, Worker
    db = sut.open_database(backend, tmp_path / "db")
    try:
        for obj, proto in ((db, Database), (db.worker(), Worker)):
            assert isinstance(obj, proto)
            for name, want in inspect.getmembers(proto, inspect.isfunction):
                if name.startswith("_"):
                    continue
                got = inspect.signature(getattr(obj, name))
                expected = inspect.signature(want).replace(parameters=list(
                    inspect.signature(want).parameters.values())[1:])  # without self
                assert [(p.name, p.default) for p in got.parameters.values()] == [
                    (p.name, p.default) for p in expected.parameters.values()], (name, got, expected)
    finally:
        db.close()
