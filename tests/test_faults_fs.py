"""File-system faults on the recovery sidecars (Lance). Lance writes its datasets to the real `tmp_path`;
only the sidecars live on a pyfakefs file system (no global patching: the engine is handed a fake `os` and
`open` through `sidecar_fs=`), so disk full, failing rename/fsync and torn or lost sidecars hit exactly the
files the engine writes in Python. The same fake file system is reused across the "crash" and the reopen.
"""
from __future__ import annotations

import errno
import json

import pytest
from pyfakefs.fake_filesystem import FakeFilesystem
from pyfakefs.fake_open import FakeFileOpen
from pyfakefs.fake_os import FakeOsModule

import sut
from faults import FaultPlan, SimulatedCrash
from model import errors as E

pytestmark = pytest.mark.backend_only("lance")


class FlakyOs(FakeOsModule):
    """A fake `os` whose rename or fsync fails (EIO) while named in `failing`; counts what it refused."""

    def __init__(self, fs: FakeFilesystem) -> None:
        super().__init__(fs)
        self.failing: set[str] = set()
        self.refused: list[str] = []

    def _maybe_fail(self, call: str) -> None:
        if call in self.failing:
            self.refused.append(call)
            raise OSError(errno.EIO, f"injected {call} failure")

    def rename(self, src, dst, **kw):  # type: ignore[no-untyped-def, override]
        self._maybe_fail("rename")
        return super().rename(src, dst, **kw)

    def fsync(self, fd):  # type: ignore[no-untyped-def, override]
        self._maybe_fail("fsync")
        return super().fsync(fd)


@pytest.fixture
def path(backend, tmp_path):
    return tmp_path / "db"


@pytest.fixture
def fs():
    return FakeFilesystem()


def _open(path, fs, fos=None, **kw):
    return sut.open_database("lance", path, sidecar_fs=(fos or FakeOsModule(fs), FakeFileOpen(fs)), **kw)


def _files(fs, path, suffix):
    d = f"{path}/_sidecars"
    return sorted(n for n in FakeOsModule(fs).listdir(d) if n.endswith(suffix)) if fs.exists(d) else []


def _seeded(path, fs, fos=None):
    db = _open(path, fs, fos)
    db.create_table("t", indexed=["x"])
    for i in range(4):
        db.put("t", f"k{i}", {"x": i % 2})
    assert fs.exists(f"{path}/_sidecars") and not (path / "_sidecars").exists(), "sidecars not on the fake fs"
    return db


def _assert_untouched(db, heads):
    """The seeded answers, no write of the failed put visible, no dataset committed, no drift, no sidecar."""
    assert db.get("t", "new") is None and db.get("t", "k1") == {"x": 1}
    assert db.find("t", "x", 1) == {"k1", "k3"} and db.find("t", "x", 7) == frozenset()
    inv = db.inventory()
    assert inv.stores == heads, "a dataset committed although its sidecar was never written"
    assert inv.drift == {} and inv.sidecars == () and inv.locks_held == ()


# --- a), b), c): the sidecar cannot be written: the put fails cleanly before any commit --------------

@pytest.mark.parametrize("fault", ["disk_full", "rename", "fsync"])
def test_unwritable_sidecar_fails_the_put_before_any_commit(backend, path, fs, fault):
    fos = FlakyOs(fs)
    db = _seeded(path, fs, fos)
    heads = db.inventory().stores
    if fault == "disk_full":
        fs.set_disk_usage(16, str(path))  # smaller than any sidecar's JSON
    else:
        fos.failing.add(fault)
    with pytest.raises(E.StorageError) as exc:
        db.put("t", "new", {"x": 7})
    assert not isinstance(exc.value, E.InjectedError) and "write sidecar" in str(exc.value)
    cause = exc.value.__cause__
    assert isinstance(cause, OSError)
    if fault == "disk_full":
        assert cause.errno == errno.ENOSPC
    else:
        assert cause.errno == errno.EIO and fos.refused == [fault]
    _assert_untouched(db, heads)
    stale = _files(fs, path, ".tmp")
    assert len(stale) == 1, f"expected the half-done temporary to be left behind, found {stale}"

    # room again / the call works again: the next put goes through and is published
    fs.set_disk_usage(1 << 30, str(path))
    fos.failing.clear()
    db.put("t", "new", {"x": 7})
    assert db.get("t", "new") == {"x": 7} and db.find("t", "x", 7) == {"new"}
    assert db.inventory().drift == {} and db.inventory().sidecars == ()
    db.close()

    # the stale temporary is swept at the next open, and nothing else changed
    assert _files(fs, path, ".tmp") == stale
    db = _open(path, fs)
    assert _files(fs, path, ".tmp") == [] and _files(fs, path, ".json") == []
    assert db.get("t", "new") == {"x": 7} and db.inventory().drift == {}
    db.close()


class TearingOpen(FakeFileOpen):
    """A fake `open` under which the process dies in the middle of writing a sidecar's temporary: half of
    the JSON reaches the file, then SimulatedCrash (before the fsync and the rename)."""

    def __init__(self, fs: FakeFilesystem) -> None:
        super().__init__(fs)
        self.tore: list[str] = []

    def __call__(self, file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def, override]
        f = super().__call__(file, mode, *args, **kwargs)
        if not (str(file).endswith(".tmp") and "w" in mode):
            return f
        tore = self.tore

        class Torn:
            def __enter__(self):  # type: ignore[no-untyped-def]
                return self

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                f.close()

            def write(self, text):  # type: ignore[no-untyped-def]
                f.write(text[: len(text) // 2])
                f.flush()
                tore.append(str(file))
                raise SimulatedCrash(f"process died writing {file}")
        return Torn()


def test_crash_while_writing_a_sidecar_commits_nothing_and_the_torn_temporary_is_swept(backend, path, fs):
    """The torn write happens during the sidecar's own write, not after: no dataset may have committed
    (the sidecar comes first), and the next open drops the half-written temporary."""
    _seeded(path, fs).close()
    tearing = TearingOpen(fs)
    db = sut.open_database("lance", path, sidecar_fs=(FakeOsModule(fs), tearing))
    heads = db.inventory().stores
    with pytest.raises(SimulatedCrash):
        db.put("t", "new", {"x": 7})
    db.abandon()
    assert len(tearing.tore) == 1, "the sidecar write was never torn"
    stale = _files(fs, path, ".tmp")
    assert [f"{path}/_sidecars/{n}" for n in stale] == tearing.tore and _files(fs, path, ".json") == []
    with FakeFileOpen(fs)(tearing.tore[0], encoding="utf-8") as f, pytest.raises(ValueError):
        json.loads(f.read())  # torn: half a JSON document
    db = _open(path, fs)
    assert _files(fs, path, ".tmp") == [], "the torn temporary survived the reopen"
    _assert_untouched(db, heads)
    db.put("t", "new", {"x": 7})  # and nothing is wedged
    assert db.find("t", "x", 7) == {"new"}
    db.close()


# --- d), e), f): a crash leaves a sidecar that is then torn or lost -----------------------------------

def _crash_put(path, fs, failpoint, key, record):
    """Crash a put at `failpoint`, abandon, and return the name of the sidecar it left on the fake fs."""
    db = _open(path, fs, faults=FaultPlan.crash_at(failpoint))
    with pytest.raises(SimulatedCrash):
        db.put("t", key, record)
    assert db.fault_report()["fired"] == [(failpoint, 1, "crash")], f"{failpoint} never fired"
    db.abandon()
    left = _files(fs, path, ".json")
    assert len(left) == 1, f"expected exactly one pending sidecar after the crash, found {left}"
    return f"{path}/_sidecars/{left[0]}"


def _tear(fs, sidecar):
    opener = FakeFileOpen(fs)
    with opener(sidecar, encoding="utf-8") as f:
        text = f.read()
    assert json.loads(text)["stores"], "the intact sidecar should name the datasets of the write"
    torn = text[: len(text) // 2]
    with opener(sidecar, "w", encoding="utf-8") as f:
        f.write(torn)
    with pytest.raises(ValueError):
        json.loads(torn)


def _assert_converged(db, hits_before_roll_forward=0):
    inv = db.inventory()
    assert inv.drift == {} and inv.sidecars == () and inv.locks_held == ()
    assert db.fault_report()["hits"].get("recovery.before_roll_forward_publish", 0) == hits_before_roll_forward
    db.put("t", "after", {"x": 1})  # the next write is not wedged by drift
    assert "after" in db.find("t", "x", 1) and db.inventory().drift == {}


def test_intact_sidecar_after_all_commits_rolls_forward(backend, path, fs):
    """The contrast case: same crash, sidecar intact -> open publishes the write."""
    _seeded(path, fs).close()
    _crash_put(path, fs, "publish.before_manifest_cas", "new", {"x": 7})
    db = _open(path, fs)
    assert db.get("t", "new") == {"x": 7} and db.find("t", "x", 7) == {"new"}
    assert db.fault_report()["hits"].get("recovery.before_drift_restore", 0) == 0
    _assert_converged(db, hits_before_roll_forward=1)
    db.close()


def test_torn_sidecar_after_all_commits_is_discarded_and_rolled_back(backend, path, fs):
    """Every dataset committed, the sidecar is torn: it is discarded, the drift pass rolls back."""
    _seeded(path, fs).close()
    sidecar = _crash_put(path, fs, "publish.before_manifest_cas", "new", {"x": 7})
    _tear(fs, sidecar)
    db = _open(path, fs)
    assert not fs.exists(sidecar)
    assert db.get("t", "new") is None and db.find("t", "x", 7) == frozenset()
    assert db.find("t", "x", 1) == {"k1", "k3"}
    assert db.fault_report()["hits"].get("recovery.before_drift_restore", 0) == 2  # data + index dataset
    _assert_converged(db)
    db.close()


def test_torn_sidecar_between_commits_rolls_back(backend, path, fs):
    """Only the first of the two datasets (data, index) committed and the sidecar is torn."""
    _seeded(path, fs).close()
    sidecar = _crash_put(path, fs, "write.after_store_commit", "k1", {"x": 5})
    _tear(fs, sidecar)
    db = _open(path, fs)
    assert db.get("t", "k1") == {"x": 1} and db.find("t", "x", 5) == frozenset()
    assert db.find("t", "x", 1) == {"k1", "k3"}
    assert db.fault_report()["hits"].get("recovery.before_drift_restore", 0) == 1
    _assert_converged(db)
    db.close()


@pytest.mark.parametrize("failpoint", ["publish.before_manifest_cas", "write.after_store_commit"])
def test_lost_sidecar_is_healed_by_the_drift_pass(backend, path, fs, failpoint):
    """The sidecar vanished after the crash: the drift pass alone restores pin == HEAD (a roll back)."""
    _seeded(path, fs).close()
    sidecar = _crash_put(path, fs, failpoint, "k1", {"x": 5})
    FakeOsModule(fs).remove(sidecar)
    db = _open(path, fs)
    assert db.fault_report()["hits"].get("recovery.before_drift_restore", 0) >= 1
    assert db.get("t", "k1") == {"x": 1} and db.find("t", "x", 5) == frozenset()
    _assert_converged(db)
    db.close()


class FlakyOpen(FakeFileOpen):
    """A fake `open` whose reads fail (EIO) while `failing` is set."""
    failing = False

    def __call__(self, file, mode="r", *args, **kw):  # type: ignore[no-untyped-def, override]
        if self.failing and "r" in mode:
            raise OSError(errno.EIO, "injected sidecar read failure")
        return super().__call__(file, mode, *args, **kw)


def test_unresolved_partial_write_is_never_published_by_a_later_write(backend, path, fs):
    """W1 commits the data dataset, then fails; its inline resolve cannot read its sidecar, so the drift and
    the sidecar stay. W2 touches only the data dataset: it must not publish W1's half (row without its
    index entry). Either all of W1 is visible (get and find agree) or none of it, now and after a reopen."""
    _seeded(path, fs).close()
    opener = FlakyOpen(fs)
    db = sut.open_database("lance", path, sidecar_fs=(FakeOsModule(fs), opener),
                           faults=FaultPlan.error_at("write.after_store_commit"))
    opener.failing = True
    with pytest.raises(E.InjectedError):
        db.put("t", "z", {"x": 1})
    opener.failing = False
    assert db.inventory().drift and len(db.inventory().sidecars) == 1, "the inline resolve did not fail"
    try:
        db.put("t", "k0", {"x": 0})  # same record: no index entry changes, so only the data dataset
    except E.StorageError:
        pass
    assert (db.get("t", "z") is None) == ("z" not in db.find("t", "x", 1)), "half of W1 is published"
    db.close()
    db = _open(path, fs)
    assert (db.get("t", "z") is None) == ("z" not in db.find("t", "x", 1)), "half of W1 survived open"
    assert db.inventory().drift == {} and db.inventory().sidecars == ()
    db.close()
