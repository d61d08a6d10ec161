"""A small immutable, hashable mapping for the model's states (copy on write; the model's maps are small)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FMap(Mapping[K, V], Generic[K, V]):
    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._d: dict[K, V] = dict(items or {})
        self._h: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(frozenset(self._d.items()))
        return self._h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FMap) and self._d == other._d

    def set(self, key: K, value: V) -> FMap[K, V]:
        d = dict(self._d)
        d[key] = value
        return FMap(d)

    def remove(self, key: K) -> FMap[K, V]:
        d = dict(self._d)
        d.pop(key, None)
        return FMap(d)

    def __repr__(self) -> str:
        return f"FMap({self._d!r})"
