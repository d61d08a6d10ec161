"""Coverage counters of a run: failpoint hits and injected faults per failpoint and target, summed over
every database the run opened (each database counts its own in `fault_report()`), and each target's
catalogue, so a report can show what was never reached without knowing the target; reports read these."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any


class Coverage:
    def __init__(self) -> None:
        self.hits: dict[str, Counter[str]] = {}
        self.faults: dict[str, Counter[str]] = {}
        self.catalogues: dict[str, dict[str, str]] = {}  # target -> failpoint -> the operation reaching it

    def add(self, target: str, fault_report: dict[str, Any], catalogue: Mapping[str, str] | None = None) -> None:
        self.hits.setdefault(target, Counter()).update(fault_report["hits"])
        self.faults.setdefault(target, Counter()).update(name for name, _n, _a in fault_report["fired"])
        self.catalogues.setdefault(target, {}).update(catalogue or {})

    def unreached(self, target: str) -> list[str]:
        return sorted(set(self.catalogues.get(target, {})) - set(self.hits.get(target, {})))

    def to_json(self) -> dict[str, Any]:
        return {"hits": {b: dict(c) for b, c in self.hits.items()},
                "faults": {b: dict(c) for b, c in self.faults.items()},
                "catalogues": {b: dict(sorted(c.items())) for b, c in self.catalogues.items()},
                "unreached": {b: self.unreached(b) for b in self.hits}}
