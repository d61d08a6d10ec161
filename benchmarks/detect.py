"""Time to first failure and shrunk length per mutant and backend: the fault machine (harness/fault_machine.py)
on an engine with one known-bug mutant, once per Hypothesis seed, generating until the first failing
program and then shrinking it. Medians over the seeds that killed; a seed that did not kill within the
example budget counts as a survivor, never as a time.

Shrinking is capped in seconds (Hypothesis's own cap is 5 minutes): a capped shrink reports the length it
had reached, flagged `shrink_capped`. harness/kill.py runs the same search derandomized (one seed) for the
kill matrix; this module varies the seed to get a distribution."""
from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import sut
from benchmarks import machines
from benchmarks.stats import summary
from harness.kill import classify, shrink_cap


def applicable(backend: str) -> list[str]:
    return sorted(name for name, m in sut.MUTANTS.items() if backend in m.backends)


def one(mutant: str, backend: str, seed: int, max_examples: int, shrink_seconds: float,
        workdir: str) -> dict[str, Any]:
    cls = machines.make("faults", backend, workdir, (mutant,), tag=f"_{mutant}_{seed}")
    with shrink_cap(shrink_seconds):
        r = machines.run(cls, machines.config(max_examples, derandomize=False, shrink=True), seed=seed)
    row: dict[str, Any] = {"seed": seed, "killed": r["first_failure_s"] is not None,
                           "seconds_total": round(r["seconds"], 2), "programs_run": r["programs"]}
    if r["error"] is not None and not row["killed"]:  # raised, but no program failed: a harness problem
        row["error"] = f"{type(r['error']).__name__}: {str(r['error'])[:200]}"
    if row["killed"]:
        invariant, klass = classify(r["error"]) if r["error"] is not None else ("flaky", "harness")
        shrinking = r["seconds"] - r["first_failure_s"]
        row.update(seconds_to_failure=round(r["first_failure_s"], 3), programs_to_failure=r["programs_to_failure"],
                   length_at_failure=r["first_failing_length"], shrunk_length=r["last_program_length"],
                   shrink_seconds=round(shrinking, 2), shrink_capped=shrinking >= shrink_seconds,
                   invariant=invariant, klass=klass)
    return row


def measure(backend: str, mutants: list[str], seeds: int, max_examples: int, shrink_seconds: float,
            workdir: str, log: Any = print) -> dict[str, Any]:
    out: dict[str, Any] = {"budget": {"max_examples": max_examples, "seeds": seeds,
                                      "shrink_cap_seconds": shrink_seconds}, "mutants": {}}
    for mutant in mutants:
        runs = [one(mutant, backend, seed, max_examples, shrink_seconds, workdir) for seed in range(1, seeds + 1)]
        killed = [r for r in runs if r["killed"]]
        entry: dict[str, Any] = {"killed": len(killed), "seeds": seeds, "runs": runs}
        if killed:
            entry["seconds_to_failure"] = summary([r["seconds_to_failure"] for r in killed], 3)
            entry["programs_to_failure"] = statistics.median(r["programs_to_failure"] for r in killed)
            entry["shrunk_length"] = summary([r["shrunk_length"] for r in killed], 1)
            entry["shrinks_capped"] = sum(r["shrink_capped"] for r in killed)
            entry["length_at_failure"] = statistics.median(r["length_at_failure"] for r in killed)
            entry["invariant"] = Counter(r["invariant"] for r in killed).most_common(1)[0][0]
            entry["klass"] = Counter(r["klass"] for r in killed).most_common(1)[0][0]
        out["mutants"][mutant] = entry
        log(f"  detect {backend} {mutant}: killed {len(killed)}/{seeds}, "
            f"median {entry.get('seconds_to_failure', {}).get('median')} s, "
            f"shrunk to {entry.get('shrunk_length', {}).get('median')} steps")
    return out
