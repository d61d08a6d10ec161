"""Surface guards for what each real library does when its I/O fails at the system-call layer, injected by
libfiu (`faults.syscalls`, Debian fiu-utils 1.1, installed by scripts/ensure-fiu when missing).

Each test runs a tiny Python child under fiu-run in a temporary directory: the child sets up unfaulted, says
READY and waits; the parent arms the faults with fiu-ctrl and lets it run the block under test; the child
signals the end of the block by closing a pipe (close(2) is never armed, so that works while write(2)
fails), the parent disarms, and the child reports what it got and what state it finds after. No sleeps:
every hand-over is a line or an end-of-file on a pipe. Each test also proves the fault fired: by the errno
text in the library's error, by a direct call to the armed function from the child (`probe`) where the
library shrugs the fault off, and, once per library, by the same child succeeding without the fault.
"""
from __future__ import annotations

import json
import os
import pathlib
import select
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from typing import Any

import pytest

from faults import syscalls
from faults.syscalls import SyscallFault

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIMEOUT_S = 120.0
EIO = "Input/output error"

# Arrow's bundled jemalloc starts a background thread while pyarrow's libraries are still being dlopen()ed;
# libfiu 1.1's wrappers then deadlock (that thread's first malloc takes libfiu's lookup-cache lock and calls
# dlsym, which waits for the loader lock the importing thread holds while it waits for the cache lock). It
# hung `import pyarrow` under fiu-run in 11 of 30 tries here; without that thread, in none of 30.
NO_JEMALLOC_THREAD = {"JE_ARROW_MALLOC_CONF": "background_thread:false"}

PRELUDE = '''
import errno, json, os, sys
PATH, _DONE = sys.argv[1], int(sys.argv[2])
_PROBE = os.path.join(os.path.dirname(PATH), "probe")
os.makedirs(os.path.dirname(PATH), exist_ok=True)
_PROBE_FD = os.open(_PROBE, os.O_RDWR | os.O_CREAT, 0o600)

def report(**kw):
    print(json.dumps(kw), flush=True)

def describe(e):
    return None if e is None else {"type": type(e).__module__ + "." + type(e).__qualname__, "message": str(e)}

def attempt(fn):
    """What fn() raised, described, or None."""
    try:
        fn()
    except BaseException as e:
        return describe(e)
    return None

def probe(call):
    """Call `call` directly: the errno name it failed with, or None if it succeeded (the fault is off)."""
    calls = {"fsync": lambda: os.fsync(_PROBE_FD), "fdatasync": lambda: os.fdatasync(_PROBE_FD),
             "pwrite": lambda: os.pwrite(_PROBE_FD, b"x", 0), "writev": lambda: os.writev(_PROBE_FD, [b"x"]),
             "write": lambda: os.write(_PROBE_FD, b"x"), "rename": lambda: os.rename(_PROBE, _PROBE),
             "unlink": lambda: os.unlink(_PROBE + ".absent")}
    try:
        calls[call]()
    except OSError as e:
        return errno.errorcode[e.errno]
    return None

class faulted:
    """The block runs with the parent's faults armed; what it raised (anything, even a BaseException) is kept
    in .error, and the probes of .calls in .probed, both taken before the parent disarms."""
    def __init__(self, *calls):
        self.calls, self.error, self.probed = calls, None, {}
    def __enter__(self):
        print("READY", flush=True)
        sys.stdin.readline()
        return self
    def __exit__(self, typ, e, tb):
        self.error = describe(e)
        self.probed = {c: probe(c) for c in self.calls}
        os.close(_DONE)
        sys.stdin.readline()  # the parent has disarmed when this returns
        return True
'''


@dataclass
class Child:
    returncode: int
    reports: dict[str, Any]  # phase -> the rest of that report
    stderr: str


@pytest.fixture(scope="module", autouse=True)
def fiu_installed():
    found = subprocess.run([str(ROOT / "scripts" / "ensure-fiu")], capture_output=True, text=True)
    if found.returncode != 0 or not syscalls.fiu_available():
        pytest.skip(f"no fiu-run and it cannot be installed here: {found.stderr.strip()}")


def _wait_readable(fd: int, what: str, proc: subprocess.Popen, stderr) -> None:
    if not select.select([fd], [], [], TIMEOUT_S)[0]:
        proc.kill()
        stderr.seek(0)
        pytest.fail(f"child still running after {TIMEOUT_S}s waiting for {what}: {stderr.read().decode()[-2000:]}")


def run(code: str, path: pathlib.Path, faults: list[SyscallFault], env: dict[str, str] | None = None) -> Child:
    """Run PRELUDE + code under fiu-run; arm `faults` around its `with faulted(...)` block (at most one)."""
    done_r, done_w = os.pipe()
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty child must never block on it
        argv = syscalls.command([sys.executable, "-c", PRELUDE + textwrap.dedent(code), str(path), str(done_w)])
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                pass_fds=(done_w,), text=True, env={**os.environ, **(env or {})})
        os.close(done_w)
        assert proc.stdout is not None and proc.stdin is not None  # both are pipes, as asked above
        try:
            _wait_readable(proc.stdout.fileno(), "READY", proc, stderr)
            first = proc.stdout.readline()
            if first == "READY\n":
                for f in faults:
                    syscalls.arm(proc.pid, f)
                proc.stdin.write("go\n")
                proc.stdin.flush()
                _wait_readable(done_r, "the end of the faulted block", proc, stderr)
                if proc.poll() is None:
                    for f in faults:
                        syscalls.disarm(proc.pid, f)
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
            out, _ = proc.communicate(timeout=TIMEOUT_S)
        finally:
            os.close(done_r)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr.seek(0)
        err = stderr.read().decode()
    lines = [json.loads(line) for line in (first + out).splitlines() if line.startswith("{")]
    assert proc.returncode == 0, f"child failed ({proc.returncode}): {err[-2000:]}"
    return Child(proc.returncode, {r.pop("phase"): r for r in lines}, err)


# --- libfiu itself, through faults.syscalls ---------------------------------------------------------------

PWRITES = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
def fails():
    try:
        os.pwrite(fd, b"a", 0)
    except OSError as e:
        return e.strerror
    return None
print(json.dumps([fails() for _ in range(64)]))
"""


def pwrite_outcomes(tmp_path, fault: SyscallFault, seed: int | None = None) -> list[str | None]:
    """64 pwrites by a single-threaded child under `fault`: each one's strerror, or None if it succeeded."""
    argv = syscalls.command([sys.executable, "-c", "import json" + PWRITES, str(tmp_path / "f")], [fault], seed)
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True, timeout=TIMEOUT_S).stdout)


def test_a_seeded_probability_fails_the_same_calls_every_run(tmp_path):
    """libfiu reads FIU_PRNG_SEED at start-up: the same seed fails the same calls of a deterministic child,
    another seed other calls."""
    half = SyscallFault("pwrite", probability=0.5)
    first = pwrite_outcomes(tmp_path, half, seed=7)
    assert set(first) == {None, EIO}
    assert pwrite_outcomes(tmp_path, half, seed=7) == first
    assert pwrite_outcomes(tmp_path, half, seed=8) != first


def test_nth_1_fails_only_the_first_call_with_the_errno_asked_for(tmp_path):
    """libfiu's `onetime`: the first pwrite fails, with ENOSPC as asked, and every later one succeeds."""
    assert pwrite_outcomes(tmp_path, SyscallFault("pwrite", "ENOSPC", nth=1)) == \
        ["No space left on device"] + [None] * 63


def test_arming_a_process_not_under_fiu_run_is_refused():
    """fiu-ctrl exits 0 for an unknown pid; `arm` must not pass that off as armed."""
    with pytest.raises(RuntimeError, match="unknown pid"):
        syscalls.arm(os.getpid(), SyscallFault("fsync"))


def test_arming_a_pid_with_a_stale_control_pipe_is_refused_not_hung(tmp_path, monkeypatch):
    """A child killed by SIGKILL never removes its named pipes; a later process given the same pid (pids are
    reused) looks armed to fiu-ctrl, which then blocks forever writing a pipe nobody reads (CI, stop 22:
    fiu-ctrl timed out after 30 s). `arm` must tell a process that runs libfiu from a leftover pipe."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # fiu-ctrl's pipe prefix is $TMPDIR/fiu-ctrl
    for end in ("in", "out"):
        os.mkfifo(tmp_path / f"fiu-ctrl-{os.getpid()}.{end}")
    with pytest.raises(RuntimeError, match="not running under fiu-run"):
        syscalls.arm(os.getpid(), SyscallFault("fsync"), timeout_s=5.0)


# --- LMDB (py-lmdb) ---------------------------------------------------------------------------------------

LMDB = '''
import lmdb
def keys(env):
    with env.begin() as t:
        return [k.decode() for k, _ in t.cursor()]
def put(env, key):
    with env.begin(write=True) as t:
        t.put(key, b"v" * 100)
env = lmdb.open(PATH, map_size=1 << 24, sync=SYNC, metasync=SYNC)
put(env, b"before")
with faulted(*PROBES) as f:
    put(env, b"k")  # two dirty pages: written by one writev(2), then the meta page by pwrite(2)
report(phase="fault", error=f.error, probed=f.probed)
report(phase="after", put=attempt(lambda: put(env, b"after")), read=attempt(lambda: keys(env)))
env.close()
env = lmdb.open(PATH, map_size=1 << 24)
report(phase="reopen", keys=keys(env), put=attempt(lambda: put(env, b"again")))
'''


def lmdb_child(tmp_path, faults, sync=True, probes=()):
    code = LMDB.replace("SYNC", repr(sync)).replace("PROBES", repr(tuple(probes)))
    return run(code, tmp_path / "env", faults).reports


@pytest.mark.parametrize("sync", [True, False])
def test_lmdb_a_failed_meta_page_write_panics_the_environment_until_it_is_reopened(tmp_path, sync):
    """The commit's last write, the meta page (pwrite), fails: the commit raises plain lmdb.Error with the
    errno's text, and every later transaction, reads included, raises lmdb.PanicError (MDB_PANIC) until the
    environment is reopened; reopened, it has the commit before and not the failed one, and takes writes.
    For an engine: after one failed commit the handle is dead, not just the transaction; it must close and
    reopen the environment (and with sync off too, so not only a durability setting's concern)."""
    control = lmdb_child(tmp_path / "control", [], sync)
    assert control["fault"]["error"] is None and control["reopen"]["keys"] == ["after", "before", "k"]

    got = lmdb_child(tmp_path / "faulted", [SyscallFault("pwrite")], sync)
    assert got["fault"]["error"] == {"type": "lmdb.Error", "message": f"mdb_txn_commit: {EIO}"}
    panic = {"type": "lmdb.PanicError",
             "message": "mdb_txn_begin: MDB_PANIC: Update of meta page failed or environment had fatal error"}
    assert got["after"] == {"put": panic, "read": panic}
    assert got["reopen"] == {"keys": ["before"], "put": None}


def test_lmdb_a_failed_data_page_write_fails_the_commit_and_nothing_else(tmp_path):
    """The data pages' writev fails with ENOSPC: the commit raises lmdb.DiskError (ENOSPC's own class, an
    lmdb.Error), the environment stays usable without a reopen, and the failed commit is not there. For an
    engine: a failed data write is a clean abort, unlike a failed meta write (previous test)."""
    got = lmdb_child(tmp_path, [SyscallFault("writev", "ENOSPC")])
    assert got["fault"]["error"] == {"type": "lmdb.DiskError", "message": "mdb_txn_commit: No space left on device"}
    assert got["after"] == {"put": None, "read": None}
    assert got["reopen"] == {"keys": ["after", "before"], "put": None}


@pytest.mark.parametrize("errno, error_type, text", [
    ("EIO", "lmdb.Error", EIO),
    ("EBADFD", "lmdb.Error", "File descriptor in bad state"),
    ("ENOSPC", "lmdb.DiskError", "No space left on device"),
])
def test_lmdb_a_failed_fdatasync_fails_the_commit_with_the_errno_text(tmp_path, errno, error_type, text):
    """With sync on, the commit fdatasyncs the data pages before writing the meta page; that failing fails the
    commit with strerror(errno) and no panic, the environment stays usable and the commit is not there. The
    issue's "File descriptor in bad state" is EBADFD's text: what libfiu picks (at random among fdatasync's
    EBADFD EIO EROFS EINVAL) when no errno is given. For an engine: report the errno, don't match a message."""
    got = lmdb_child(tmp_path, [SyscallFault("fdatasync", errno)], probes=["fdatasync"])
    assert got["fault"] == {"error": {"type": error_type, "message": f"mdb_txn_commit: {text}"},
                            "probed": {"fdatasync": errno}}
    assert got["after"] == {"put": None, "read": None}
    assert got["reopen"] == {"keys": ["after", "before"], "put": None}


@pytest.mark.parametrize("call, sync", [("fsync", True), ("fdatasync", False)])
def test_lmdb_never_reaches_these_sync_calls(tmp_path, call, sync):
    """LMDB on Linux syncs with fdatasync only (and the meta page through an O_DSYNC descriptor), and with
    sync off not at all: a failing fsync, or fdatasync with sync off, leaves the commit untouched although
    the probe shows the fault armed. For an engine: a syscall fault plan must aim at fdatasync to reach it."""
    got = lmdb_child(tmp_path, [SyscallFault(call)], sync, probes=[call])
    assert got["fault"] == {"error": None, "probed": {call: "EIO"}}
    assert got["reopen"]["keys"] == ["after", "before", "k"]


# --- RocksDB (rocksdict) ----------------------------------------------------------------------------------

ROCKS = '''
from rocksdict import Rdict
db = Rdict(PATH)
db[b"before"] = b"1"
OPERATION
report(phase="fault", error=f.error, probed=f.probed)
def put():
    db[b"after"] = b"1"
report(phase="after", put=attempt(put), k=attempt(lambda: db[b"k"]) is None)
report(phase="close", error=attempt(db.close))
db = Rdict(PATH)
report(phase="reopen", keys=[k.decode() for k in db.keys()])
db.close()
'''
PUT_K = 'db[b"k"] = b"v" * 100'


def rocks_child(tmp_path, faults, operation, probes=()):
    code = ROCKS.replace("OPERATION", operation).replace("PROBES", repr(tuple(probes)))
    return run(code, tmp_path / "db", faults).reports


def test_rocksdb_a_failed_wal_write_fails_the_put_and_every_write_until_reopened(tmp_path):
    """The put's WAL append (write) fails: the put raises a bare `Exception` (rocksdict has no error classes)
    "IO error: While appending to file: <db>/<n>.log: Input/output error"; the key is not readable; once the
    fault is gone writes still fail with the same error (RocksDB's background error stops writes), close
    raises it plus "Writer has previous error", and the reopened DB has neither the failed put nor later ones.
    For an engine: one failed WAL write makes the handle read-only until a reopen; the failed put is lost."""
    op = f"with faulted() as f:\n    {PUT_K}"
    control = rocks_child(tmp_path / "control", [], op)
    assert control["fault"]["error"] is None and control["reopen"]["keys"] == ["after", "before", "k"]

    got = rocks_child(tmp_path / "faulted", [SyscallFault("write")], op)
    error = got["fault"]["error"]
    assert error["type"] == "builtins.Exception"
    assert error["message"].startswith(f"IO error: While appending to file: {tmp_path / 'faulted' / 'db'}/")
    assert error["message"].endswith(f".log: {EIO}")
    assert got["after"] == {"put": error, "k": False}  # same error, and the key was never inserted
    assert got["close"]["error"] == {"type": "builtins.Exception",
                                     "message": error["message"] + "; IO error: Writer has previous error."}
    assert got["reopen"]["keys"] == ["before"]


@pytest.mark.parametrize("call, failed", [
    ("write", "While appending to file: {db}/{n}.sst"),
    ("fdatasync", "While fdatasync: {db}/{n}.sst"),
    ("fsync", "While fsync: a directory"),  # the DB directory, after the new table file
])
def test_rocksdb_a_failed_flush_stops_writes_but_the_wal_keeps_the_data(tmp_path, call, failed):
    """Flushing the memtable fails writing the table file, syncing it, or syncing the directory: flush raises
    a bare Exception naming what failed; later puts raise the same error, reads still see the key (memtable),
    close raises it again, and the reopened DB has the key (replayed from the WAL) but not the later put.
    RocksDB's flush thread sleeps 1 s after a failed flush ("Waiting after background flush error" in LOG),
    and close waits for it: each case takes ~1 s. LOG calls it a "regular" background error, which RocksDB
    does not auto-resume from (in a trial, puts still failed 3 s after the fault was gone).
    For an engine: a failed flush loses nothing acknowledged, but the handle is read-only until reopened."""
    op = f"{PUT_K}\nwith faulted() as f:\n    db.flush()"
    got = rocks_child(tmp_path, [SyscallFault(call)], op)
    error = got["fault"]["error"]
    head, _, tail = failed.partition("{n}")
    assert error["type"] == "builtins.Exception"
    msg = error["message"].removeprefix("IO error: ").removesuffix(f": {EIO}")
    assert msg.startswith(head.format(db=tmp_path / "db")) and msg.endswith(tail)
    assert got["after"] == {"put": error, "k": True}
    assert got["close"]["error"] == error
    assert got["reopen"]["keys"] == ["before", "k"]


@pytest.mark.parametrize("call, failed", [
    ("write", "While appending to file: {db}/{n}.sst: " + EIO),  # close flushes the memtable
    ("fdatasync", "While fdatasync: {db}/{n}.log: " + EIO),  # close syncs the WAL
])
def test_rocksdb_a_failed_close_still_closes_and_keeps_the_data(tmp_path, call, failed):
    """close() under a failing write or fdatasync raises a bare Exception naming the file, yet the DB is
    closed: the same process reopens it at once (RocksDB would refuse a second open of a held lock) and finds
    every put, from the WAL. For an engine: a close error is not a lost write, and needs no retry of close."""
    op = f"{PUT_K}\nwith faulted() as f:\n    db.close()\ndb = Rdict(PATH)"
    got = rocks_child(tmp_path, [SyscallFault(call)], op)
    error = got["fault"]["error"]
    head, _, tail = failed.partition("{n}")
    assert error["type"] == "builtins.Exception" and error["message"].startswith("IO error: ")
    first = error["message"].removeprefix("IO error: ").split("; IO error: ")[0]
    assert first.startswith(head.format(db=tmp_path / "db")) and first.endswith(tail)
    assert got["after"] == {"put": None, "k": True} and got["close"]["error"] is None
    assert got["reopen"]["keys"] == ["after", "before", "k"]


# --- Lance (pylance) --------------------------------------------------------------------------------------

LANCE = '''
import lance, pyarrow as pa
table = pa.table({"a": [1, 2, 3]})
lance.write_dataset(table, PATH)
with faulted(*PROBES) as f:
    lance.write_dataset(table, PATH, mode="append")
report(phase="fault", error=f.error, probed=f.probed)
ds = lance.dataset(PATH)
report(phase="after", version=ds.version, rows=ds.count_rows())
lance.write_dataset(table, PATH, mode="append")
ds = lance.dataset(PATH)
report(phase="append", version=ds.version, rows=ds.count_rows(),
       leftovers=sorted(n for n in os.listdir(os.path.join(PATH, "_versions")) if "#" in n))
'''


def lance_child(tmp_path, faults, probes=()):
    return run(LANCE.replace("PROBES", repr(tuple(probes))), tmp_path / "ds", faults, NO_JEMALLOC_THREAD).reports


def test_lance_a_failing_write_panics_in_the_io_driver_and_keeps_the_previous_version(tmp_path):
    """With write(2) failing, the first casualty is tokio's wake-up of its I/O driver (an eventfd write): the
    append raises pyo3_runtime.PanicException "failed to wake I/O driver: Os { code: 5, ... }", a
    BaseException, not an Exception; the dataset stays readable at version 1 and the next append (fault
    gone) makes version 2. For an engine: `except Exception` does not catch a failed Lance write, and no
    half-written version is ever visible."""
    control = lance_child(tmp_path / "control", [])
    assert control["fault"]["error"] is None and control["after"] == {"version": 2, "rows": 6}

    got = lance_child(tmp_path / "faulted", [SyscallFault("write")], probes=["write"])
    assert got["fault"]["error"]["type"] == "pyo3_runtime.PanicException"
    assert got["fault"]["error"]["message"].startswith('failed to wake I/O driver: Os { code: 5, kind: ')
    assert got["fault"]["probed"] == {"write": "EIO"}
    assert got["after"] == {"version": 1, "rows": 3}
    assert got["append"] == {"version": 2, "rows": 6, "leftovers": []}


@pytest.mark.parametrize("call", ["rename", "fsync", "fdatasync"])
def test_lance_commits_through_calls_libfiu_cannot_fail(tmp_path, call):
    """The append succeeds at version 2 with rename, fsync or fdatasync failing, though the probe shows each
    armed: Lance (local store) never syncs a file or directory, and renames its temporary files by a direct
    renameat system call, not libc's rename(). For an engine: an acknowledged Lance commit is only in the
    page cache (durability needs the engine's own sync), and libfiu cannot fail Lance's renames."""
    got = lance_child(tmp_path, [SyscallFault(call)], probes=[call])
    assert got["fault"] == {"error": None, "probed": {call: "EIO"}}
    assert got["after"] == {"version": 2, "rows": 6}
    assert got["append"] == {"version": 3, "rows": 9, "leftovers": []}


def test_lance_a_failing_open_raises_an_oserror_and_keeps_the_previous_version(tmp_path):
    """With open(2) failing, the append fails reading the latest manifest: a plain OSError
    "LanceError(IO): ... Unable to open file <ds>/_versions/<n>.manifest: Input/output error (os error 5)";
    version 1 stays readable and the next append makes version 2. For an engine: Lance's own I/O errors are
    OSErrors (unlike a failing write, which panics: see above)."""
    got = lance_child(tmp_path, [SyscallFault("open")])
    error = got["fault"]["error"]
    assert error["type"] == "builtins.OSError" and error["message"].startswith("LanceError(IO): ")
    assert f"Unable to open file {tmp_path / 'ds' / '_versions'}/" in error["message"]
    assert f".manifest: {EIO} (os error 5)" in error["message"]
    assert got["after"] == {"version": 1, "rows": 3}
    assert got["append"] == {"version": 2, "rows": 6, "leftovers": []}


def test_lance_ignores_a_failed_unlink_and_leaves_its_temporary_manifest(tmp_path):
    """Lance commits a version by hard-linking `<v>.manifest#<n>` to its final name and unlinking the
    temporary; a failing unlink is ignored: the append succeeds at version 2 and the temporary stays, also
    after the next commit. For an engine: garbage in _versions/ after I/O errors is expected, not corruption."""
    got = lance_child(tmp_path, [SyscallFault("unlink")], probes=["unlink"])
    assert got["fault"] == {"error": None, "probed": {"unlink": "EIO"}}
    assert got["after"] == {"version": 2, "rows": 6}
    assert got["append"]["version"] == 3 and got["append"]["rows"] == 9
    [leftover] = got["append"]["leftovers"]
    assert leftover.partition("#")[0].endswith(".manifest")
