"""Recovery sidecars: small JSON files that record a versioned write's intent before its commits.

Written whole (temporary file, fsync, rename), so a crash leaves either no sidecar or a complete one; a
sidecar that cannot be parsed is treated as "written before any commit" and discarded (the drift pass of
recovery rolls back anything a lost sidecar would have covered). Plain Python file I/O on purpose: it is
the file system the suite fakes with pyfakefs.
"""
from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any

_SEQ = itertools.count()


class Sidecars:
    """`os_module` and `open_fn` default to the real ones; tests pass pyfakefs's (FakeOsModule,
    FakeFileOpen) to put disk-full, failing renames and torn writes under exactly these files."""

    def __init__(self, root: str, os_module: Any = os, open_fn: Any = open) -> None:
        self.os, self.open = os_module, open_fn
        self.dir = self.os.path.join(root, "_sidecars")

    def write(self, intent: dict[str, Any]) -> str:
        self.os.makedirs(self.dir, exist_ok=True)
        # Time first, so recovery resolves sidecars in the order they were written, across processes.
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_SEQ):08d}.json"
        tmp = self.os.path.join(self.dir, name + ".tmp")
        with self.open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(intent, sort_keys=True))
            f.flush()
            self.os.fsync(f.fileno())
        self.os.rename(tmp, self.os.path.join(self.dir, name))
        return name

    def names(self) -> list[str]:
        try:
            return sorted(n for n in self.os.listdir(self.dir) if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def read(self, name: str) -> dict[str, Any] | None:
        """The intent, or None when the file is gone (another opener finished it) or torn."""
        try:
            with self.open(self.os.path.join(self.dir, name), encoding="utf-8") as f:
                intent = json.loads(f.read())
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return None
        return intent if isinstance(intent, dict) and isinstance(intent.get("stores"), dict) else None

    def delete(self, name: str) -> None:
        try:
            self.os.remove(self.os.path.join(self.dir, name))
        except FileNotFoundError:
            pass  # a second opener or the writer itself got there first

    def sweep_temporaries(self) -> None:
        """Half-written sidecars (a crash before the rename) never reached a commit: drop them."""
        for n in self.os.listdir(self.dir) if self.os.path.isdir(self.dir) else []:
            if n.endswith(".tmp"):
                self.os.remove(self.os.path.join(self.dir, n))
