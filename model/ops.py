"""Operations as data. An `Op` is one call of the contract: its repr is the Python call a person would type,
so a failing history prints as a runnable program (`w1.put('t', 'k', {'a': 1}, 'main')`).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from model.values import canon_record

# name -> positional parameters in contract order (defaults are filled in by `Op.make`)
SIGNATURES: dict[str, tuple[str, ...]] = {
    "create_table": ("name", "indexed"),
    "drop_table": ("name",),
    "create_index": ("table", "attr"),
    "put": ("table", "key", "record", "branch"),
    "delete": ("table", "key", "branch"),
    "get": ("table", "key", "branch"),
    "scan": ("table", "branch"),
    "find": ("table", "attr", "value", "branch"),
    "tables": (),
    "branches": (),
    "create_branch": ("name", "parent"),
    "delete_branch": ("name",),
    "optimize": (),
    "cleanup": (),
}
DEFAULTS: dict[str, Any] = {"indexed": (), "branch": "main", "parent": "main"}
READS = frozenset({"get", "scan", "find", "tables", "branches"})
# Operations that change nothing observable (their answer is not part of the contract's data).
NO_CHANGE = READS | {"optimize", "cleanup"}


@dataclass(frozen=True)
class Op:
    name: str
    args: tuple
    worker: int = 0

    @classmethod
    def make(cls, name: str, *args: Any, worker: int = 0, **kwargs: Any) -> Op:
        params = SIGNATURES[name]
        values = list(args)
        for p in params[len(args):]:
            values.append(kwargs.pop(p) if p in kwargs else DEFAULTS[p])
        if kwargs:
            raise TypeError(f"{name}() got unexpected {sorted(kwargs)}")
        return cls(name, tuple(_frozen(v) for v in values), worker)

    def __post_init__(self) -> None:
        # The checker replays one op on every possible state: a one-shot iterator would be used up by
        # the first, and a record the caller mutates later would change the history.
        object.__setattr__(self, "args", tuple(_frozen(v) for v in self.args))

    def call(self, target: Any) -> Any:
        """Run this operation on a database or worker (anything with the contract's methods)."""
        return getattr(target, self.name)(*self.args)

    def __repr__(self) -> str:
        return f"w{self.worker}.{self.name}({', '.join(repr(a) for a in self.args)})"


def _frozen(value: Any) -> Any:
    if isinstance(value, Iterator):
        return tuple(value)
    if type(value) is dict:
        return dict(value)  # a copy of the same type: an OrderedDict must stay what it is (invalid)
    return value


def canon(name: str, answer: Any) -> Any:
    """The canonical, hashable, type-sensitive form of an operation's answer (see model.values)."""
    if name == "get":
        return None if answer is None else canon_record(answer)
    if name == "scan":
        return tuple(sorted((k, canon_record(v)) for k, v in answer.items()))
    if name == "find":
        return tuple(sorted(answer))
    if name in ("tables", "branches"):
        return tuple(answer)
    return None  # writes, DDL, optimize and cleanup: the answer is not compared
