"""The database: worker 0 plus the lifecycle (open with recovery, more workers, close, abandon)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faults.hook import Failpoints
from model.contract import Inventory
from sut.engine import maintenance
from sut.engine.core import Core
from sut.engine.sidecars import Sidecars
from sut.engine.worker import Worker


class Database(Worker):
    def __init__(self, backend: Any, failpoints: Failpoints, steps: dict[str, Callable[..., Any]],
                 backend_name: str, path: str, sidecars: Sidecars | None = None) -> None:
        super().__init__(Core(backend, failpoints, steps))
        self.core.sidecars = sidecars or Sidecars(path)
        self.backend_name = backend_name
        self.path = path

    @classmethod
    def open(cls, backend: Any, failpoints: Failpoints, steps: dict[str, Callable[..., Any]],
             backend_name: str, path: str, sidecars: Sidecars | None = None) -> Database:
        db = cls(backend, failpoints, steps, backend_name, path, sidecars)
        try:
            maintenance.bootstrap(db)
            maintenance.recover(db)
        except BaseException:
            db.abandon()  # a crash (or error) during recovery leaves nothing held, as process death would
            raise
        return db

    def worker(self) -> Worker:
        self._live()
        return Worker(self.core)

    def inventory(self) -> Inventory:
        return super().inventory()

    def fault_report(self) -> dict[str, Any]:
        """Which failpoints were hit how often, and every fault that fired."""
        return self.core.fp.report()

    def close(self) -> None:
        if not self.core.closed:
            self.core.closed = True
            self.core.backend.close()

    def abandon(self) -> None:
        """Process death: no engine logic runs; the backend's OS handles are released."""
        if not self.core.closed:
            self.core.closed = True
            self.core.backend.abandon()
