"""The linearizability checker (model/linear.py): overlapping calls in any real-time-consistent order,
sequential calls in theirs; uncertain outcomes fork inside the search; no order is a Violation that
prints the calls, their overlaps and the longest order found; past its bound it is Undecided, never a pass."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import errors as E
from model.linear import Call, Undecided, apply, linearize
from model.ops import Op
from model.possible import Violation
from tests.model.test_model_possible import after, possible

BASE = after(("create_table", "t", ()), ("put", "t", "k", {"a": 1}))
PUT2 = Op.make("put", "t", "k", {"a": 2}, worker=0)
GET = Op.make("get", "t", "k", worker=1)


def test_a_read_overlapping_a_write_may_see_either_value_and_the_state_is_the_write():
    for seen in ({"a": 1}, {"a": 2}):
        p = possible(BASE)
        p.concurrent([Call(PUT2, 0, 3), Call(GET, 1, 2, answer=seen)])
        assert p.states == {after(("put", "t", "k", {"a": 2}), s=BASE)}


def test_a_read_after_the_write_completed_must_see_it():
    p = possible(BASE)
    with pytest.raises(Violation) as v:
        p.concurrent([Call(PUT2, 0, 1), Call(GET, 2, 3, answer={"a": 1})])
    text = str(v.value)
    assert "[0, 1] w0.put('t', 'k', {'a': 2}, 'main')" in text and "[2, 3] w1.get('t', 'k', 'main')" in text
    assert "longest order that explains its answers: w0.put" in text
    assert "no state explains any of: w1.get('t', 'k', 'main') returned (('a', 'i', 1),)" in text


def test_two_reads_in_contradictory_orders_are_not_linearizable():
    """The classic non-linearizable history: during one write, a reader sees the new value and a later
    reader (invoked after the first answered) sees the old one."""
    g1, g2 = Op.make("get", "t", "k", worker=1), Op.make("get", "t", "k", worker=2)
    calls = [Call(PUT2, 0, 9), Call(g1, 1, 2, answer={"a": 2}), Call(g2, 3, 4, answer={"a": 1})]
    with pytest.raises(Violation):
        possible(BASE).concurrent(calls)
    calls[2] = Call(g2, 3, 4, answer={"a": 2})
    p = possible(BASE)
    p.concurrent(calls)
    assert len(p) == 1


def test_an_uncertain_error_forks_inside_the_search_and_a_certain_one_filters():
    drop = Op.make("drop_table", "t", worker=0)
    p = possible(BASE)
    p.concurrent([Call(drop, 0, 3, error=E.StorageError("io")), Call(GET, 1, 2, answer={"a": 1})])
    assert p.states == {BASE, after(("drop_table", "t"), s=BASE)}
    p = possible(BASE)
    p.concurrent([Call(drop, 0, 3), Call(GET, 1, 2, error=E.NoSuchTable("t"))])
    assert p.states == {after(("drop_table", "t"), s=BASE)}  # the get went after the drop
    with pytest.raises(Violation):
        possible(BASE).concurrent([Call(drop, 0, 1), Call(GET, 2, 3, answer={"a": 1})])


def test_a_crashed_call_may_have_taken_effect_or_not():
    p = possible(BASE)
    p.concurrent([Call(PUT2, 0, 3, crashed=True), Call(GET, 1, 2, answer={"a": 1})])
    assert p.states == {BASE, after(("put", "t", "k", {"a": 2}), s=BASE)}


def test_past_its_bound_the_checker_is_undecided_never_a_pass():
    calls = [Call(Op.make("get", "t", "k", worker=i), 0, 1, answer={"a": 1}) for i in range(9)]
    with pytest.raises(Undecided):
        linearize({BASE}, calls)
    with pytest.raises(Undecided):
        linearize({BASE}, calls[:8], max_nodes=10)


KEYS = st.sampled_from(["k", "m"])
OPS = st.one_of(st.builds(lambda k, v: ("put", "t", k, {"a": v}), KEYS, st.integers(0, 2)),
                st.builds(lambda k: ("delete", "t", k), KEYS),
                st.builds(lambda k: ("get", "t", k), KEYS))


def _rt_orders(calls):
    """Every order of the calls consistent with real time: none goes before a call that ended before it began."""
    for order in itertools.permutations(range(len(calls))):
        if all(not calls[b].end < calls[a].start for x, a in enumerate(order) for b in order[x + 1:]):
            yield order


@settings(max_examples=80, deadline=None)
@given(st.lists(OPS, min_size=1, max_size=4), st.data())
def test_the_checker_agrees_with_brute_force_over_every_permutation(ops, data):
    """Whatever the overlaps, the checker's states are exactly those of the real-time-consistent orders
    whose answers match. The answers come from one such order run on a plain dict, so the history is
    linearizable and the set is never empty."""
    spans = [sorted(data.draw(st.lists(st.integers(0, 6), min_size=2, max_size=2, unique=True))) for _ in ops]
    ops_ = [Op.make(*o, worker=i) for i, o in enumerate(ops)]
    bare = [Call(op, a, b) for op, (a, b) in zip(ops_, spans, strict=True)]
    chosen = data.draw(st.sampled_from(list(_rt_orders(bare))))
    rows, answers = {"k": {"a": 1}}, {}
    for i in chosen:
        name, _t, key, *rest = ops[i]
        if name == "put":
            rows[key] = rest[0]
        elif name == "delete":
            rows.pop(key, None)
        answers[i] = rows.get(key) if name == "get" else None
    calls = [Call(op, a, b, answer=answers[i]) for i, (op, (a, b)) in enumerate(zip(ops_, spans, strict=True))]
    expect = set()
    for order in _rt_orders(calls):
        states = {BASE}
        for i in order:
            states = {s2 for s in states for s2 in apply(s, calls[i])}
        expect |= states
    got = linearize({BASE}, calls)
    assert got.states == expect and got.states


def test_a_find_overlapping_a_create_index_may_see_the_index_building():
    """DESIGN: an index that is not complete is IndexNotReady. A create_index in flight has that state
    visible (its descriptor is persisted before the backfill), so a find overlapping it may answer
    IndexNotReady; found by the concurrent-clients rule on the reference engine, reported as a violation."""
    create = Op.make("create_index", "t", "a", worker=0)
    find = Op.make("find", "t", "a", 1, worker=1)
    for answer in ({"error": E.IndexNotReady("t.a")}, {"error": E.NoSuchIndex("t.a")}, {"answer": ("k",)}):
        p = possible(BASE)
        p.concurrent([Call(create, 0, 3), Call(find, 1, 2, **answer)])
        assert p.states == {after(("create_index", "t", "a"), s=BASE)}


def test_a_find_after_the_create_index_completed_never_sees_it_building():
    p = possible(BASE)
    with pytest.raises(Violation):
        p.concurrent([Call(Op.make("create_index", "t", "a", worker=0), 0, 1),
                      Call(Op.make("find", "t", "a", 1, worker=1), 2, 3, error=E.IndexNotReady("t.a"))])
