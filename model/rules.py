"""Input rules of the contract. Pure functions: each returns the canonical value or raises its typed error.

Every public operation validates all of its inputs before it looks at any state, so a bad input can never
reach a file system path or a store name (DESIGN.md section 3).
"""
from __future__ import annotations

import re
from typing import Any

from model.errors import InvalidKey, InvalidName, InvalidRecord

NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
KEY_LEN_MAX = 64
ATTRS_MAX = 16
STR_LEN_MAX = 256
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAIN = "main"


def _utf8_ok(s: str) -> bool:
    # Lone surrogates cannot be stored by any backend; reject them at the door instead of failing mid-write.
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_name(name: Any, what: str = "name") -> str:
    """A table, attribute or branch name: `[a-z][a-z0-9_]{0,31}`, never starting with the reserved `__`."""
    if type(name) is not str or NAME_RE.fullmatch(name) is None:
        raise InvalidName(f"{what} {name!r} must match [a-z][a-z0-9_]{{0,31}}")
    if name.startswith("__"):  # unreachable with NAME_RE today; kept so a relaxed regex cannot leak it
        raise InvalidName(f"{what} {name!r} uses the reserved prefix '__'")
    return name


def check_key(key: Any) -> str:
    """A record key: a non-empty `str` of at most 64 characters, without NUL, encodable as UTF-8."""
    if type(key) is not str or not key or len(key) > KEY_LEN_MAX or "\x00" in key or not _utf8_ok(key):
        raise InvalidKey(f"key {key!r} must be a non-empty str of at most {KEY_LEN_MAX} chars without NUL")
    return key


def check_value(value: Any) -> Any:
    """A record value: `str` (<= 256 chars), 64-bit `int`, `bool` or `None`. Subclasses are refused."""
    t = type(value)
    if value is None or t is bool:
        return value
    if t is int:
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidRecord(f"int {value} is outside 64 bits")
        return value
    if t is str:
        if len(value) > STR_LEN_MAX or not _utf8_ok(value):
            raise InvalidRecord(f"str value of {len(value)} chars is over {STR_LEN_MAX} or not UTF-8")
        return value
    raise InvalidRecord(f"value {value!r} of type {t.__name__} is not str, int, bool or None")


def check_record(record: Any) -> dict[str, Any]:
    """A record: a `dict` of at most 16 attributes, each named by the name rule, with valid values."""
    if type(record) is not dict:
        raise InvalidRecord(f"record must be a dict, not {type(record).__name__}")
    if len(record) > ATTRS_MAX:
        raise InvalidRecord(f"record has {len(record)} attributes, at most {ATTRS_MAX}")
    for attr, value in record.items():
        if type(attr) is not str or NAME_RE.fullmatch(attr) is None:
            raise InvalidRecord(f"attribute name {attr!r} must match [a-z][a-z0-9_]{{0,31}}")
        check_value(value)
    return dict(record)


def check_indexed(indexed: Any) -> tuple[str, ...]:
    """The `indexed=` argument of `create_table`: an iterable of attribute names, deduplicated, sorted."""
    if isinstance(indexed, (str, bytes)) or not hasattr(indexed, "__iter__"):
        raise InvalidName(f"indexed must be a collection of attribute names, not {indexed!r}")
    return tuple(sorted({check_name(a, "attribute") for a in indexed}))
