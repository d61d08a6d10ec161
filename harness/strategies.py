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


def free(names: tuple[str, ...], taken: Any) -> st.SearchStrategy[str]:
    """One of `names` that `taken(machine)` does not hold at the moment it is drawn (all of them, when every
    one is taken): a faulted create then reaches its steps, instead of failing on an existing name first.
    The draw is one of all `names`, the first free one from there on is used: what is drawn never depends on
    the machine's state (a concurrent step leaves that up to the scheduler, and Hypothesis refuses a draw
    whose bounds change between runs), only what it maps to. Read from the running machine (`st.runner()`),
    so the printed program shows the name used."""
    def first_free(drawn: tuple[Any, str]) -> str:
        machine, name = drawn
        held, at = taken(machine), names.index(name)
        return next((n for n in names[at:] + names[:at] if n not in held), name)
    return st.tuples(st.runner(), st.sampled_from(names)).map(first_free)


created_tables = free(CREATED_TABLES, lambda m: {t for s in m.model.states for t in s.tables})
created_branches = free(CREATED_BRANCHES, lambda m: {b for s in m.model.states for b in s.branches})
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
