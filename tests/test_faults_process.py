"""Real process death: the engine runs in a child process that kills itself with SIGKILL at a failpoint;
the parent proves the kill (the exit status), reopens the data directory, and checks every operation the
child had acknowledged is durable (I3), the one in flight applied or not (I2), and nothing is wedged."""
from __future__ import annotations

import pytest

from faults.child import run_child
from model.ops import Op
from model.possible import PossibleStates
from harness.crashcheck import heal_and_check
from harness.programs import LIFECYCLE

pytestmark = pytest.mark.killproc

KILLS = [("fork.before_publish", 1), ("drop.after_tombstone", 1), ("write.before_commit", 3)]


@pytest.mark.parametrize("failpoint,hit", KILLS)
def test_sigkill_at_a_failpoint_then_reopen(backend, tmp_path, failpoint, hit):
    path = str(tmp_path / "db")
    ops = [(op.name, op.args) for op in LIFECYCLE]
    child = run_child(backend, path, ops, (failpoint, hit))
    assert child.killed, f"exit status {child.returncode}, not SIGKILL: {child.stderr[-2000:]}"
    assert len(child.acknowledged) < len(ops)
    model = PossibleStates()
    for ack, op in zip(child.acknowledged, LIFECYCLE, strict=False):
        assert ack["ok"], f"{op!r} failed in the child: {ack}"
        model.ok(op, None)
    in_flight = LIFECYCLE[len(child.acknowledged)]
    model.crashed(Op(in_flight.name, in_flight.args))
    assert heal_and_check(backend, path, model) == "ok"


@pytest.mark.stress
def test_sigkill_at_every_failpoint_hit_of_the_lifecycle(backend, tmp_path):
    """The nightly version: a real SIGKILL at hit 1, 2, 3, ... of any failpoint until the lifecycle runs
    to the end, each death followed by a reopen and the full heal check."""
    ops = [(op.name, op.args) for op in LIFECYCLE]
    k = 0
    while True:
        k += 1
        path = str(tmp_path / f"k{k}")
        child = run_child(backend, path, ops, ("*", k))
        if not child.killed:
            assert child.returncode == 0, child.stderr[-2000:]
            break
        model = PossibleStates()
        for op in LIFECYCLE[:len(child.acknowledged)]:
            model.ok(op, None)
        model.crashed(LIFECYCLE[len(child.acknowledged)])
        assert heal_and_check(backend, path, model) == "ok", f"SIGKILL at hit {k}"
    assert k > 10
