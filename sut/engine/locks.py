"""In-process locks of one database: the exclusive DDL lock and the per-(table, branch) write locks.

Writers block on their write locks; cleanup only tries them (a busy store is no proof it is unused, so it
is skipped and reported). The DDL lock is acquired with a timeout that raises `Conflict`, so a leaked lock
shows up as an error and in `inventory().locks_held`, never as a hang. A call about to wait for a lock
another call holds first runs `on_wait` (the engine hits the `lock.wait` failpoint there), so a harness that
paused one call to run another inside it learns that the inner call now waits on the outer one.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from model.errors import Conflict

DDL_TIMEOUT_S = 5.0


class LockTable:
    def __init__(self, ddl_timeout_s: float = DDL_TIMEOUT_S, on_wait: Callable[[], None] = lambda: None) -> None:
        self._meta = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self.ddl = threading.Lock()
        self.ddl_timeout_s = ddl_timeout_s
        self.on_wait = on_wait

    def _lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._meta:
            return self._locks.setdefault(key, threading.Lock())

    def acquire_ddl(self) -> None:
        if self.ddl.acquire(blocking=False):
            return
        self.on_wait()
        if not self.ddl.acquire(timeout=self.ddl_timeout_s):
            raise Conflict(f"the DDL lock is busy after {self.ddl_timeout_s}s")

    def try_ddl(self) -> bool:
        """Take the DDL lock only if it is free; the caller releases it (`ddl.release()`)."""
        return self.ddl.acquire(blocking=False)

    @contextmanager
    def write(self, keys: Iterable[tuple[str, str]]) -> Iterator[None]:
        """Hold the write locks of several (table, branch) pairs, taken in sorted order (no deadlock)."""
        locks = [self._lock(k) for k in sorted(set(keys))]
        taken: list[threading.Lock] = []
        try:
            for lock in locks:
                if not lock.acquire(blocking=False):
                    self.on_wait()
                    lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()

    def try_write(self, key: tuple[str, str]) -> threading.Lock | None:
        """Take one write lock only if it is free; the caller releases it."""
        lock = self._lock(key)
        return lock if lock.acquire(blocking=False) else None

    def held(self) -> tuple[str, ...]:
        with self._meta:
            busy = [f"write:{t}@{b}" for (t, b), lock in sorted(self._locks.items()) if lock.locked()]
        return (("ddl",) if self.ddl.locked() else ()) + tuple(busy)
