"""The possible-states checker (model/possible.py): ok and contract errors filter; StorageError, Conflict and
crashes fork as model/step.py declares; a restart forks index readiness; observations collapse the set; a
wrong answer is a Violation that prints the history as calls; the bound is never a pass."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import errors as E
from model.ops import Op
from model.possible import BOUND_DEFAULT, PossibleStates, TooManyStates, Violation, error_kind
from model.state import State
from model.step import outcomes_on_crash, outcomes_on_error, outcomes_on_restart, settled, step
from model.values import record_of


def after(*calls, s=None):
    s = s or State()
    for call in calls:
        s, out = step(s, Op.make(*call))
        assert out.error is None, f"{call} raised {out.error}"
    return s


def possible(s, **kw):
    return PossibleStates(states=frozenset({s}), **kw)


def ready(s, table, attr):
    return s.tables[table].indexes.get(attr) if table in s.tables else None


BASE = after(("create_table", "t", ("a",)), ("put", "t", "k", {"a": 1}), ("create_branch", "b"))
DROPPED, PUT = after(("drop_table", "t"), s=BASE), after(("put", "t", "k", {"a": 2}), s=BASE)
BUILDING = replace(BASE, tables=BASE.tables.set("t", BASE.tables["t"].with_index("b", False)))
READY = after(("create_index", "t", "b"), s=BASE)
# op on BASE -> the exact states a StorageError may leave (model/step.py: APPLIED_ON_ERROR, INTERMEDIATES)
ON_ERROR = [
    (Op.make("create_table", "v"), {BASE}),                      # create rolls back: only "not applied"
    (Op.make("drop_table", "t"), {BASE, DROPPED}),               # drop tombstones first: both
    (Op.make("create_index", "t", "b"), {BASE, BUILDING}),       # not applied or building, never ready
    (Op.make("put", "t", "k", {"a": 2}), {BASE, PUT}),
    (Op.make("delete", "t", "k"), {BASE, after(("delete", "t", "k"), s=BASE)}),
    (Op.make("create_branch", "c"), {BASE, after(("create_branch", "c"), s=BASE)}),  # its rollback may fail
    (Op.make("delete_branch", "b"), {BASE}),
    (Op.make("get", "t", "k"), {BASE}), (Op.make("optimize"), {BASE}), (Op.make("cleanup"), {BASE}),
    (Op.make("scan", "t"), {BASE}), (Op.make("find", "t", "a", 1), {BASE}), (Op.make("tables"), {BASE}),
    (Op.make("branches"), {BASE}),                               # reads change nothing, failed or not
    (Op.make("put", "nope", "k", {}), {BASE}),                   # an op the model rejects cannot apply
]


@pytest.mark.parametrize(("op", "want"), ON_ERROR, ids=[repr(op) for op, _ in ON_ERROR])
@pytest.mark.parametrize("exc", [E.StorageError("disk"), E.InjectedError("planned"), E.Conflict("lost race")])
def test_uncertain_errors_fork_exactly_as_declared(op, want, exc):
    assert set(outcomes_on_error(BASE, op)) == want
    p = possible(BASE)
    p.failed(op, exc)
    assert set(p.states) == want
    assert p.history == [(op, f"raised {'StorageError' if isinstance(exc, E.StorageError) else 'Conflict'}")]


def test_create_index_storage_error_never_leaves_a_ready_index():
    p = possible(BASE)
    p.failed(Op.make("create_index", "t", "b"), E.StorageError())
    assert {ready(s, "t", "b") for s in p.states} == {None, False}
    with pytest.raises(Violation):  # a find that answers would need a ready index: no state explains it
        p.ok(Op.make("find", "t", "b", 1), frozenset())


def test_injected_error_counts_as_storage_error():
    assert error_kind(E.InjectedError("x")) is E.StorageError
    assert error_kind(E.Conflict("x")) is E.Conflict and error_kind(E.NoSuchTable("x")) is E.NoSuchTable


@pytest.mark.parametrize(("op", "want"), [
    (Op.make("create_index", "t", "b"), {BASE, READY, BUILDING}),   # the declared "building" intermediate
    (Op.make("create_table", "v"), {BASE, after(("create_table", "v"), s=BASE)}),
    (Op.make("drop_table", "t"), {BASE, DROPPED}), (Op.make("put", "t", "k", {"a": 2}), {BASE, PUT}),
    (Op.make("create_branch", "c"), {BASE, after(("create_branch", "c"), s=BASE)}),
    (Op.make("scan", "t"), {BASE}), (Op.make("create_table", "t"), {BASE}),
    (Op.make("delete", "t", "k"), {BASE, after(("delete", "t", "k"), s=BASE)}),
    (Op.make("delete_branch", "b"), {BASE, after(("delete_branch", "b"), s=BASE)}),  # the flip comes first
    *[(Op.make(*call), {BASE}) for call in (("get", "t", "k"), ("find", "t", "a", 1), ("tables",), ("branches",),
                                            ("optimize",), ("cleanup",))],  # nothing observable to apply
])
def test_a_crash_forks_into_not_applied_applied_and_intermediates(op, want):
    assert set(outcomes_on_crash(BASE, op)) == want
    p = possible(BASE)
    p.crashed(op, "killed")
    assert set(p.states) == want and p.history[-1] == (op, "killed")


def test_resuming_create_index_on_a_building_index_forks_to_building_or_ready():
    p = possible(BUILDING)
    p.crashed(Op.make("create_index", "t", "b"))
    assert {ready(s, "t", "b") for s in p.states} == {False, True}


def test_restart_forks_every_building_index_independently():
    two = replace(BUILDING, tables=BUILDING.tables.set("t", BUILDING.tables["t"].with_index("c", False)))
    p = possible(two)
    p.restarted()
    assert {(ready(s, "t", "b"), ready(s, "t", "c")) for s in p.states} == {(False, False), (False, True),
                                                                            (True, False), (True, True)}
    assert all(s.data == two.data for s in p.states) and repr(p.history[-1][0]) == "w0.open()"
    assert ready(settled(two), "t", "b") is ready(settled(two), "t", "c") is True
    q = possible(BASE)
    q.restarted()
    assert q.states == {BASE} and outcomes_on_restart(BASE) == [BASE]


def test_ok_and_contract_errors_filter_and_an_observation_collapses():
    p = possible(BASE)
    p.crashed(Op.make("create_index", "t", "b"))
    assert len(p) == 3
    p.failed(Op.make("find", "t", "b", 1), E.IndexNotReady("t.b"))
    assert p.only() == BUILDING
    p.crashed(Op.make("create_table", "v"))
    p.ok(Op.make("tables"), ["t", "v"])
    assert "v" in p.only().tables
    p.crashed(Op.make("put", "t", "k", {"a": 2}))
    p.failed(Op.make("create_table", "v"), E.TableExists("v"))  # true in both states: filters nothing
    assert len(p) == 2
    p.ok(Op.make("get", "t", "k"), {"a": 2})
    assert record_of(p.only().rows("main", "t")["k"]) == {"a": 2}


def test_answers_are_compared_type_sensitively_and_in_any_order():
    p = possible(after(("put", "t", "j", {"a": 1}), ("put", "t", "m", {"a": 1}), s=BASE))
    p.ok(Op.make("get", "t", "k"), {"a": 1})
    p.ok(Op.make("find", "t", "a", 1), ["m", "k", "j"])  # an engine may return the keys in any order
    p.ok(Op.make("scan", "t"), {"m": {"a": 1}, "k": {"a": 1}, "j": {"a": 1}})
    p.ok(Op.make("branches"), ["b", "main"])
    with pytest.raises(Violation):
        p.ok(Op.make("get", "t", "k"), {"a": True})
    with pytest.raises(Violation):
        p.ok(Op.make("find", "t", "a", True), frozenset({"k"}))


@pytest.mark.parametrize(("op", "exc"), [
    (Op.make("get", "t", "k"), E.NoSuchTable("t")),              # the table exists
    (Op.make("put", "t", "", {}), E.InvalidRecord("bad key")),   # the model says InvalidKey, exactly
    (Op.make("put", "t", "k", {"a": 1.5}), E.InvalidKey("k")),   # the model says InvalidRecord
    (Op.make("create_table", "t"), E.InvalidName("t")),
    (Op.make("scan", "t"), ValueError("unexpected")),          # not a contract error: crashed() is for those
])
def test_a_wrong_error_is_a_violation(op, exc):
    p = possible(BASE)
    with pytest.raises(Violation):
        p.failed(op, exc)
    assert p.states == {BASE} and p.history == []  # a violation does not consume the state set


def test_a_violation_prints_the_history_as_calls():
    p = PossibleStates()
    p.ok(Op.make("create_table", "t"), None)
    p.ok(Op.make("put", "t", "k", {"a": 1}), None)
    p.crashed(Op.make("delete", "t", "k", worker=2))
    bad = Op.make("get", "t", "k", worker=1)
    with pytest.raises(Violation) as excinfo:
        p.ok(bad, {"a": 2})
    head, text = str(excinfo.value).split("history (oldest first):")
    calls = ["w0.create_table('t', ())", "w0.put('t', 'k', {'a': 1}, 'main')", "w2.delete('t', 'k', 'main')",
             "w1.get('t', 'k', 'main')"]
    assert [text.index(c) for c in calls] == sorted(text.index(c) for c in calls)
    assert "  w2.delete('t', 'k', 'main')  # crashed" in text and isinstance(excinfo.value, AssertionError)
    assert "w1.get('t', 'k', 'main') returned" in head and "returns None" in head  # what the model allowed
    assert [op for op, _ in excinfo.value.history] == [Op.make("create_table", "t"),
                                                       Op.make("put", "t", "k", {"a": 1}),
                                                       Op.make("delete", "t", "k", worker=2), bad]
    for op, _ in excinfo.value.history:
        compile(repr(op), "<history>", "eval")  # each line is a runnable-looking Python call
    assert len(excinfo.value.candidates) == 2


def test_exceeding_the_bound_raises_too_many_states_and_keeps_the_old_set():
    assert PossibleStates().bound == BOUND_DEFAULT
    p = possible(BASE, bound=2)
    p.crashed(Op.make("put", "t", "k", {"a": 2}))
    before = p.states
    with pytest.raises(TooManyStates):
        p.crashed(Op.make("put", "t", "j", {"a": 3}))
    assert p.states == before and len(p.history) == 1
    assert not issubclass(TooManyStates, AssertionError)  # a harness failure, not an ordinary assertion


def test_only_needs_exactly_one_state():
    assert possible(BASE).only() is BASE
    p = possible(BASE)
    p.crashed(Op.make("drop_table", "t"))
    with pytest.raises(TooManyStates):
        p.only()
    scan = Op.make("scan", "t")
    assert {repr(o) for o in p.expected(scan)} == {"raises NoSuchTable", repr(step(BASE, scan)[1])}


def test_a_full_observation_collapses_states_that_differ_only_in_hidden_counters():
    p = PossibleStates()
    p.crashed(Op.make("create_table", "t"))
    p.crashed(Op.make("drop_table", "t"))
    p.ok(Op.make("tables"), [])
    p.ok(Op.make("branches"), ["main"])
    assert len(p) == 1


@pytest.mark.parametrize("exc", [E.StorageError("disk"), E.InjectedError("planned"), E.Conflict("lost race")])
@pytest.mark.parametrize("op", [Op.make("create_table", "../x"), Op.make("put", "t", "k\x00", {}),
                                Op.make("put", "t", "k", {"a": 1.5}), Op.make("create_branch", "a/b"),
                                Op.make("find", "t", "a", b"1")])
def test_an_uncertain_error_for_input_the_model_rejects_is_a_violation(op, exc):
    p = possible(BASE)  # input rules come before any store is touched: bad input gets its typed error
    with pytest.raises(Violation):
        p.failed(op, exc)
    p.crashed(op)  # a crash is still possible (before validation), and then nothing happened
    assert p.states == {BASE}


# --- property: driven by a hidden "engine" that is the model itself, the true state is always possible -----
T, B, K = map(st.sampled_from, (["t", "t", "u"], ["main", "b"], ["k1", "k2"]))
A, V = st.sampled_from(["a", "b"]), st.sampled_from([1, True, "1"])
OP = st.one_of(
    st.builds(lambda t, k, a, v, b: Op.make("put", t, k, {a: v}, b), T, K, A, V, B),
    st.builds(lambda t, i: Op.make("create_table", t, i), T, st.sampled_from([(), ("a",)])),
    st.builds(lambda t: Op.make("drop_table", t), T),
    st.builds(lambda t, a: Op.make("create_index", t, a), T, A),
    st.builds(lambda t, k, b: Op.make("delete", t, k, b), T, K, B),
    st.builds(lambda t, a, v, b: Op.make("find", t, a, v, b), T, A, V, B),
    st.builds(lambda t, b: Op.make("scan", t, b), T, B),
    st.builds(lambda b: Op.make("create_branch", b), B), st.builds(lambda b: Op.make("delete_branch", b), B),
    st.builds(lambda t, k, a, v, b: Op.make("put", t, k, {a: v}, b), T, K, A, V, B),
)
FATE = st.sampled_from(["ok", "storage", "ok", "crash", "ok", "restart", "ok"])
START = after(("create_table", "t", ("a",)), ("put", "t", "k1", {"a": 1}), ("create_branch", "b"))


def raw(op, answer):  # a model answer as an engine would return it
    if op.name == "get":
        return None if answer is None else record_of(answer)
    if op.name == "scan":
        return {k: record_of(c) for k, c in answer}
    if op.name == "find":
        return frozenset(answer)
    return list(answer) if op.name in ("tables", "branches") else None


def observe(p, true):  # a full read of the true state
    for op in [Op.make("tables"), Op.make("branches")] + [Op.make("scan", t, b) for t in true.tables
                                                          for b in true.branches]:
        p.ok(op, raw(op, step(true, op)[1].answer))


@given(st.lists(st.tuples(OP, FATE), max_size=25), st.data())
def test_the_true_state_always_survives_and_a_full_read_agrees(program, data):
    true, p = START, possible(START)
    for op, fate in program:
        if fate == "storage" and not outcomes_on_error(true, op):
            fate = "ok"  # input the rules reject gets its typed error before any store is touched
        if fate == "ok":
            nxt, out = step(true, op)
            p.failed(op, out.error(repr(op))) if out.error else p.ok(op, raw(op, out.answer))
            true = nxt
        elif fate == "storage":
            true = data.draw(st.sampled_from(outcomes_on_error(true, op)))
            p.failed(op, E.InjectedError("planned"))
        elif fate == "crash":
            true = data.draw(st.sampled_from(outcomes_on_crash(true, op)))
            p.crashed(op)
        else:
            true = data.draw(st.sampled_from(outcomes_on_restart(true)))
            p.restarted()
        assert true in p.states
    observe(p, true)
    def observable(s):
        return tuple(sorted(s.tables)), tuple(sorted(s.branches)), s.data

    assert true in p.states and {observable(s) for s in p.states} == {observable(true)}
