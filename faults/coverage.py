"""Coverage counters of a run: failpoint hits and injected faults per failpoint and backend, summed over
every database the run opened (each database counts its own in `fault_report()`); reports read these."""
from __future__ import annotations

from collections import Counter
from typing import Any

from faults.catalogue import for_backend


class Coverage:
    def __init__(self) -> None:
        self.hits: dict[str, Counter[str]] = {}
        self.faults: dict[str, Counter[str]] = {}

    def add(self, backend: str, fault_report: dict[str, Any]) -> None:
        self.hits.setdefault(backend, Counter()).update(fault_report["hits"])
        self.faults.setdefault(backend, Counter()).update(name for name, _n, _a in fault_report["fired"])

    def unreached(self, backend: str) -> list[str]:
        return sorted(for_backend(backend) - set(self.hits.get(backend, {})))

    def to_json(self) -> dict[str, Any]:
        return {"hits": {b: dict(c) for b, c in self.hits.items()},
                "faults": {b: dict(c) for b, c in self.faults.items()},
                "unreached": {b: self.unreached(b) for b in self.hits}}
