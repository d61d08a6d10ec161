"""Failing primitives: a wrapper around a backend's primitive interface that fails chosen calls.

Each `PrimitiveFault` counts the calls that match it (primitive and target); the chosen ones raise
`InjectedError` *before* the real call, so a failed batch or commit applied nothing (a backend's own
failure would be just as atomic: a transaction aborts, a write batch is refused, a commit does not land).
Handles are named on the way out so a batch can be classified by the stores it touches.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from model.errors import InjectedError


class _Named:
    __slots__ = ("name", "inner")

    def __init__(self, name: str, inner: Any) -> None:
        self.name, self.inner = name, inner


class FaultyBackend:
    """The primitive faults are read from the database's current plan at every call, so a harness can
    arm and disarm them mid-run (`Failpoints.set_plan`). `kind_of(store)` says what a store holds (a
    fault's target: table, index, catalog), by the naming scheme of the engine that wraps its backend."""

    def __init__(self, inner: Any, fps: Any, kind_of: Callable[[str], str]) -> None:
        self._inner = inner
        self._fps = fps
        self._kind_of = kind_of

    def __getattr__(self, attr: str) -> Any:  # name, versioned, root, ...: the wrapped backend's own
        return getattr(self._inner, attr)

    def _check(self, primitive: str, targets: set[str] | list[str]) -> None:
        """Count the calls (one per target listed: a batch lists one per entry) and fail if one fails."""
        faults: Iterable[Any] = self._fps.plan.primitives if self._fps.plan is not None else ()
        for i, f in enumerate(faults):
            count = sum(1 for t in targets if f.target in ("any", t)) if f.primitive == primitive else 0
            if not count:
                continue
            first = self._fps.calls[i] + 1
            self._fps.calls[i] += count
            n = self._fps.calls[i]
            if f.fails(first, n, self._fps.rng, i in self._fps.failing):
                if f.persistent:
                    self._fps.failing.add(i)
                label = f"primitive:{primitive}:{f.target}"
                self._fps.record(label, n, "error")
                raise InjectedError(f"injected {primitive} failure on {sorted(set(targets))} (matching call {n})")

    # -- handles and reads ---------------------------------------------------------------------------
    def handle(self, name: str, version: Any = None) -> _Named:
        self._check("read", {self._kind_of(name)})
        return _Named(name, self._inner.handle(name, version))

    def get(self, h: _Named, key: bytes) -> Any:
        self._check("read", {self._kind_of(h.name)})
        return self._inner.get(h.inner, key)

    def scan(self, h: _Named, *args: Any) -> Any:
        self._check("read", {self._kind_of(h.name)})
        return self._inner.scan(h.inner, *args)

    def auth_read(self) -> Any:
        self._check("read", {"catalog"})
        return self._inner.auth_read()

    # -- writes --------------------------------------------------------------------------------------
    def write(self, batch: list[tuple[_Named, bytes, bytes | None]]) -> None:
        self._check("put", [self._kind_of(h.name) for h, _k, _v in batch])  # each entry is one put
        self._inner.write([(h.inner, k, v) for h, k, v in batch])

    def commit(self, store: str, base: int, rows: Any) -> int:
        self._check("put", [self._kind_of(store)] * len(rows))
        return self._inner.commit(store, base, rows)

    def auth_write(self, raw: bytes, token: Any) -> Any:
        self._check("put", {"catalog"})
        return self._inner.auth_write(raw, token)

    def create(self, name: str) -> None:
        self._check("create", {self._kind_of(name)})
        self._inner.create(name)

    def drop(self, name: str) -> None:
        self._check("drop", {self._kind_of(name)})
        self._inner.drop(name)

    def fork(self, src: str, version: int, dst: str) -> int:
        self._check("fork", {self._kind_of(dst)})
        return self._inner.fork(src, version, dst)

    def restore(self, store: str, version: int) -> int:
        self._check("restore", {self._kind_of(store)})
        return self._inner.restore(store, version)

    def compact(self, h: Any) -> Any:
        name = h.name if isinstance(h, _Named) else h
        self._check("compact", {self._kind_of(name)})
        return self._inner.compact(h.inner if isinstance(h, _Named) else h)
