"""Real process death: run a program of contract operations in a child process that kills itself with
SIGKILL at a failpoint. The child prints one line per acknowledged operation (flushed), so the parent knows
exactly which calls returned before the death (I3) and which one was in flight. The child opens a target by
its registered name (harness.targets), with a plan that kills at `kill_at`.

    python -m faults.child '{"target": <name>, "path": ..., "ops": [[name, args], ...], "kill_at": [fp, hit]}'
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass
class ChildRun:
    returncode: int
    acknowledged: list[dict[str, Any]]   # one {"i", "ok" | "error"} per operation that returned
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def run_child(target: str, path: str, ops: Sequence[tuple[str, tuple]], kill_at: tuple[str, int] | None,
              timeout_s: float = 120.0) -> ChildRun:
    """Spawn a fresh interpreter (never fork: an engine's native library need not be fork-safe) and wait for
    it to finish or die."""
    spec = json.dumps({"target": target, "path": path, "ops": [[n, list(a)] for n, a in ops],
                       "kill_at": list(kill_at) if kill_at else None})
    proc = subprocess.run([sys.executable, "-m", "faults.child", spec], capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    acks = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return ChildRun(proc.returncode, acks, proc.stderr)


def main(spec_json: str) -> None:
    from faults.hook import Failpoints
    from faults.plan import FaultPlan
    from harness.targets import load
    from model.errors import ContractError

    spec = json.loads(spec_json)
    plan = FaultPlan.kill_at(*spec["kill_at"]) if spec["kill_at"] else None
    db = load(spec["target"]).open(spec["path"], faults=Failpoints(plan))
    for i, (name, args) in enumerate(spec["ops"]):
        try:
            getattr(db, name)(*args)
            outcome: dict[str, Any] = {"i": i, "ok": True}
        except ContractError as e:
            outcome = {"i": i, "ok": False, "error": type(e).__name__}
        print(json.dumps(outcome), flush=True)
    db.close()


if __name__ == "__main__":
    main(sys.argv[1])
