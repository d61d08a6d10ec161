"""Real process death: the engine runs in a child process that kills itself with SIGKILL at a failpoint;
the parent proves the kill (the exit status), reopens the data directory, and checks every operation the
child had acknowledged is durable (I3), the one in flight applied or not (I2), and nothing is wedged."""
from __future__ import annotations

import pytest

from faults.child import run_child
from model.ops import Op
from model.possible import PossibleStates
from tests.crashcheck import heal_and_check
from tests.programs import LIFECYCLE

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
