"""The authority on key-value backends: one key of the catalog store, swapped under a lock.

The compare-and-swap token is the stored bytes themselves. One process owns a KV database at a time
(LMDB refuses a second environment on one path in a process, RocksDB holds its LOCK), so an in-process
lock makes read-compare-write atomic.
"""
from __future__ import annotations

import threading
from typing import Any

AUTH_KEY = b"authority"
CATALOG = "__catalog"


class KVAuthority:
    _catalog_handle: Any = None
    _auth_lock: threading.Lock

    def _catalog(self) -> Any:
        if self._catalog_handle is None:
            if CATALOG not in self.stores():  # type: ignore[attr-defined]
                self.create(CATALOG)  # type: ignore[attr-defined]
            self._catalog_handle = self.handle(CATALOG, None)  # type: ignore[attr-defined]
        return self._catalog_handle

    def auth_read(self) -> tuple[bytes | None, Any]:
        raw = self.get(self._catalog(), AUTH_KEY)  # type: ignore[attr-defined]
        return raw, raw

    def auth_write(self, raw: bytes, token: Any) -> Any:
        """Store `raw` if the stored document is still `token`; the new token, or None on a lost race."""
        with self._auth_lock:
            h = self._catalog()
            if self.get(h, AUTH_KEY) != token:  # type: ignore[attr-defined]
                return None
            self.write([(h, AUTH_KEY, raw)])  # type: ignore[attr-defined]
        return raw

    def head(self, store: str) -> None:
        """Key-value stores have no versions."""
        return
