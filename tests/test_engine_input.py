"""Bad input gets the model's typed error and writes nothing: not to the stores, not to the file system."""
from __future__ import annotations

import pytest

import sut
from model import errors as E
from tests import strategies as S
from tests.engine_helpers import tree

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
    *[("find", ("t", "x", v), E.InvalidRecord) for v in (1.5, b"x", [], 2**64, "x" * 257)],
    *[("scan", (n,), E.InvalidName) for n in S.BAD_NAMES],
]


@pytest.mark.parametrize("name,args,error", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_refused_and_writes_nothing(backend, tmp_path, name, args, error):
    path = tmp_path / "db"
    db = sut.open_database(backend, path)
    try:
        db.create_table("t", indexed=["x"])
        db.put("t", "k", {"x": 1})
        before, files = db.inventory(), tree(str(path))
        with pytest.raises(error) as info:
            getattr(db, name)(*args)
        assert issubclass(type(info.value), error) and (error is not E.InvalidRecord
                                                         or type(info.value) is E.InvalidRecord)
        assert db.inventory() == before
        assert tree(str(path)) == files, "a bad name reached the file system"
        assert not any(".." in p or "x\x00" in p for p in tree(str(tmp_path)))
    finally:
        db.close()
