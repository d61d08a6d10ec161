"""Surface guards for rocksdict 0.3.29: one engine-relied behaviour per test; all stores raw bytes->bytes."""
import gc
import subprocess
import sys
import textwrap

import pytest
from rocksdict import ColumnFamily, DbClosedError, Options, Rdict, ReadOptions, WriteBatch, WriteOptions

STORE = "d.t.3@main.0"


def raw():
    return Options(raw_mode=True)  # a fresh Options per call; create_if_missing defaults to True


def open_db(path):
    return Rdict(str(path), raw())  # auto-opens every existing CF (raw mode)


def test_open_list_cf_and_autoload(tmp_path):
    """list_cf lists 'default' + every CF; Rdict(path, raw opts) reopens all CFs without column_families=."""
    with pytest.raises(Exception, match="No such file or directory"):
        Rdict.list_cf(str(tmp_path / "nope"))
    db = open_db(tmp_path)
    assert Rdict.list_cf(str(tmp_path)) == ["default"]
    for name in ("__catalog", STORE, "i.t.3.attr@b.5"):
        db.create_column_family(name, raw()).close()
    assert Rdict.list_cf(str(tmp_path)) == ["default", "__catalog", STORE, "i.t.3.attr@b.5"]  # creation order
    db.get_column_family(STORE).put(b"k", b"v")
    db.close()
    db = open_db(tmp_path)
    assert db.get_column_family(STORE)[b"k"] == b"v"
    db.close()
    with pytest.raises(Exception, match="Column families not opened: i.t.3.attr@b.5"):
        Rdict(str(tmp_path), raw(), column_families={"__catalog": raw(), STORE: raw()})  # subset is rejected


def test_create_column_family(tmp_path):
    """create_column_family returns an Rdict; duplicate names and non-raw Options raise plain Exception."""
    db = open_db(tmp_path)
    cf = db.create_column_family(STORE, raw())
    assert type(cf) is Rdict
    with pytest.raises(Exception, match="Column family already exists"):
        db.create_column_family(STORE, raw())
    with pytest.raises(Exception, match="Options should have raw_mode=true"):
        db.create_column_family("other")  # the default Options() is non-raw
    assert Rdict.list_cf(str(tmp_path)) == ["default", STORE]
    db.close()


def test_get_missing_column_family_and_handle(tmp_path):
    """get_column_family / get_column_family_handle on a missing name raise Exception('... does not exist ...')."""
    db = open_db(tmp_path)
    for getter in (db.get_column_family, db.get_column_family_handle):
        with pytest.raises(Exception, match="column name `nope` does not exist"):
            getter("nope")
    db.create_column_family(STORE, raw()).close()
    assert type(db.get_column_family_handle(STORE)) is ColumnFamily  # the handle WriteBatch wants
    db.close()


def test_raw_mode_bytes_only(tmp_path):
    """Raw mode: get() returns None / [] raises KeyError on miss; non-bytes keys/values and non-raw batches raise."""
    db = open_db(tmp_path)
    cf = db.create_column_family(STORE, raw())
    cf[b"k"] = b"v"
    assert cf[b"k"] == b"v" and cf.get(b"zz") is None
    with pytest.raises(KeyError):
        cf[b"zz"]
    with pytest.raises(KeyError, match="raw mode only support bytes"):
        cf["str"] = b"v"
    with pytest.raises(ValueError, match="raw mode only support bytes"):
        cf[b"k"] = 5
    wb = WriteBatch()  # non-raw batch
    wb.put(b"k", b"v", db.get_column_family_handle(STORE))
    with pytest.raises(Exception, match="must set raw_mode=True for WriteBatch"):
        db.write(wb)
    db.close()


def test_write_batch_across_cfs(tmp_path):
    """A raw WriteBatch with per-CF handles applies put/delete/delete_range across stores in one db.write()."""
    db = open_db(tmp_path)
    a, b = db.create_column_family("a", raw()), db.create_column_family("b", raw())
    a[b"gone"] = b"x"
    b[b"r1"], b[b"r2"] = b"x", b"x"
    ha, hb = db.get_column_family_handle("a"), db.get_column_family_handle("b")
    wb = WriteBatch(raw_mode=True)
    wb.put(b"k", b"1", ha)
    wb.delete(b"gone", ha)
    wb.put(b"k", b"2", hb)
    wb.delete_range(b"r", b"s", hb)
    wb.put(b"d", b"0")  # no handle -> default CF
    assert len(wb) == 5
    before = list(a.items())  # an open iterator is a snapshot
    assert a.get(b"k") is None and b.get(b"k") is None  # nothing visible before write()
    db.write(wb)
    assert before == [(b"gone", b"x")]
    assert list(a.items()) == [(b"k", b"1")] and list(b.items()) == [(b"k", b"2")] and db[b"d"] == b"0"
    db.close()


def test_drop_and_stale_handle_reads(tmp_path):
    """After drop_column_family the name is unlisted; a stale handle still READS the old data, even after re-create."""
    db = open_db(tmp_path)
    old = db.create_column_family(STORE, raw())
    old[b"k"] = b"old"
    db.drop_column_family(STORE)
    assert Rdict.list_cf(str(tmp_path)) == ["default"]
    with pytest.raises(Exception, match="does not exist"):
        db.get_column_family(STORE)
    with pytest.raises(Exception, match=f"Invalid column family: {STORE}"):
        db.drop_column_family(STORE)
    assert old.get(b"k") == b"old" and list(old.items()) == [(b"k", b"old")]
    new = db.create_column_family(STORE, raw())
    assert list(new.items()) == []  # same-name re-create starts empty
    new[b"n"] = b"NEW"
    assert old.get(b"n") is None and old.get(b"k") == b"old"  # old handle never sees the new CF
    with pytest.raises(Exception, match="Column family dropped"):
        old.close()  # raises, but still releases the handle
    new.close()
    db.close()
    db = open_db(tmp_path)
    assert list(db.get_column_family(STORE).items()) == [(b"n", b"NEW")]


def test_stale_handle_write_poisons_whole_db(tmp_path):
    """A write via a dropped CF handle raises AND makes every later write (any CF), flush and close() raise."""
    db = open_db(tmp_path)
    keep, stale = db.create_column_family("keep", raw()), db.create_column_family(STORE, raw())
    hk, hs = db.get_column_family_handle("keep"), db.get_column_family_handle(STORE)
    db.drop_column_family(STORE)
    wb = WriteBatch(raw_mode=True)
    wb.put(b"A", b"1", hk), wb.put(b"S", b"1", hs), wb.put(b"B", b"1", hk)
    msg = "Invalid column family specified in write batch"
    with pytest.raises(Exception, match=msg):
        db.write(wb)
    assert keep.get(b"A") == b"1" and keep.get(b"B") is None  # batch PARTIALLY applied in memory
    fresh = db.create_column_family("fresh", raw())  # CF create/drop (MANIFEST) and reads still work ...
    assert keep.get(b"A") == b"1"
    # (ruff cannot see that these run before the `del` below)
    for op in (lambda: db.put(b"d", b"d"), lambda: keep.put(b"x", b"x"), lambda: stale.put(b"x", b"x"),  # noqa: F821
               lambda: fresh.put(b"x", b"x"), lambda: db.flush()):  # noqa: F821
        with pytest.raises(Exception, match=msg):  # ... but every write is refused until reopen
            op()
    with pytest.raises(Exception, match=msg):
        db.close()
    del hk, hs, keep, stale, fresh, db  # dropping all refs releases the LOCK (close() would raise again)
    db = open_db(tmp_path)  # WAL replay: the whole batch minus the dropped CF is back
    assert list(db.get_column_family("keep").items()) == [(b"A", b"1"), (b"B", b"1")]
    db.close()


def test_ignore_missing_column_families_makes_stale_writes_silent(tmp_path):
    """With WriteOptions.ignore_missing_column_families set on the DB, stale-CF writes are dropped silently."""
    db = open_db(tmp_path)
    wo = WriteOptions()
    wo.ignore_missing_column_families = True
    db.set_write_options(wo)  # CF handles obtained afterwards inherit it
    cf = db.create_column_family(STORE, raw())
    db.drop_column_family(STORE)
    cf.put(b"x", b"y")  # no error
    assert cf.get(b"x") is None
    db.put(b"a", b"b")  # DB healthy
    assert db[b"a"] == b"b"
    del cf
    db.close()


def test_second_open_lock_and_close_semantics(tmp_path):
    """Second open raises LOCK error; db.close() leaves CF handles working and the LOCK held until they go."""
    db = open_db(tmp_path)
    with pytest.raises(Exception, match=r"lock hold by current process.*LOCK"):
        open_db(tmp_path)
    cf = db.create_column_family(STORE, raw())
    h = db.get_column_family_handle(STORE)
    db.close()
    with pytest.raises(DbClosedError, match="DB instance already closed"):
        db.get(b"k")
    pytest.raises(DbClosedError, db.close)  # double close raises
    cf.put(b"late", b"L")  # CF handle still fully usable after main close()
    with pytest.raises(Exception, match="LOCK"):
        open_db(tmp_path)  # cf (and h) keep the DB open
    cf.close()
    pytest.raises(DbClosedError, cf.get, b"late")
    with pytest.raises(Exception, match="LOCK"):
        open_db(tmp_path)  # ColumnFamily handle h has no close(): must be dereferenced
    del h
    db = open_db(tmp_path)
    assert db.get_column_family(STORE)[b"late"] == b"L"
    cf2 = db.get_column_family(STORE)
    cf2.close()  # closing a CF Rdict does not close the main DB
    assert db.get(b"x") is None
    db.close()


def test_prefix_scan_idioms(tmp_path):
    """items(from_key=p)+break, iterate_upper_bound and iter().seek() all give exactly the byte-prefix keys."""
    db = open_db(tmp_path)
    cf = db.create_column_family(STORE, raw())
    for k in (b"a", b"ab", b"ab\x00", b"ab\xff", b"abc", b"ac", b"b"):
        cf[k] = k
    want = [b"ab", b"ab\x00", b"abc", b"ab\xff"]
    out = []
    for k, _ in cf.items(from_key=b"ab"):
        if not k.startswith(b"ab"):
            break
        out.append(k)
    assert out == want
    ro = ReadOptions()
    ro.set_iterate_upper_bound(b"ac")  # prefix with last byte +1
    assert list(cf.keys(from_key=b"ab", read_opt=ro)) == want
    it, out = cf.iter(), []
    it.seek(b"ab")
    while it.valid() and it.key().startswith(b"ab"):
        out.append(it.key())
        it.next()
    assert out == want
    del it
    assert list(cf.keys(from_key=b"zz")) == []
    db.close()


def test_compact_range_on_cf(tmp_path):
    """compact_range(None, None) and a bounded range on a CF handle succeed and keep the data."""
    db = open_db(tmp_path)
    cf = db.create_column_family(STORE, raw())
    for i in range(200):
        cf[b"%04d" % i] = b"v"
    for i in range(0, 200, 2):
        del cf[b"%04d" % i]
    cf.compact_range(None, None)
    cf.compact_range(b"0000", b"0100")
    assert len(list(cf.keys())) == 100
    db.close()


def test_write_survives_process_crash(tmp_path):
    """A db.write() batch and a created CF survive os._exit without close() (WAL, process-crash model)."""
    code = textwrap.dedent(f"""
        import os
        from rocksdict import Rdict, Options, WriteBatch
        db = Rdict({str(tmp_path)!r}, Options(raw_mode=True))
        db.create_column_family("s", Options(raw_mode=True))
        wb = WriteBatch(raw_mode=True)
        wb.put(b"k", b"1", db.get_column_family_handle("s")); wb.put(b"k", b"0")
        db.write(wb)
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert not _ssts(tmp_path), "the writes should be in the WAL only: nothing flushed them"
    db = open_db(tmp_path)
    assert db.get_column_family("s")[b"k"] == b"1" and db[b"k"] == b"0"
    db.close()


def _ssts(path):
    return sorted(p.name for p in path.iterdir() if p.suffix == ".sst")


@pytest.mark.parametrize("how", ["close", "drop"])
def test_close_and_drop_flush_the_memtable(tmp_path, how):
    """close(), and dropping the last reference, flush the memtable to an SST file, and Options offers no
    avoid_flush_during_shutdown. So the in-process crash (`abandon()`, which must close to free the LOCK
    for the next opener) leaves flushed files, never the WAL-only state a real crash leaves: that state is
    reached by the child-process kills only (test_write_survives_process_crash)."""
    db = open_db(tmp_path)
    db[b"k"] = b"v"
    if how == "close":
        db.close()
    else:
        del db
        gc.collect()
    assert _ssts(tmp_path)
    assert not any("avoid_flush" in m for m in dir(Options))
