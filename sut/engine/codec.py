"""Byte encodings of keys, records and index entries in key-value stores.

Index entry key = encoded value + record key. The value is length-prefixed so a value that contains NUL
or is a prefix of another value can never match the wrong entries in a prefix scan.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from model.values import tag

_TAG = {"s": b"s", "i": b"i", "b": b"b"}
VALUE_INLINE_MAX = 128


def key_bytes(key: str) -> bytes:
    return key.encode("utf-8")


def key_str(raw: bytes) -> str:
    return raw.decode("utf-8")


def record_bytes(record: dict[str, Any]) -> bytes:
    # JSON keeps str/int/bool/None apart, which the contract's type-sensitive equality needs.
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_of(raw: bytes) -> dict[str, Any]:
    return json.loads(raw.decode("utf-8"))


def value_prefix(value: Any) -> bytes | None:
    """The index prefix for one value; None for values that are never indexed (None)."""
    t = tag(value)
    if t == "n":
        return None
    text = ("1" if value else "0") if t == "b" else str(value)
    raw = text.encode("utf-8")
    if len(raw) > VALUE_INLINE_MAX:  # LMDB keys stop at 511 bytes; a 256-char value can take 1 KiB
        return b"H" + _TAG[t] + hashlib.sha256(raw).digest()
    return _TAG[t] + len(raw).to_bytes(4, "big") + raw


def index_entries(record: dict[str, Any] | None, key: str, attr: str) -> list[bytes]:
    """The index entries a record contributes to the index on `attr` (zero or one)."""
    if record is None or attr not in record:
        return []
    prefix = value_prefix(record[attr])
    return [] if prefix is None else [prefix + key_bytes(key)]
