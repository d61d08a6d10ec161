"""An engine that misbehaves on request, for the black-box host's own tests: a put whose record says
`hang` never returns, one that says `die` ends the engine's process by itself (exit status 3), and and on the
table `meet` a put and a scan wait for each other (so two clients' calls are seen to run at once: served one
after the other, the first waits a minute and is then answered, or stored, as `alone`)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from typing import Any

from targets.memory import MEMORY, MemoryDatabase


class Misbehaving(MemoryDatabase):
    scanned, putting = threading.Event(), threading.Event()

    def scan(self, table: str, branch: str = "main") -> Any:
        rows = super().scan(table, branch)  # before the put it meets may write
        if table == "meet":
            self.scanned.set()
            if not self.putting.wait(60):
                return {"alone": {"alone": True}}
        return rows

    def put(self, table: str, key: str, record: dict[str, Any], branch: str = "main") -> None:
        if record.get("hang"):
            time.sleep(3600)  # the engine is stuck: the host's bound must end it, not this
        if record.get("die"):
            os._exit(3)
        if table == "meet":
            self.putting.set()
            if not self.scanned.wait(60):
                record = {"alone": True}
        super().put(table, key, record, branch)

    def worker(self) -> Misbehaving:
        return self  # another client of the same data (the host gives it a connection and thread of its own)


MISBEHAVING = replace(MEMORY, name="misbehaving", opener=Misbehaving, mutants={})


class SharedByClients(MemoryDatabase):
    """The memory engine handed to several clients as it is: a put reads its table's store and writes it
    back whole, so two puts at once can lose one. No rule is written for it: calls run at once find it,
    some of the times they run (tests/test_concurrent_reproducer.py)."""
    def worker(self) -> SharedByClients:
        return self


RACY = replace(MEMORY, name="racy", opener=SharedByClients, mutants={},
               capabilities=replace(MEMORY.capabilities, workers=True, failpoints=False))
