"""Surface guards for py-lmdb (pinned against lmdb 3.0.0 / LMDB 0.9.36).

Each test pins one behaviour the storage engine relies on; a library upgrade
that changes it must fail here first.
"""
import subprocess
import sys
import textwrap

import lmdb
import pytest

STORE = b"d.t.3@main.0"


def open_env(path, max_dbs=2048, map_size=256 << 20):
    return lmdb.open(str(path), max_dbs=max_dbs, map_size=map_size, sync=False, metasync=False)


def list_stores(env):
    with env.begin() as txn:
        return [k for k, _ in txn.cursor()]  # cursor() without db= walks the unnamed main DB


def test_listing_includes_empty_store_and_survives_reopen(tmp_path):
    """Store listing = keys of the main DB; empty stores are listed and persist (ghost detection on open)."""
    env = open_env(tmp_path)
    env.open_db(b"__catalog")
    env.open_db(STORE)
    env.open_db(b"i.t.3.attr@b.5")
    assert list_stores(env) == [b"__catalog", STORE, b"i.t.3.attr@b.5"]  # byte-sorted
    env.close()
    env = open_env(tmp_path)
    assert list_stores(env) == [b"__catalog", STORE, b"i.t.3.attr@b.5"]
    with pytest.raises(TypeError, match="Won't implicitly convert Unicode"):
        env.open_db("str-name")  # names must be bytes
    env.close()


def test_open_missing_and_open_twice(tmp_path):
    """open_db(create=False) on a missing store raises NotFoundError; two opens of a name share one dbi slot."""
    env = open_env(tmp_path)
    with pytest.raises(lmdb.NotFoundError, match="MDB_NOTFOUND"):
        env.open_db(b"missing", create=False)
    assert issubclass(lmdb.NotFoundError, lmdb.Error)
    assert list_stores(env) == []  # failed open creates nothing
    a, b = env.open_db(STORE), env.open_db(STORE)
    assert a is not b and a != b  # distinct, unequal Python objects ...
    with env.begin(write=True) as txn:
        txn.put(b"k", b"v", db=a)
    with env.begin() as txn:
        assert txn.get(b"k", db=b) == b"v"  # ... but the same underlying store
    env.close()


def test_handle_outlives_drop(tmp_path):
    """drop(delete=True) unlists the store; ANY old handle then raises InvalidParameterError, until the slot
    is reused."""
    env = open_env(tmp_path)
    a, b = env.open_db(STORE), env.open_db(STORE)
    with env.begin(write=True) as txn:
        txn.put(b"k", b"old", db=a)
    with env.begin(write=True) as txn:
        txn.drop(b, delete=True)
    assert list_stores(env) == []
    for use in (lambda t: t.get(b"k", db=a), lambda t: t.put(b"k", b"x", db=a),
                lambda t: t.cursor(db=a), lambda t: t.get(b"k", db=b), lambda t: t.drop(b)):
        with env.begin(write=True) as txn, pytest.raises(lmdb.InvalidParameterError, match="Invalid argument"):
            use(txn)
    # Same-name re-create reuses the freed dbi slot: the OLD handle silently reads the NEW store.
    c = env.open_db(STORE)
    with env.begin(write=True) as txn:
        txn.put(b"new", b"N", db=c)
    with env.begin() as txn:
        assert list(txn.cursor(db=a)) == [(b"new", b"N")]
    env.close()


def test_stale_handle_aliases_a_different_store(tmp_path):
    """The freed dbi slot goes to the next opened name: an old handle of a dropped store reads ANOTHER store."""
    env = open_env(tmp_path)
    x = env.open_db(b"X")
    with env.begin(write=True) as txn:
        txn.drop(x, delete=True)
    y = env.open_db(b"Y")
    with env.begin(write=True) as txn:
        txn.put(b"k", b"from-Y", db=y)
    with env.begin() as txn:
        assert txn.get(b"k", db=x) == b"from-Y"  # no error: handle caches must be invalidated by the engine
    env.close()


def test_recreate_after_drop_starts_empty(tmp_path):
    """A same-name re-create after drop(delete=True) is an empty store, also after reopen."""
    env = open_env(tmp_path)
    d = env.open_db(STORE)
    with env.begin(write=True) as txn:
        txn.put(b"k", b"v", db=d)
    with env.begin(write=True) as txn:
        txn.drop(d, delete=True)
    d2 = env.open_db(STORE)
    with env.begin() as txn:
        assert list(txn.cursor(db=d2)) == [] and txn.stat(d2)["entries"] == 0
    env.close()
    env = open_env(tmp_path)
    with env.begin() as txn:
        assert list(txn.cursor(db=env.open_db(STORE, txn=txn, create=False))) == []
    env.close()


def test_multi_store_write_txn_is_atomic(tmp_path):
    """An exception inside `with env.begin(write=True)` aborts writes to all stores, drops and creates alike."""
    env = open_env(tmp_path)
    a, b = env.open_db(b"a"), env.open_db(b"b")
    with env.begin(write=True) as txn:
        txn.put(b"k", b"0", db=a)
    with pytest.raises(RuntimeError), env.begin(write=True) as txn:
        txn.put(b"k", b"1", db=a)
        txn.put(b"k", b"1", db=b)
        c = env.open_db(b"c", txn=txn)  # create inside the txn: pass txn= (see deadlock test)
        txn.put(b"k", b"1", db=c)
        raise RuntimeError("boom")
    with env.begin() as txn:
        assert txn.get(b"k", db=a) == b"0" and txn.get(b"k", db=b) is None
    assert list_stores(env) == [b"a", b"b"]
    with env.begin() as txn, pytest.raises(lmdb.InvalidParameterError):
        txn.get(b"k", db=c)  # handle created in an aborted txn is dead
    # Aborted drop(delete=True): name stays listed but the handle is closed; re-open_db revives it.
    with pytest.raises(RuntimeError), env.begin(write=True) as txn:
        txn.drop(a, delete=True)
        raise RuntimeError("boom")
    assert list_stores(env) == [b"a", b"b"]
    with env.begin() as txn, pytest.raises(lmdb.InvalidParameterError):
        txn.get(b"k", db=a)
    a2 = env.open_db(b"a", create=False)
    with env.begin() as txn:
        assert txn.get(b"k", db=a2) == b"0"
    env.close()


def test_open_db_inside_own_write_txn_deadlocks(tmp_path):
    """env.open_db() without txn= while this thread holds a write txn blocks forever (self-deadlock)."""
    code = textwrap.dedent(f"""
        import lmdb
        env = lmdb.open({str(tmp_path)!r}, max_dbs=4, map_size=1 << 20)
        with env.begin(write=True):
            env.open_db(b"inner")
        print("returned")
    """)
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", code], timeout=1.5, capture_output=True)


def test_same_path_twice_in_process(tmp_path):
    """A second lmdb.open of an open env (any path spelling) raises plain lmdb.Error; after close() reopen works."""
    env = open_env(tmp_path)
    for spelling in (str(tmp_path), str(tmp_path) + "/"):
        with pytest.raises(lmdb.Error, match="is already open in this process") as ei:
            open_env(spelling)
        assert type(ei.value) is lmdb.Error
    old = env.open_db(STORE)
    env.close()
    with pytest.raises(lmdb.Error, match="closed/deleted/dropped"):
        env.begin()
    env = open_env(tmp_path)
    with env.begin() as txn, pytest.raises(lmdb.Error, match="belongs to another environment"):
        txn.get(b"k", db=old)  # handles do not survive an env reopen
    env.close()


def test_map_full_then_env_still_usable(tmp_path):
    """A too-small map_size raises MapFullError (an lmdb.Error) on put; the txn aborts, the env stays usable."""
    env = open_env(tmp_path, max_dbs=4, map_size=64 * 1024)
    d = env.open_db(b"d")
    with pytest.raises(lmdb.MapFullError, match="MDB_MAP_FULL"), env.begin(write=True) as txn:
        for i in range(10_000):
            txn.put(b"%08d" % i, b"x" * 100, db=d)
    assert issubclass(lmdb.MapFullError, lmdb.Error)
    with env.begin(write=True) as txn:
        txn.put(b"a", b"b", db=d)
    with env.begin() as txn:
        assert txn.stat(d)["entries"] == 1  # failed txn left nothing
    env.set_mapsize(4 << 20)
    with env.begin(write=True) as txn:
        for i in range(1000):
            txn.put(b"%08d" % i, b"x" * 100, db=d)
    env.close()


def test_max_dbs_exhausted_and_drop_frees_slot(tmp_path):
    """More open names than max_dbs raises DbsFullError; drop(delete=True) frees a slot."""
    env = open_env(tmp_path, max_dbs=3)
    handles = [env.open_db(b"s%d" % i) for i in range(3)]
    with pytest.raises(lmdb.DbsFullError, match="MDB_DBS_FULL"):
        env.open_db(b"s3")
    assert issubclass(lmdb.DbsFullError, lmdb.Error)
    with env.begin(write=True) as txn:
        txn.drop(handles[0], delete=True)
    env.open_db(b"s3")
    assert list_stores(env) == [b"s1", b"s2", b"s3"]
    env.close()


def test_prefix_scan_with_set_range(tmp_path):
    """set_range + startswith-break yields exactly the byte-prefix keys in bytewise order."""
    env = open_env(tmp_path)
    d = env.open_db(STORE)
    with env.begin(write=True) as txn:
        for k in (b"a", b"ab", b"ab\x00", b"ab\xff", b"abc", b"ac", b"b"):
            txn.put(k, k, db=d)
    with env.begin() as txn:
        cur = txn.cursor(db=d)
        out = []
        if cur.set_range(b"ab"):
            for k, _ in cur:
                if not k.startswith(b"ab"):
                    break
                out.append(k)
        assert out == [b"ab", b"ab\x00", b"abc", b"ab\xff"]
        assert txn.cursor(db=d).set_range(b"zz") is False
    env.close()


def test_commit_survives_process_crash(tmp_path):
    """With sync=False/metasync=False a committed multi-store txn survives os._exit (process crash model)."""
    code = textwrap.dedent(f"""
        import lmdb, os
        env = lmdb.open({str(tmp_path)!r}, max_dbs=8, map_size=1 << 20, sync=False, metasync=False)
        a, b = env.open_db(b"a"), env.open_db(b"b")
        with env.begin(write=True) as txn:
            txn.put(b"k", b"1", db=a); txn.put(b"k", b"2", db=b)
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    env = open_env(tmp_path)
    with env.begin() as txn:
        assert txn.get(b"k", db=env.open_db(b"a", txn=txn, create=False)) == b"1"
        assert txn.get(b"k", db=env.open_db(b"b", txn=txn, create=False)) == b"2"
    env.close()


# Found by the generic interleavings (2026-12-03): a process hung for good, its main thread too. Each side
# runs in a child with a bound, because a deadlock that holds the GIL stops every thread of the process.
GIL_RACE = textwrap.dedent("""
    import lmdb, sys, tempfile, threading, time
    env = lmdb.open(tempfile.mkdtemp(), max_dbs=4)
    env.open_db(b"x")
    inside = threading.Event()
    def writer():
        with env.begin(write=True) as txn:
            inside.set()
            time.sleep(0.2)  # the writer mutex held, the GIL released
            txn.put(b"k", b"v")
    threading.Thread(target=writer, daemon=True).start()
    inside.wait()
    if sys.argv[1] == "open_db":
        env.open_db(b"x", create=False)
    else:
        with env.begin(write=True) as txn:  # begin waits for the writer with the GIL released
            env.open_db(b"x", txn=txn, create=False)
    print("returned")
""")


def _gil_race(how):
    try:
        out = subprocess.run([sys.executable, "-c", GIL_RACE, how], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "hung"
    return out.stdout.strip() or out.stderr


def test_open_db_without_a_txn_takes_the_writer_mutex_holding_the_gil():
    """`Environment.open_db` with no `txn=` begins a write transaction of its own without releasing the
    GIL: while another thread's write transaction waits for the GIL to finish, the process deadlocks, and
    no Python timeout fires. The backend opens handles inside a read transaction instead (next test)."""
    assert _gil_race("open_db") == "hung"


def test_open_db_inside_a_write_txn_of_its_own_waits_for_the_writer_without_the_gil():
    assert _gil_race("own_txn") == "returned"

