"""Steps per second of the stateful machine: the fault machine (harness/fault_machine.py: faults injected,
every invariant checked after each step and in the heal phase) and the differential machine
(harness/machine.py: no faults, model comparison and the cheap invariants), derandomized so every
repetition runs the same programs. The two kinds alternate within a repetition, so their ratio is taken
under the same machine load. A step is one rule (compound fault rules count once)."""
from __future__ import annotations

from typing import Any

from benchmarks import machines
from benchmarks.stats import summary


def measure(backend: str, examples: int, reps: int, workdir: str) -> dict[str, Any]:
    classes = {kind: machines.make(kind, backend, workdir) for kind in machines.KINDS}
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in classes}
    for rep in range(reps):
        for kind in (list(classes) if rep % 2 == 0 else list(reversed(classes))):
            r = machines.run(classes[kind], machines.config(examples))
            if r["error"] is not None:  # the unmutated engine failed a check: a finding, not a figure
                raise RuntimeError(f"{kind} machine failed on {backend}: {type(r['error']).__name__}: "
                                   f"{str(r['error'])[:300]}")
            runs[kind].append(r)
    out: dict[str, Any] = {"examples": examples, "reps": reps}
    for kind, rs in runs.items():
        out[kind] = {"steps": rs[0]["steps"], "programs": rs[0]["programs"],
                     "seconds": summary([r["seconds"] for r in rs], 3),
                     "steps_per_s": summary([r["steps"] / r["seconds"] for r in rs], 1)}
        if kind == "faults":
            out[kind]["heal_checks"] = rs[0]["heal_checks"]
    out["off_over_on"] = summary([(d["steps"] / d["seconds"]) / (f["steps"] / f["seconds"])
                                  for f, d in zip(runs["faults"], runs["differential"], strict=True)], 2)
    return out
