"""The system under test: a reference engine over real LMDB, RocksDB and Lance stores, following the fixed
designs of the seeds, plus known-bug mutants that re-create each seed bug.

    db = sut.open_database("lmdb", path, faults=None, mutants=())
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from faults.hook import Failpoints
from sut.backends import BACKENDS, open_backend
from sut.engine.database import Database
from sut.engine.naming import kind_of
from sut.failpoints import CATALOGUE as FAILPOINTS
from sut.engine.sidecars import Sidecars
from sut.mutants import MUTANTS, steps_for


def open_database(backend: str, path: str | os.PathLike[str], faults: Any = None,
                  mutants: Iterable[str] = (), **options: Any) -> Database:
    """Open (creating if needed) the database at `path` on `backend`, run recovery, and return worker 0.

    `faults`: a fault plan (faults.FaultPlan) or None. `mutants`: names from `sut.MUTANTS`.
    `options`: backend settings for real resource faults (`map_size=` for LMDB), and `sidecar_fs=(os_module,
    open_fn)` to put the recovery sidecars (the files the engine writes in Python) on a pyfakefs file system."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    steps = steps_for(mutants, backend)
    failpoints = faults if isinstance(faults, Failpoints) else Failpoints(faults)
    path = os.fspath(path)
    sidecar_fs = options.pop("sidecar_fs", None)
    sidecars = Sidecars(path, *sidecar_fs) if sidecar_fs else None
    be = failpoints.wrap(open_backend(backend, path, **options), kind_of)
    return Database.open(be, failpoints, steps, backend, path, sidecars)


__all__ = ["BACKENDS", "FAILPOINTS", "MUTANTS", "Database", "open_database"]
