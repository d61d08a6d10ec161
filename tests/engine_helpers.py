"""Helpers shared by the engine tests: open a database in a test's own directory, and forge on-disk states
through the engine's own primitives (never a mock): a tombstone, an orphan fork, a half-built index."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import sut
from sut.engine.authority import Authority


def tree(path: str) -> set[str]:
    """Every file and directory name under `path` (relative), to prove nothing new reached the disk."""
    out = set()
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            out.add(os.path.relpath(os.path.join(root, name), path))
    return out


def forge_authority(db: Any, change: Callable[[Authority], None]) -> None:
    """Rewrite the authority as an interrupted protocol would have left it."""
    db.core.update(db.handles, change)


def forge_rows(db: Any, store: str, rows: list[tuple[bytes, bytes | None]]) -> None:
    """Write rows straight into a store, bypassing the protocols (and, on Lance, any publish)."""
    backend = db.core.backend
    if backend.versioned:
        backend.commit(store, backend.head(store), rows)
    else:
        db.core.write(db.handles, [(store, k, v) for k, v in rows])


def reopen(db: Any, **kwargs: Any) -> Any:
    db.close()
    return sut.open_database(db.backend_name, db.path, **kwargs)

