"""Canonical, hashable, type-sensitive forms of records and answers.

Python says `True == 1` and `hash(True) == hash(1)`, but the contract says `{"a": True}` and `{"a": 1}`
are different records and that `find(..., 1)` does not match `True`. Every comparison between a model answer
and an engine answer goes through these canonical forms, never through `==` on raw dicts.
"""
from __future__ import annotations

from typing import Any

Canon = tuple  # ((attr, tag, value), ...) sorted by attr


def tag(value: Any) -> str:
    """The type tag of a valid record value."""
    if value is None:
        return "n"
    if type(value) is bool:
        return "b"
    if type(value) is int:
        return "i"
    return "s"


def canon_value(value: Any) -> tuple[str, Any]:
    return (tag(value), value)


def canon_record(record: dict[str, Any]) -> Canon:
    """A record as a sorted tuple of (attribute, type tag, value): hashable and type-sensitive."""
    return tuple(sorted((attr, tag(v), v) for attr, v in record.items()))


def record_of(canon: Canon) -> dict[str, Any]:
    return {attr: v for attr, _t, v in canon}
