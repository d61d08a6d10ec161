"""Backend adapters: each gives the engine primitive stores over one real embedded database."""
from __future__ import annotations

from typing import Any

BACKENDS = ("lmdb", "rocksdb", "lance")


def open_backend(name: str, path: str, **options: Any) -> Any:
    if name == "lmdb":
        from sut.backends.lmdb import LmdbBackend
        return LmdbBackend(path, **options)
    if name == "rocksdb":
        from sut.backends.rocksdb import RocksBackend
        return RocksBackend(path)
    if name == "lance":
        from sut.backends.lance import LanceBackend
        return LanceBackend(path)
    raise ValueError(f"unknown backend {name!r}; choose from {BACKENDS}")
