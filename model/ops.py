"""Operations as data. An `Op` is one call of the contract: its repr is the Python call a person would type,
so a failing history prints as a runnable program (`w1.put('t', 'k', {'a': 1}, 'main')`).
"""
from __future__ import annotations

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
    def make(cls, name: str, *args: Any, worker: int = 0, **kwargs: Any) -> "Op":
        params = SIGNATURES[name]
        values = list(args)
        for p in params[len(args):]:
            values.append(kwargs.pop(p) if p in kwargs else DEFAULTS[p])
        if kwargs:
            raise TypeError(f"{name}() got unexpected {sorted(kwargs)}")
        return cls(name, tuple(values), worker)

    def call(self, target: Any) -> Any:
        """Run this operation on a database or worker (anything with the contract's methods)."""
        return getattr(target, self.name)(*self.args)

    def __repr__(self) -> str:
        return f"w{self.worker}.{self.name}({', '.join(repr(a) for a in self.args)})"


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
