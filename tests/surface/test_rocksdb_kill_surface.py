"""What rocksdict (0.3.29, RocksDB 9) leaves when its process is killed inside `drop_column_family`, found by
the black-box search (tests/test_blackbox.py) and pinned here on rocksdict alone: the drop is in the MANIFEST
before RocksDB writes the OPTIONS file that no longer lists the column family, and `Rdict(path, options)`
opens the column families the latest OPTIONS file lists. A SIGKILL between the two leaves a database that
`Rdict(path, options)` cannot open ("Column family not found"), though `Rdict.list_cf` (the MANIFEST) and an
open naming those column families both work. sut/backends/rocksdb.py opens by `list_cf` for that reason.
The kill lands at the nth call of one write-like system call (faults.process, through strace)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from faults.process import Process

CHILD = r'''
import sys
from rocksdict import Options, Rdict
db = Rdict(sys.argv[1], Options(raw_mode=True))
if sys.argv[2] == "create":
    db.create_column_family("x", Options(raw_mode=True)).close()
else:
    print("opened", flush=True)
    sys.stdin.readline()
    db.drop_column_family("x")
db.close()
'''
REOPEN = r'''
import sys
from rocksdict import Options, Rdict
cfs = Rdict.list_cf(sys.argv[1])
print(cfs, flush=True)
named = {c: Options(raw_mode=True) for c in cfs if c != "default"} if sys.argv[2] == "list_cf" else None
Rdict(sys.argv[1], Options(raw_mode=True), column_families=named).close()
print("reopened", flush=True)
'''


def _killed_in_drop(path, n):
    subprocess.run([sys.executable, "-c", CHILD, str(path), "create"], check=True, capture_output=True)
    proc = Process.start([sys.executable, "-c", CHILD, str(path), "drop"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        assert proc.popen.stdout.readline() == b"opened\n"  # its own open's writes are done
        with proc.kill_at_syscall(n):
            proc.popen.stdin.write(b"go\n")
            proc.popen.stdin.flush()
            assert proc.popen.wait(timeout=60) == -9
    finally:
        proc.kill()


def _reopen(path, how):
    return subprocess.run([sys.executable, "-c", REOPEN, str(path), how], capture_output=True, text=True)


@pytest.fixture(scope="module", autouse=True)
def strace():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = subprocess.run([os.path.join(root, "scripts", "ensure-strace")], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr


@pytest.mark.parametrize("n", [2, 3])
def test_a_kill_between_the_manifest_and_the_options_file_leaves_a_database_rdict_cannot_open(tmp_path, n):
    _killed_in_drop(tmp_path, n)
    by_options = _reopen(tmp_path, "options")
    assert by_options.stdout.splitlines() == ["['default']"]  # the MANIFEST has the drop
    assert "Invalid argument: Column family not found: x" in by_options.stderr
    by_list = _reopen(tmp_path, "list_cf")
    assert by_list.returncode == 0 and by_list.stdout.splitlines() == ["['default']", "reopened"]


@pytest.mark.parametrize("n", [1, 4])
def test_a_kill_before_the_drop_or_after_the_options_file_reopens(tmp_path, n):
    _killed_in_drop(tmp_path, n)
    assert _reopen(tmp_path, "options").returncode == 0
