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
from typing import Any

_SEQ = itertools.count()


class Sidecars:
    def __init__(self, root: str) -> None:
        self.dir = os.path.join(root, "_sidecars")

    def write(self, intent: dict[str, Any]) -> str:
        os.makedirs(self.dir, exist_ok=True)
        name = f"{os.getpid()}-{next(_SEQ):08d}.json"
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(intent, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.dir, name))
        return name

    def names(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.dir) if n.endswith(".json"))
        except FileNotFoundError:
            return []

    def read(self, name: str) -> dict[str, Any] | None:
        """The intent, or None when the file is gone (another opener finished it) or torn."""
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                intent = json.load(f)
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return None
        return intent if isinstance(intent, dict) and isinstance(intent.get("stores"), dict) else None

    def delete(self, name: str) -> None:
        try:
            os.remove(os.path.join(self.dir, name))
        except FileNotFoundError:
            pass  # a second opener or the writer itself got there first

    def sweep_temporaries(self) -> None:
        """Half-written sidecars (a crash before the rename) never reached a commit: drop them."""
        for n in os.listdir(self.dir) if os.path.isdir(self.dir) else []:
            if n.endswith(".tmp"):
                os.remove(os.path.join(self.dir, n))
