"""Black-box faults on engines in a process of their own (harness.host, faults.process): the reference
engine's three backends hosted in a child, faulted only by SIGKILL in flight, between calls and inside
recovery, and by failing system calls through libfiu, checked against the model by the fault machine.
Each planned kind of fault must fire; a hang is killed at its bound and reported (I9), as is an engine
process that dies by itself."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from faults.process import Process
from faults.syscalls import SyscallFault
from harness import fault_machine, host
from harness.host import EngineDied, EngineKilled, HostedTarget, Kill
from harness.invariants import CheckFailed
from harness.targets import load
from model import errors as E
from reports.counters import RUN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Programs per backend in the CI profile: a death costs a new child (0.1 s on LMDB, 0.6 s on Lance).
CI_EXAMPLES = {"lmdb": 20, "rocksdb": 12, "lance": 6}
KINDS = ("kill in flight", "kill in recovery", "system-call fault")


@pytest.fixture(scope="module", autouse=True)
def tools():
    for script in ("ensure-fiu", "ensure-strace"):  # installed when missing: never skipped
        found = subprocess.run([os.path.join(ROOT, "scripts", script)], capture_output=True, text=True)
        assert found.returncode == 0, f"{script}: {found.stderr}"
    yield
    host.stop_standbys()  # the children this module started, by their process ids


def test_blackbox_machine(backend):
    """The fault machine on the hosted engine, with no mutant: no false alarm, and every kind of black-box
    fault planned and fired (counted per target, as the report shows them)."""
    target = load(f"{backend}-blackbox")
    fault_machine.TOTALS.clear()
    RUN.blackboxed.pop(target.name, None)
    current = settings()
    examples = CI_EXAMPLES[backend] if current.derandomize else max(current.max_examples // 5, 10)
    run_state_machine_as_test(fault_machine.machine_for(target), settings=settings(current, max_examples=examples))
    totals = fault_machine.TOTALS
    print(f"{target.name}: {dict(totals)}")
    for kind in KINDS:
        assert totals[f"fired {kind}"] > 0, f"no planned {kind} ever fired: {dict(totals)}"
    counts = RUN.blackboxed[target.name]
    assert all(counts[f"{k} fired"] == totals[f"fired {k}"] for k in KINDS), (counts, dict(totals))


def test_strace_kills_at_the_nth_write_like_call_and_not_before(tmp_path):
    """The surface the in-flight kill relies on: strace's inject kills on entry to the nth call (counted per
    system call), so exactly n - 1 writes happened."""
    out = tmp_path / "out"
    code = ("import os, sys\nsys.stdin.readline()\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)\n"
            "for _ in range(10):\n    os.write(fd, b'x')\n")
    proc = Process.start([sys.executable, "-c", code, str(out)], stdin=subprocess.PIPE)
    try:
        with proc.kill_at_syscall(4):
            proc.popen.stdin.write(b"go\n")
            proc.popen.stdin.flush()
            assert proc.popen.wait(timeout=60) == -9
    finally:
        proc.kill()
    assert out.read_bytes() == b"xxx"


def test_a_killed_child_under_fiu_run_leaves_no_control_pipes(tmp_path, monkeypatch):
    """libfiu removes its named pipes only at a clean exit; after our SIGKILL the pipes would stay, fill the
    temporary directory over a night, and make a later process with the same pid look armed."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    proc = Process.start([sys.executable, "-c", "import sys; print('up', flush=True); sys.stdin.readline()"],
                         syscalls_on=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.popen.stdout.readline() == b"up\n"  # the preload ran and opened its pipes
        pipes = sorted(p.name for p in tmp_path.iterdir())
        assert pipes == [f"fiu-ctrl-{proc.pid}.in", f"fiu-ctrl-{proc.pid}.out"]
    finally:
        assert proc.kill() == -9
    assert list(tmp_path.iterdir()) == []


def test_a_kill_in_flight_is_indeterminate_and_the_next_open_recovers(tmp_path):
    target = load("lmdb-blackbox")
    db = target.open(str(tmp_path))
    db.create_table("t", ())
    db.put("t", "a", {"v": 1})
    db.plan_kill("put", Kill("syscall", 1))  # LMDB's first pwrite of the commit
    with pytest.raises(EngineKilled):
        db.put("t", "b", {"v": 2})
    assert not db.proc.alive()
    target.kill(db)
    db = target.open(str(tmp_path))
    assert db.scan("t") == {"a": {"v": 1}}  # the write never reached the disk; the acknowledged one did
    db.close()


def test_a_kill_inside_recovery_kills_the_opening_child(tmp_path):
    target = load("lmdb-blackbox")
    target.open(str(tmp_path)).close()
    with pytest.raises(EngineKilled):
        target.open(str(tmp_path), faults=Kill("delay", 0.0))
    target.open(str(tmp_path)).close()


def test_a_failing_system_call_is_a_storage_error_and_writes_nothing(tmp_path):
    target = load("lmdb-blackbox")
    db = target.open(str(tmp_path))
    db.create_table("t", ())
    db.plan_syscall("put", [SyscallFault("pwrite", "EIO")])
    with pytest.raises(E.StorageError, match="Input/output error"):
        db.put("t", "a", {"v": 1})
    assert db.scan("t") == {}  # the fault was for that call only: this read and its reply went through
    target.kill(db)
    db = target.open(str(tmp_path))
    assert db.scan("t") == {}
    db.close()


MISBEHAVING = HostedTarget(name="misbehaving-blackbox", hosts="tests.misbehaving_target:MISBEHAVING",
                           capabilities=load("memory").capabilities, bound_s=2.0)


def test_a_hung_engine_is_killed_at_the_bound_and_reported_as_a_wedge(tmp_path):
    db = MISBEHAVING.open(str(tmp_path))
    db.create_table("t", ())
    with pytest.raises(CheckFailed) as failed:
        db.put("t", "k", {"hang": True})
    assert failed.value.check.invariant == "I9 no wedge" and "hung" in str(failed.value)
    assert not db.proc.alive() and db.proc.popen.returncode == -9
    MISBEHAVING.kill(db)


def test_an_engine_that_dies_by_itself_is_not_taken_for_a_planned_kill(tmp_path):
    db = MISBEHAVING.open(str(tmp_path))
    db.create_table("t", ())
    with pytest.raises(EngineDied, match="rc 3"):
        db.put("t", "k", {"die": True})
    MISBEHAVING.kill(db)


def test_a_standby_child_ends_with_its_parent(tmp_path):
    """A child waiting for an open exits when the suite's end of its socket closes: none outlives a run."""
    db = host._spawn("memory", False, 10.0)
    assert db._wait(10.0, "start", planned=False)[0] == "ready"
    db.sock.close()
    assert db.proc.popen.wait(timeout=30) == 0
    db.abandon()


def test_rocksdb_reopens_after_a_kill_inside_a_column_family_drop(tmp_path):
    """Found by test_blackbox_machine[rocksdb] (its shrunk program: open, restart, drop_table killed at the 3rd
    write-like call): the drop is in RocksDB's MANIFEST and not yet in its OPTIONS file, and opening by the
    OPTIONS file fails (tests/surface/test_rocksdb_kill_surface.py). The engine must open by the MANIFEST."""
    target = load("rocksdb-blackbox")
    db = target.open(str(tmp_path))
    db.create_table("t", ())
    target.kill(db)
    db = target.open(str(tmp_path))
    db.plan_kill("drop_table", Kill("syscall", 3))
    with pytest.raises(EngineKilled):
        db.drop_table("t")
    target.kill(db)
    db = target.open(str(tmp_path))  # recovery completes the drop
    assert db.tables() == [] and db.inventory().tables == {}
    db.close()


def test_a_client_closed_in_order_hands_its_child_on_and_a_second_close_does_not_kill_it(tmp_path):
    target = load("lmdb-blackbox")
    db = target.open(str(tmp_path))
    db.create_table("t", ())
    child = db.proc
    db.close()
    again = target.open(str(tmp_path))
    assert again.proc is child and again.tables() == ["t"]  # the warm child, reopened: no new process
    db.close()
    target.kill(db)
    assert child.alive() and again.tables() == ["t"]
    again.close()


def test_a_failing_open_inside_a_lance_create_index_leaves_debris_the_engine_reclaims_not_a_wedge():
    """Found by the black-box kill matrix (the shrunk program of lance-blackbox, on the engine without
    mutants): with libfiu failing open, rename, unlink and ftruncate (EIO, probability 0.5, seeded) for one
    create_index, the index's Lance dataset directory was left without `_versions`, and after the restart
    every call that lists the stores failed ("Dataset at path .../stores/i.t.1.a was not found"): the engine
    never recovered (I9). The Lance backend now lists such debris as a store and create_index starts its
    own leftover stores afresh (tests/test_lance_versioned.py), so the same program converges."""
    fault_machine.TOTALS.clear()
    machine = fault_machine.machine_for("lance-blackbox")()
    try:
        main = machine.main_branch()
        table = machine.open(indexed=[])
        machine.heal()
        machine.syscall_fault_in(attr="a", branch=main, fault=("namespace", "EIO", 0.5), key="k1", name="b",
                                 new_table=table, record={}, table=table, w=0, what="create_index")
        assert fault_machine.TOTALS["fired system-call fault"] == 1, dict(fault_machine.TOTALS)
        machine.authority_matches_disk()
        machine.heal()
        machine.create_index(attr="a", table=table, w=0)
        machine.authority_matches_disk()
    finally:
        if machine.db is not None:
            machine.db.abandon()
            machine.db = None
        machine.teardown()
