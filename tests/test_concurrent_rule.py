"""The concurrent-clients rule (harness.concurrent), called by hand: the calls run at once, each on its own
worker (for a target in a child process, its own connection and thread there), and the history goes
through the linearizability checker."""
from __future__ import annotations

import threading

import pytest

from harness import fault_machine
from harness.host import HostedTarget
from harness.targets import load
from tests.test_blackbox import MISBEHAVING
from tests.test_fault_machine_rules import _close, _machine


@pytest.mark.parametrize("name", ["lmdb", "lmdb-blackbox"])
def test_calls_run_at_once_each_on_a_worker_of_its_own_and_the_history_is_checked(name):
    m = _machine(name)
    fault_machine.TOTALS.clear()
    try:
        m.put(0, "t", "main", "k1", {"a": 1})
        m.concurrently(0, [("put", ("t", "k1", {"a": 2}, "main")), ("get", ("t", "k1", "main")),
                           ("first_write", ("t", "k2", {"a": 3}, "d", "main"))])
        assert fault_machine.TOTALS["concurrent calls"] == 4 and len(m.workers) == 3
        m.observable_state_matches()  # the model collapsed to what the engine shows, through a worker
        assert m.db.get("t", "k1") == {"a": 2} and m.db.get("t", "k2", "d") == {"a": 3}
    finally:
        _close(m)


def test_a_hosted_engines_clients_run_their_calls_at_the_same_time(tmp_path):
    """Each client of a child-process engine has its own connection and thread there: another client's
    call is answered while the first one's is still in flight: on the table `meet`, a put and a scan wait
    for each other."""
    target = HostedTarget(name=MISBEHAVING.name, hosts=MISBEHAVING.hosts, bound_s=10.0,
                          capabilities=MISBEHAVING.capabilities)
    db = target.open(str(tmp_path))
    try:
        db.create_table("meet", ())
        other = db.worker()
        put = threading.Thread(target=db.put, args=("meet", "k", {"a": 1}))
        put.start()
        assert other.scan("meet") == {}  # it met the put, still in flight
        put.join()
        assert other.get("meet", "k") == {"a": 1}
    finally:
        db.close()


def test_a_hosted_engines_other_clients_end_with_its_death(tmp_path):
    target = load("lmdb-blackbox")
    db = target.open(str(tmp_path))
    other = db.worker()
    db.create_table("t", ())
    target.kill(db)
    assert other.closed and not db.proc.alive()
