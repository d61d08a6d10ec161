"""Per-process counters of a run, fed by the stateful machines and read by whoever reports the run (the
pytest plugin at session end, a stress worker after each batch). Plain data, so they cross process
boundaries as JSON and add up: `snapshot()` then `merge()`."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from faults.coverage import Coverage


class RunCounts:
    def __init__(self) -> None:
        self.coverage = Coverage()
        self.examples: Counter[str] = Counter()  # backend -> programs run (one machine instance each)
        self.steps: Counter[str] = Counter()  # backend -> operations run against the engine
        self.checks: Counter[str] = Counter()  # invariant name -> checks evaluated
        self.blackboxed: dict[str, Counter[str]] = {}  # target -> "<kind> planned" / "<kind> fired"

    def machine_done(self, target: str, steps: int, fault_report: dict[str, Any],
                     catalogue: Mapping[str, str] | None = None) -> None:
        """One program done on `target`; `catalogue`: its failpoints and the operation reaching each."""
        self.examples[target] += 1
        self.steps[target] += steps
        self.coverage.add(target, fault_report, catalogue)

    def blackbox(self, target: str, kind: str, fired: bool) -> None:
        """One black-box fault (a kill in flight or in recovery, a failing system call) planned on `target`."""
        counts = self.blackboxed.setdefault(target, Counter())
        counts[f"{kind} planned"] += 1
        counts[f"{kind} fired"] += fired

    def checked(self, name: str, n: int = 1) -> None:
        self.checks[name] += n

    def snapshot(self) -> dict[str, Any]:
        return {"examples": dict(self.examples), "steps": dict(self.steps), "checks": dict(self.checks),
                "blackbox": {t: dict(c) for t, c in self.blackboxed.items()},
                **self.coverage.to_json()}

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


RUN = RunCounts()


def merge(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum snapshots of several processes (or batches) into one."""
    out: dict[str, Any] = {"examples": Counter(), "steps": Counter(), "checks": Counter(), "hits": {}, "faults": {},
                           "blackbox": {}}
    catalogues: dict[str, dict[str, str]] = {}
    for snap in snapshots:
        for key in ("examples", "steps", "checks"):
            out[key].update(snap.get(key, {}))
        for key in ("hits", "faults", "blackbox"):
            for target, counts in snap.get(key, {}).items():
                out[key].setdefault(target, Counter()).update(counts)
        for target, names in snap.get("catalogues", {}).items():
            catalogues.setdefault(target, {}).update(names)
    per_target = ("hits", "faults", "blackbox")
    merged = {k: ({b: dict(c) for b, c in v.items()} if k in per_target else dict(v)) for k, v in out.items()}
    merged["catalogues"] = {t: dict(sorted(n.items())) for t, n in catalogues.items()}
    return merged
