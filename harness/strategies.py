"""Hypothesis strategies over a small alphabet, so that programs collide on names and reach deep states;
and the bad inputs the contract must refuse with a typed error and no write."""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TABLES = ("t", "u")
ATTRS = ("a", "b")
BRANCHES = ("main", "b", "c")
KEYS = ("k1", "k2", "k3")
VALUES = (0, 1, 2, True, False, "x", "1", "", None)

tables = st.sampled_from(TABLES)
attrs = st.sampled_from(ATTRS)
branches = st.sampled_from(BRANCHES)
new_branches = st.sampled_from(BRANCHES[1:])
# Names a faulted create draws: the alphabet's (a same-name recreate, or an existing name: refused before any
# step) and two more that are almost always new, so that most faulted creates reach their steps.
CREATED_TABLES = TABLES + ("v", "w")
CREATED_BRANCHES = BRANCHES[1:] + ("d", "e")


def _first(names: tuple[str, ...], holding: Any, wanted: bool) -> st.SearchStrategy[str]:
    """One of `names`, drawn state-independently; mapped, when the machine runs, to the first name from
    there on that `holding(machine)` holds (`wanted`) or does not hold (the drawn one when there is none).
    Hypothesis refuses a draw whose bounds change between runs, and a concurrent step leaves the state up
    to the scheduler: only what the draw maps to may depend on it. Read from the running machine
    (`st.runner()`), so the printed program shows the name used."""
    def first(drawn: tuple[Any, str]) -> str:
        machine, name = drawn
        held, at = holding(machine), names.index(name)
        return next((n for n in names[at:] + names[:at] if (n in held) == wanted), name)
    return st.tuples(st.runner(), st.sampled_from(names)).map(first)


def free(names: tuple[str, ...], taken: Any) -> st.SearchStrategy[str]:
    """One of `names` that `taken(machine)` does not hold at the moment it is drawn: a faulted create then
    reaches its steps, instead of failing on an existing name first."""
    return _first(names, taken, wanted=False)


def live(names: tuple[str, ...], holding: Any) -> st.SearchStrategy[str]:
    """One of `names` that `holding(machine)` holds at the moment it is drawn: a call interleaved with
    another then works on a table or branch that is there (a bundle keeps every name ever made, dropped
    ones too, and a call on one of those ends before its first step)."""
    return _first(names, holding, wanted=True)


def _tables_of(m: Any) -> set[str]:
    return {t for s in m.model.states for t in s.tables}


def _branches_of(m: Any) -> set[str]:
    return {b for s in m.model.states for b in s.branches}


created_tables = free(CREATED_TABLES, _tables_of)
created_branches = free(CREATED_BRANCHES, _branches_of)
live_tables = live(CREATED_TABLES, _tables_of)
live_branches = live(("main",) + CREATED_BRANCHES, _branches_of)
keys = st.sampled_from(KEYS)
values = st.sampled_from(VALUES)
records = st.dictionaries(st.sampled_from(ATTRS + ("c",)), values, max_size=3)
workers = st.integers(min_value=0, max_value=2)

BAD_NAMES = ("../x", "a/b", "A", "", "__x", "a\x00", "x" * 33, "é", 5, None, b"t")
BAD_KEYS = ("", "a\x00", "k" * 65, "\ud800", 5, None, b"k")
BAD_RECORDS: tuple[Any, ...] = ([], {"A": 1}, {"a": 1.5}, {"a": b"x"}, {"a": 2**64}, {"a": "x" * 257},
               {f"a{i}": 1 for i in range(17)}, {"a": [1]}, {1: 1})
bad_names = st.sampled_from(BAD_NAMES)
bad_keys = st.sampled_from(BAD_KEYS)
bad_records = st.sampled_from(BAD_RECORDS)
