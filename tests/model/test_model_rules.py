"""Input rules (model/rules.py): every invalid input yields its exact typed error; every valid one passes
unchanged."""
from __future__ import annotations

import enum
import re
from collections import OrderedDict
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from model import rules
from model.errors import ContractError, InvalidKey, InvalidName, InvalidRecord
from model.rules import INT_MAX, INT_MIN, check_indexed, check_key, check_name, check_record, check_value

NAME_RX = r"[a-z][a-z0-9_]{0,31}"


class Str(str):
    pass


class Int(int):
    pass


class Color(enum.IntEnum):
    RED = 1


def raises_exactly(cls: type[ContractError], fn, *args):
    with pytest.raises(ContractError) as excinfo:
        fn(*args)
    got = type(excinfo.value)
    assert got is cls, f"{fn.__name__}{args!r} raised {got.__name__}, not {cls.__name__}"
    return excinfo.value


# --- strategies -----------------------------------------------------------------------------------------
names = st.from_regex(NAME_RX, fullmatch=True).filter(lambda n: not n.startswith("__"))
keys = st.text(min_size=1, max_size=64).filter(lambda k: "\x00" not in k)  # no surrogates by default
values = st.one_of(st.none(), st.booleans(), st.integers(INT_MIN, INT_MAX), st.text(max_size=256))
records = st.dictionaries(names, values, max_size=16)
non_str = st.one_of(st.integers(), st.floats(), st.binary(), st.none(), st.booleans(),
                    st.lists(st.integers(), max_size=2), st.just(Str("abc")), st.just(object()))
bad_name_text = st.one_of(
    st.text().filter(lambda s: re.fullmatch(NAME_RX, s) is None),
    st.from_regex(r"[a-z][a-z0-9_]{32,40}", fullmatch=True),                        # too long
    st.tuples(names, st.sampled_from("/\\.\x00 -A\n"), names).map("".join),          # one bad char inside
    names.map(lambda n: "__" + n),                                                  # reserved prefix
)
bad_keys = st.one_of(
    st.just(""), st.text(min_size=65, max_size=80),
    st.tuples(st.text(max_size=30), st.text(max_size=30)).map(lambda p: p[0] + "\x00" + p[1]),
    st.tuples(st.text(max_size=30), st.sampled_from(["\ud800", "\udfff", "\udc80"])).map("".join),
    non_str,
)
bad_values = st.one_of(
    st.floats(), st.binary(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(), st.integers()),
    st.tuples(st.integers()), st.integers(max_value=INT_MIN - 1), st.integers(min_value=INT_MAX + 1),
    st.text(min_size=257, max_size=300), st.integers(INT_MIN, INT_MAX).map(Int), st.just(Color.RED),
    st.just(Str("x")), st.just(Decimal(1)), st.just(1j), st.just(object()), st.just("bad\ud800"),
)


# --- names ----------------------------------------------------------------------------------------------
@given(names)
def test_valid_names_pass_unchanged(name):
    assert check_name(name) is name
    assert check_name(name, "branch") is name


@pytest.mark.parametrize("bad", ["../x", "a/b", "a\x00", "__x", "A", "", "a" * 33, "a-b", " a", "a ", "a\n",
                                 "1a", "_a", "é", "aB", "a.b", "..", Str("abc"), 1, None, b"ab", ["a"], 1.0])
def test_bad_names_are_invalid_name(bad):
    raises_exactly(InvalidName, check_name, bad)


@given(st.one_of(bad_name_text, non_str))
def test_generated_bad_names_are_invalid_name(bad):
    raises_exactly(InvalidName, check_name, bad)


def test_name_boundaries():
    assert check_name("a" * 32) == "a" * 32
    assert check_name("z9_") == "z9_"
    raises_exactly(InvalidName, check_name, "a" * 33)


def test_reserved_prefix_survives_a_relaxed_regex(monkeypatch):
    # The `__` check is the second line of defence: it must hold even if the regex is ever relaxed.
    monkeypatch.setattr(rules, "NAME_RE", re.compile(r"[a-z_][a-z0-9_]{0,31}"))
    assert check_name("_a") == "_a"
    err = raises_exactly(InvalidName, check_name, "__x")
    assert "reserved" in str(err)


# --- keys -----------------------------------------------------------------------------------------------
@given(keys)
def test_valid_keys_pass_unchanged(key):
    assert check_key(key) is key


@pytest.mark.parametrize("bad", ["", "k" * 65, "a\x00", "\x00", "\ud800", "k\udfff", Str("k"), 1, None, b"k",
                                 ["k"]])
def test_bad_keys_are_invalid_key(bad):
    err = raises_exactly(InvalidKey, check_key, bad)
    assert isinstance(err, InvalidRecord)  # the design says InvalidRecord for bad keys: InvalidKey refines it


@given(bad_keys)
def test_generated_bad_keys_are_invalid_key(bad):
    raises_exactly(InvalidKey, check_key, bad)


def test_key_boundaries():
    assert check_key("k" * 64) == "k" * 64
    assert check_key("\U0001f600" * 64) == "\U0001f600" * 64  # characters, not bytes
    assert check_key("a/b/../c") == "a/b/../c"                # keys are data, never paths


def test_invalid_key_is_a_subclass_of_invalid_record():
    assert issubclass(InvalidKey, InvalidRecord) and InvalidKey is not InvalidRecord


# --- values ---------------------------------------------------------------------------------------------
@given(values)
def test_valid_values_pass_unchanged(value):
    assert check_value(value) is value


@pytest.mark.parametrize("good", [None, True, False, 0, INT_MIN, INT_MAX, "", "x" * 256, "a\x00b"])
def test_value_boundaries_pass(good):
    assert check_value(good) is good


@pytest.mark.parametrize("bad", [1.0, float("nan"), b"x", ["x"], {"a": 1}, (1,), {1}, INT_MIN - 1,
                                 INT_MAX + 1, "x" * 257, "\ud800", Int(1), Color.RED, Str("x"), Decimal(1),
                                 1j, object()])
def test_bad_values_are_invalid_record(bad):
    raises_exactly(InvalidRecord, check_value, bad)


@given(bad_values)
def test_generated_bad_values_are_invalid_record(bad):
    raises_exactly(InvalidRecord, check_value, bad)


# --- records --------------------------------------------------------------------------------------------
@given(records)
def test_valid_records_pass_unchanged(record):
    before = dict(record)
    out = check_record(record)
    assert type(out) is dict and out == before and record == before
    assert all(out[a] is record[a] for a in record)


def test_record_boundaries():
    full = {f"a{i}": i for i in range(16)}
    assert check_record(full) == full
    assert check_record({}) == {}
    assert check_record({"a" * 32: "x" * 256}) == {"a" * 32: "x" * 256}


@pytest.mark.parametrize("bad", [None, [("a", 1)], "a", 1, OrderedDict(a=1), frozenset(),
                                 {f"a{i}": 0 for i in range(17)}, {"A": 1}, {"": 1}, {"__x": 1},
                                 {"a" * 33: 1}, {1: 1}, {Str("a"): 1}, {"a/b": 1}, {"a": 1.5}, {"a": b"x"},
                                 {"a": [1]}, {"a": {"b": 1}}, {"a": Int(1)}, {"a": "x" * 257}, {"a": 2**63},
                                 {"a": -(2**63) - 1}])
def test_bad_records_are_invalid_record(bad):
    raises_exactly(InvalidRecord, check_record, bad)


@given(records, st.one_of(st.tuples(names, bad_values), st.tuples(bad_name_text, values)))
def test_one_bad_entry_spoils_a_record(record, entry):
    attr, value = entry
    assume(len(record) < 16)
    raises_exactly(InvalidRecord, check_record, {**record, attr: value})


@given(st.dictionaries(names, values, min_size=17, max_size=20))
def test_too_many_attributes(record):
    raises_exactly(InvalidRecord, check_record, record)


# --- indexed= -------------------------------------------------------------------------------------------
@given(st.lists(names, max_size=5))
def test_indexed_is_deduplicated_and_sorted(attrs):
    assert check_indexed(attrs) == tuple(sorted(set(attrs)))
    assert check_indexed(tuple(attrs)) == check_indexed(frozenset(attrs))


@pytest.mark.parametrize("bad", ["a", b"a", 5, None, ["A"], ["a", "../x"], [1]])
def test_bad_indexed_is_invalid_name(bad):
    raises_exactly(InvalidName, check_indexed, bad)
