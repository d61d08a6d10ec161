"""An engine that misbehaves on request, for the black-box host's own tests: a put whose record says
`hang` never returns, and one that says `die` ends the engine's process by itself (exit status 3)."""
from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Any

from targets.memory import MEMORY, MemoryDatabase


class Misbehaving(MemoryDatabase):
    def put(self, table: str, key: str, record: dict[str, Any], branch: str = "main") -> None:
        if record.get("hang"):
            time.sleep(3600)  # the engine is stuck: the host's bound must end it, not this
        if record.get("die"):
            os._exit(3)
        super().put(table, key, record, branch)


MISBEHAVING = replace(MEMORY, name="misbehaving", opener=Misbehaving, mutants={})
