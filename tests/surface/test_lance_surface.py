"""Surface-guard tests pinning the pylance (14.0.2) behaviour the Lance storage backend relies on."""
import os
import shutil
import threading

import lance
import pyarrow as pa
import pytest
from lance import LanceOperation
from lance.commit import CommitConflictError
from lance.fragment import LanceFragment


def test_pinned_pylance_version():
    """These pins were taken against pylance 14.0.2; a major bump must re-verify them."""
    assert lance.__version__.startswith("14.")


def kv(*pairs):
    return pa.table({"key": [k for k, _ in pairs], "value": [v for _, v in pairs]})


def upsert(ds, *pairs):
    return ds.merge_insert(on="key").when_matched_update_all().when_not_matched_insert_all().execute(kv(*pairs))


def rows(ds):  # sorted (key, value) pairs of the checked-out version
    return sorted((r["key"], r["value"]) for r in ds.to_table().to_pylist())


def vnums(ds):  # version numbers of the handle's branch
    return [v["version"] for v in ds.versions()]


def test_create_append_overwrite_versions(tmp_path):
    """Versions start at 1, every write is +1, create on an existing path is OSError."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    assert (ds.version, ds.latest_version, vnums(ds)) == (1, 1, [1])
    assert set(ds.versions()[0]) == {"version", "timestamp", "metadata"}
    with pytest.raises(OSError, match="Dataset already exists"):
        lance.write_dataset(kv(("a", "1")), u)
    assert lance.write_dataset(kv(("b", "2")), u, mode="append").version == 2
    ds = lance.write_dataset(kv(("z", "9")), u, mode="overwrite")
    assert (ds.version, rows(ds), vnums(ds)) == (3, [("z", "9")], [1, 2, 3])


def test_upsert_and_delete_each_commit_exactly_one_version(tmp_path):
    """merge_insert/delete are +1 version each, even when they change nothing."""
    ds = lance.write_dataset(kv(("a", "1"), ("b", "2")), str(tmp_path / "t"))
    assert upsert(ds, ("a", "10"), ("c", "3")) == {"num_inserted_rows": 1, "num_updated_rows": 1, "num_deleted_rows": 0}
    assert ds.version == 2 and rows(ds) == [("a", "10"), ("b", "2"), ("c", "3")]
    upsert(ds, ("a", "10"))  # identical value
    assert ds.version == 3
    empty = pa.table({"key": pa.array([], pa.string()), "value": pa.array([], pa.string())})
    ds.merge_insert(on="key").when_matched_update_all().when_not_matched_insert_all().execute(empty)
    assert ds.version == 4
    assert ds.delete("key = 'nope'") == {"num_deleted_rows": 0} and ds.version == 5
    upsert(ds, ("it's", "q"))
    assert ds.delete("key = 'it''s'") == {"num_deleted_rows": 1} and ds.version == 7
    r = ds.merge_insert(on="key").when_matched_delete().execute(pa.table({"key": ["b", "absent"]}))
    assert r["num_deleted_rows"] == 1 and ds.version == 8 and rows(ds) == [("a", "10"), ("c", "3")]


def test_merge_insert_duplicate_source_keys(tmp_path):
    """Duplicate source keys: OSError if they match a row, silently duplicated if new."""
    ds = lance.write_dataset(kv(("a", "1")), str(tmp_path / "t"))
    with pytest.raises(OSError, match="Ambiguous merge inserts are prohibited"):
        upsert(ds, ("a", "2"), ("a", "3"))
    assert ds.version == 1
    upsert(ds, ("q", "1"), ("q", "2"))
    assert rows(ds) == [("a", "1"), ("q", "1"), ("q", "2")]


def test_read_at_version(tmp_path):
    """Old versions are readable by lance.dataset(version=) and checkout_version; error types differ."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1"), ("b", "2")), u)
    ds.delete("key = 'a'")
    assert rows(lance.dataset(u, version=1)) == [("a", "1"), ("b", "2")]
    assert ds.checkout_version(1).to_table(filter="key = 'a'").to_pylist() == [{"key": "a", "value": "1"}]
    assert ds.version == 2 and lance.dataset(u).version == 2
    with pytest.raises(ValueError, match="was not found"):
        lance.dataset(u, version=99)
    with pytest.raises(OSError, match="was not found"):
        ds.checkout_version(99)
    with pytest.raises(ValueError, match="was not found"):
        lance.dataset(str(tmp_path / "missing"))
    with pytest.raises(OSError, match="version must be an integer or a string"):
        lance.dataset(u, version=("main", 1))


def test_branch_create_numbering_and_isolation(tmp_path):
    """A branch starts at its source version number, continues numbering, and is isolated from main."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    upsert(ds, ("b", "2"))
    upsert(ds, ("c", "3"))  # main v3
    br = ds.create_branch("b5", ("main", 2))
    assert br.version == 2 and br.uri.endswith(os.path.join("tree", "b5")) and lance.dataset(u).version == 3
    info = ds.branches.list()["b5"]
    assert info["parent_branch"] is None and info["parent_version"] == 2
    upsert(br, ("x", "X"))
    assert br.version == 3 and rows(br) == [("a", "1"), ("b", "2"), ("x", "X")]
    upsert(ds, ("m", "M"))  # main v4
    assert rows(lance.dataset(u, version=3)) == [("a", "1"), ("b", "2"), ("c", "3")]
    h = lance.dataset(u).checkout_version(("b5", None))
    assert h.version == 3 and rows(h) == rows(br) and h.uri == u  # .uri still shows main's path
    assert vnums(h) == [2, 3] and rows(h.checkout_version(2)) == [("a", "1"), ("b", "2")]
    assert lance.write_dataset(kv(("y", "Y")), h, mode="append").version == 4
    assert rows(lance.dataset(u)) == [("a", "1"), ("b", "2"), ("c", "3"), ("m", "M")]
    assert rows(lance.dataset(u).checkout_version(("b5", 3))) == [("a", "1"), ("b", "2"), ("x", "X")]


def test_branch_reference_forms(tmp_path):
    """create_branch refs: int/None are relative to the handle's branch, (None, v) means main."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    b5 = ds.create_branch("b5")
    upsert(b5, ("b", "2"))
    upsert(b5, ("c", "3"))  # b5 v3
    c = b5.create_branch("c", 2)
    assert c.version == 2 and rows(c) == [("a", "1"), ("b", "2")]
    d = b5.create_branch("d")
    assert d.version == 3 and ds.branches.list()["d"]["parent_branch"] == "b5"
    e = b5.create_branch("e", (None, 1))
    assert ds.branches.list()["e"]["parent_branch"] is None and rows(e) == [("a", "1")]
    f = ds.create_branch("f", ("b5", 3))
    assert f.version == 3 and ds.branches.list()["f"]["parent_version"] == 3


def test_branch_names(tmp_path):
    """Branch names: [A-Za-z0-9._-] segments joined by '/'; others are OSError 'Ref is invalid'."""
    ds = lance.write_dataset(kv(("a", "1")), str(tmp_path / "t"))
    for ok in ["b5", "a.b", "a/b", "-x", ".hidden", "HEAD", "tree"]:
        ds.create_branch(ok)
    assert set(ds.branches.list()) == {"b5", "a.b", "a/b", "-x", ".hidden", "HEAD", "tree"}
    bad = {"a@b": "contains invalid characters", "a b": "contains invalid characters", "a:b": "invalid characters",
           "main": "is reserved for the default branch", "": "cannot be empty", "..": "cannot contain '..'",
           "a/": "cannot start or end with a '/'", "a//b": "consecutive '/'", "x.lock": "cannot end with '.lock'"}
    for name, msg in bad.items():
        with pytest.raises(OSError, match="Ref is invalid") as ei:
            ds.create_branch(name)
        assert msg in str(ei.value), name


def test_branch_duplicate_create_is_untyped_oserror(tmp_path):
    """Re-creating an existing branch raises a bare OSError (no 'already exists') and leaves it intact."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    upsert(ds.create_branch("b5"), ("x", "X"))  # b5 v2
    upsert(ds, ("b", "2"))
    upsert(ds, ("c", "3"))  # main v3
    with pytest.raises(OSError, match="Clone operation should not enter build_manifest"):
        ds.create_branch("b5", 1)
    with pytest.raises(OSError, match="was not found"):
        ds.create_branch("b5", ("main", 3))
    h = lance.dataset(u).checkout_version(("b5", None))
    assert h.version == 2 and rows(h) == [("a", "1"), ("x", "X")]


def test_branch_delete(tmp_path):
    """delete: missing is ValueError, parent-with-child is OSError, success removes tree/<name>."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    b5 = ds.create_branch("b5")
    upsert(b5, ("x", "X"))
    b5.create_branch("c1")
    with pytest.raises(ValueError, match="Ref not found error: Branch nope does not exist"):
        ds.branches.delete("nope")
    with pytest.raises(OSError, match='"main" is reserved'):
        ds.branches.delete("main")
    with pytest.raises(OSError, match=r"Ref conflict error: Branch b5 is referenced by \[\(\"c1\", 2\)\]"):
        ds.branches.delete("b5")
    ds.branches.delete("c1")
    ds.branches.delete("b5")
    assert ds.branches.list() == {} and os.listdir(os.path.join(u, "tree")) == []
    with pytest.raises(ValueError, match="Not found"):
        lance.dataset(u).checkout_version(("b5", None))
    again = ds.create_branch("b5")
    assert again.version == 1 and rows(again) == [("a", "1")] and vnums(again) == [1]


def test_compact_files(tmp_path):
    """compact_files: no-op adds no version; real work adds TWO versions; branch-local; content kept."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    m = ds.optimize.compact_files()
    assert (m.fragments_removed, m.fragments_added, ds.version) == (0, 0, 1)
    for k in "bcd":
        upsert(ds, (k, k))
    ds.delete("key = 'a'")  # v5; empties fragment 0, which is dropped -> 3 fragments
    before = rows(ds)
    m = ds.optimize.compact_files()
    assert (m.fragments_removed, m.fragments_added) == (3, 1)
    assert ds.version == 7 and len(ds.get_fragments()) == 1 and rows(ds) == before
    br = ds.create_branch("b5")
    for k in "xyz":
        upsert(br, (k, k))
    br.optimize.compact_files()
    assert br.version == 12 and len(br.get_fragments()) == 1 and lance.dataset(u).version == 7


def test_restore_commits_new_head(tmp_path):
    """checkout_version(n).restore() commits HEAD+1 with version n's content, also on a branch."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    upsert(ds, ("b", "2"))
    ds.delete("key = 'a'")  # v3
    old = ds.checkout_version(1)
    old.restore()
    assert (old.version, lance.dataset(u).version, rows(lance.dataset(u))) == (4, 4, [("a", "1")])
    br = ds.create_branch("b5", ("main", 4))
    upsert(br, ("x", "X"))  # b5 v5
    br.checkout_version(4).restore()
    h = lance.dataset(u).checkout_version(("b5", None))
    assert h.version == 6 and rows(h) == [("a", "1")] and lance.dataset(u).version == 4


def test_write_from_stale_handle_rebases_silently(tmp_path):
    """Table writes from an old-version handle never conflict: they land on HEAD+1 on top of HEAD."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1"), ("b", "1")), u)
    stale = lance.dataset(u, version=1)
    upsert(ds, ("a", "2"))  # v2
    upsert(stale, ("a", "3"), ("c", "3"))
    assert stale.version == 3 and rows(lance.dataset(u)) == [("a", "3"), ("b", "1"), ("c", "3")]
    lance.dataset(u, version=1).delete("key = 'b'")
    assert rows(lance.dataset(u)) == [("a", "3"), ("c", "3")] and lance.dataset(u).version == 4


def _publish(u, read_version, value):
    doc = kv(("authority", value))
    frag = LanceFragment.create(u, doc)
    return lance.LanceDataset.commit(u, LanceOperation.Overwrite(doc.schema, [frag]), read_version=read_version)


def test_manifest_cas_overwrite_with_read_version(tmp_path):
    """Overwrite commit at a stale read_version raises CommitConflictError only if an Overwrite intervened."""
    u = str(tmp_path / "m")
    lance.write_dataset(kv(("authority", "0")), u)
    assert _publish(u, 1, "A").version == 2
    with pytest.raises(CommitConflictError,
                       match="Retryable commit conflict for version 2.*preempted by concurrent transaction Overwrite"):
        _publish(u, 1, "B")
    assert issubclass(CommitConflictError, OSError) and rows(lance.dataset(u)) == [("authority", "A")]
    stale = lance.dataset(u, version=1)
    with pytest.raises(OSError, match="Retryable commit conflict") as ei:
        lance.write_dataset(kv(("authority", "C")), stale, mode="overwrite")
    assert type(ei.value) is OSError
    with pytest.raises(RuntimeError, match="was not found"):
        _publish(u, 7, "D")
    lance.write_dataset(kv(("other", "x")), u, mode="append")  # v3, not an Overwrite
    assert _publish(u, 2, "E").version == 4  # NOT a conflict: only Overwrite-vs-Overwrite is detected


def test_manifest_cas_race_exactly_one_winner(tmp_path):
    """Concurrent Overwrite publishers at the same read_version: exactly one wins."""
    u = str(tmp_path / "m")
    lance.write_dataset(kv(("authority", "0")), u)
    n, out = 4, []
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        try:
            _publish(u, 1, f"w{i}")
            out.append(("ok", i))
        except CommitConflictError:
            out.append(("conflict", i))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [i for s, i in out if s == "ok"]
    assert len(out) == n and len(winners) == 1
    assert lance.dataset(u).version == 2 and rows(lance.dataset(u)) == [("authority", f"w{winners[0]}")]


def test_rmtree_then_recreate_same_path_starts_empty(tmp_path):
    """shutil.rmtree drops a dataset (and its branches); re-create at the same path is a fresh v1."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    upsert(ds, ("b", "2"))
    ds.create_branch("b5")
    assert rows(lance.dataset(u, version=1)) == [("a", "1")]
    shutil.rmtree(u)
    with pytest.raises(ValueError, match="was not found"):
        lance.dataset(u)
    new = lance.write_dataset(kv(("a", "2")), u)
    assert new.version == 1 and new.branches.list() == {}
    assert rows(lance.dataset(u, version=1)) == [("a", "2")]
    with pytest.raises(ValueError, match="was not found"):
        lance.dataset(u, version=2)
    with pytest.raises(ValueError, match="Not found"):
        new.checkout_version(("b5", None))



def test_a_directory_that_never_committed_a_version_is_not_a_dataset_and_create_over_it_succeeds(tmp_path):
    """What a create killed or failed at the system-call layer leaves: a dataset directory with data files
    but no manifest in `_versions` (seen under libfiu EIO inside create_index). Lance will not open it, nor
    list its branches ("was not found"), and `mode="create"` over it succeeds, keeping the old files beside
    the new ones; a created dataset always has a `*.manifest` in `_versions`. The Lance backend relies on
    all four: it tells debris by that manifest, lists it so cleanup reclaims it, and removes it before a
    create."""
    u = tmp_path / "t"
    (u / "data").mkdir(parents=True)
    (u / "data" / "debris.lance").write_bytes(b"never committed")
    (u / "_versions").mkdir()
    for probe in (lambda: lance.dataset(str(u)), lambda: lance.dataset(str(u)).branches.list()):
        with pytest.raises(ValueError, match="was not found"):
            probe()
    ds = lance.write_dataset(kv(("a", "1")), str(u), mode="create")
    assert ds.version == 1 and rows(ds) == [("a", "1")]
    assert (u / "data" / "debris.lance").exists()
    assert any(n.endswith(".manifest") for n in os.listdir(u / "_versions"))

def test_bare_exception_types(tmp_path):
    """Error types/messages the engine must classify (schema, filter, key column)."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(pa.table({"key": ["k"], "value": [b"v"], "tomb": [False]}), u)
    with pytest.raises(OSError, match="Append with different schema"):
        lance.write_dataset(kv(("a", "b")), u, mode="append")
    with pytest.raises(OSError, match="Append with different schema"):
        upsert(ds, ("a", "b"))
    with pytest.raises(ValueError, match="Merge insert key column 'nokey' does not exist"):
        ds.merge_insert(on="nokey").when_matched_update_all().when_not_matched_insert_all().execute(kv(("a", "b")))
    with pytest.raises(ValueError, match="Invalid user input: Error parsing statement"):
        ds.to_table(filter="key = = 'x'")
    with pytest.raises(OSError, match="No field named nocol"):
        ds.delete("nocol = 'x'")
    with pytest.raises(ValueError, match="Ref not found error: tag nosuchtag does not exist"):
        lance.dataset(u, version="nosuchtag")
    assert ds.version == 1


def test_a_branch_reopened_by_name_is_read_written_compacted_and_restored_on_that_branch(tmp_path):
    """The engine never keeps create_branch's handle: it reopens a fork as
    lance.dataset(uri).checkout_version((branch, None)) (HEAD) or ((branch, v)) and calls latest_version,
    merge_insert, restore and compact_files there. Each must act on the branch only."""
    u = str(tmp_path / "t")
    ds = lance.write_dataset(kv(("a", "1")), u)
    upsert(ds, ("b", "2"))  # main v2
    lance.dataset(u).create_branch("b5", ("main", 2))

    def head(branch):
        return lance.dataset(u).checkout_version((branch, None))
    assert head("b5").latest_version == 2
    for k in "xyz":
        upsert(head("b5"), (k, k))  # b5 v3..v5, each through a fresh handle
    assert head("b5").latest_version == 5 and lance.dataset(u).latest_version == 2
    assert rows(head("b5")) == [("a", "1"), ("b", "2"), ("x", "x"), ("y", "y"), ("z", "z")]
    before = rows(head("b5"))
    head("b5").optimize.compact_files()
    assert head("b5").latest_version == 7 and rows(head("b5")) == before and lance.dataset(u).latest_version == 2
    lance.dataset(u).checkout_version(("b5", 3)).restore()
    assert head("b5").latest_version == 8 and rows(head("b5")) == [("a", "1"), ("b", "2"), ("x", "x")]
    assert rows(lance.dataset(u)) == [("a", "1"), ("b", "2")] and lance.dataset(u).latest_version == 2
