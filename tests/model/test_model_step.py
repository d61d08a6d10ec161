"""model/step.py: each operation's success and every error in precedence order (names, key, record/value,
branch, table, index; errors change nothing), then random programs checked against a brute-force oracle."""
from __future__ import annotations

from dataclasses import replace
from functools import reduce
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import errors as E
from model.fmap import FMap
from model.ops import SIGNATURES, Op
from model.rules import check_indexed, check_key, check_name, check_record, check_value
from model.state import State
from model.step import INTERMEDIATES, STEPS, step
from model.values import canon_record, record_of
from tests.model.test_model_rules import bad_keys, bad_name_text, bad_values, non_str

IN, IR, IK, NT, NB, NI = (E.InvalidName, E.InvalidRecord, E.InvalidKey, E.NoSuchTable, E.NoSuchBranch,
                          E.NoSuchIndex)


def ok(s, name, *args, **kw):
    s2, out = step(s, Op.make(name, *args, **kw))
    assert out.error is None, f"{name}{args} raised {out.error.__name__}"
    return s2, out.answer


def build(*calls, s=None):
    return reduce(lambda s, call: ok(s, *call)[0], calls, s or State())


def view(s, table="t", branch="main"):
    return {k: record_of(c) for k, c in ok(s, "scan", table, branch)[1]}


BASE = build(("create_table", "t", ("a",)), ("create_table", "u"), ("put", "t", "k1", {"a": 1}),
             ("create_branch", "b"), ("create_branch", "c", "b"))  # c is a child of b
BUILDING = replace(BASE, tables=BASE.tables.set("t", BASE.tables["t"].with_index("z", False)))
# op -> [(args, exact error)] on BASE; several cases pin the precedence between two bad inputs
ERRORS: dict[str, list[tuple[tuple[Any, ...], type[E.ContractError]]]] = {
    "create_table": [(("../x",), IN), (("T",), IN), (("v", ("A",)), IN), (("v", "a"), IN),
                     (("t", ("A",)), IN), (("t",), E.TableExists), (("t", ("a",)), E.TableExists)],
    "create_index": [(("__x", "a"), IN), (("t", "a\x00"), IN), (("v", "A"), IN), (("v", "a"), NT),
                     (("t", "a"), E.IndexExists)], "drop_table": [(("a/b",), IN), (("v",), NT)],
    "put": [(("T", "", 5), IN), (("t", "", {}, "B"), IN), (("t", "", 5, "zz"), IK), (("t", "k\x00", {}), IK),
            (("v", "k", {"a": 1.5}, "zz"), IR), (("t", "k", [("a", 1)]), IR), (("t", "k", {"A": 1}), IR),
            (("v", "k", {}, "zz"), NB), (("v", "k", {}), NT)],
    "scan": [(("T", "zz"), IN), (("t", "B"), IN), (("v", "zz"), NB), (("v",), NT), (("v", "b"), NT)],
    "find": [(("T", "a", 1), IN), (("t", "A", 1.5), IN), (("t", "a", 1.5, "B"), IN), (("t", "a", 1.5), IR),
             (("t", "a", b"1"), IR), (("v", "b", [1], "zz"), IR), (("v", "b", 1, "zz"), NB),
             (("v", "a", 1), NT), (("t", "b", 1), NI), (("u", "a", 1), NI)],
    "create_branch": [(("B",), IN), (("x", "../x"), IN), (("B", "zz"), IN), (("b", "zz"), NB),
                      (("x", "zz"), NB), (("b",), E.BranchExists), (("main",), E.BranchExists)],
    "delete_branch": [(("B",), IN), (("main",), IN), (("zz",), NB), (("b",), E.BranchInUse)],
    **{op: [(("T", ""), IN), (("t", "", "B"), IN), (("t", ""), IK), (("t", "\x00"), IK), (("t", 7), IK),
            (("v", "", "zz"), IK), (("v", "k", "zz"), NB), (("v", "k"), NT)] for op in ("get", "delete")},
}
CASES = [(BASE, op, args, err) for op, cases in ERRORS.items() for args, err in cases] + [
    (BUILDING, "find", ("t", "z", 1), E.IndexNotReady), (BUILDING, "find", ("t", "z", 1, "zz"), NB),
    (BUILDING, "find", ("t", "z", 1.5), IR), (BUILDING, "find", ("t", "y", 1), NI)]


@pytest.mark.parametrize(("s", "name", "args", "err"), CASES, ids=[f"{n}{a!r}" for _s, n, a, _e in CASES])
def test_every_error_is_exact_and_changes_nothing(s, name, args, err):
    with pytest.raises(E.ContractError) as excinfo:
        STEPS[name](s, *args)
    assert type(excinfo.value) is err
    s2, out = step(s, Op(name, args))
    assert out.error is err and out.answer is None and s2 is s


def test_create_table_is_empty_everywhere_and_drop_table_is_gone_everywhere():
    s, answer = ok(BASE, "create_table", "s", ["b", "a", "a"])
    assert answer is None and ok(s, "tables")[1] == ("s", "t", "u") and view(s) == view(BASE)  # sorted
    assert s.tables["s"].incarnation == BASE.next_incarnation == s.next_incarnation - 1
    assert dict(s.tables["s"].indexes) == {"a": True, "b": True}
    assert all(view(s, "s", b) == {} for b in ("main", "b", "c"))
    s, _ = ok(BASE, "drop_table", "t")  # drop removes it from every branch
    assert ok(s, "tables")[1] == ("u",) and view(s, "u") == view(BASE, "u")
    assert all(step(s, Op.make("scan", "t", b))[1].error is NT for b in ("main", "b", "c"))


def test_create_index_backfills_type_sensitively_and_resumes_a_building_index():
    rows = [("i", {"a": 1}), ("b", {"a": True}), ("s", {"a": "1"}), ("n", {"a": None}), ("m", {"b": 1})]
    s = build(*[("put", "u", k, r) for k, r in rows], ("create_index", "u", "a"), s=BASE)
    found = [(v, ok(s, "find", "u", "a", v)[1]) for v in (1, True, "1", None, 0, False)]
    assert found == [(1, ("i",)), (True, ("b",)), ("1", ("s",)), (None, ()), (0, ()), (False, ())]
    s2, _ = ok(BUILDING, "create_index", "t", "z")
    assert s2.tables["t"].indexes["z"] is True and s2.data == BUILDING.data
    assert ok(s2, "find", "t", "z", 1)[1] == ()


def test_put_replaces_the_whole_record_get_reads_it_and_delete_removes_it():
    s = build(("put", "t", "k", {"a": 1, "b": 2}), ("put", "t", "k", {"b": True}), s=BASE)
    assert ok(s, "get", "t", "k")[1] == canon_record({"b": True}) != canon_record({"b": 1})
    assert ok(s, "get", "t", "nope")[1] is None and ok(s, "get", "t", "k", "b")[1] is None
    s, _ = ok(s, "delete", "t", "k1")
    assert ok(s, "get", "t", "k1")[1] is None and view(s, "t", "b") == {"k1": {"a": 1}}
    assert ok(BASE, "delete", "t", "nope")[0] == BASE  # deleting a missing key is a no-op


def test_reads_and_maintenance_change_nothing():
    for name, args in [("get", ("t", "k1")), ("scan", ("t",)), ("find", ("t", "a", 1)), ("tables", ()),
                       ("branches", ()), ("optimize", ()), ("cleanup", ())]:
        assert ok(BASE, name, *args)[0] is BASE
    assert ok(BASE, "scan", "t")[1] == (("k1", canon_record({"a": 1})),)
    assert ok(BASE, "branches")[1] == ("b", "c", "main") and ok(BASE, "optimize")[1] is None


def test_create_branch_snapshots_the_parent_and_delete_branch_needs_no_children():
    s, _ = ok(build(("put", "t", "k2", {"a": 2}, "b"), s=BASE), "create_branch", "d", "b")
    assert s.branches["d"] == "b" and view(s, "u", "d") == {}
    assert view(s, "t", "d") == {"k1": {"a": 1}, "k2": {"a": 2}}
    s = build(("delete_branch", "c"), s=s)
    assert step(s, Op.make("delete_branch", "b"))[1].error is E.BranchInUse  # d is still a child of b
    s = build(("delete_branch", "d"), ("delete_branch", "b"), s=s)
    assert ok(s, "branches")[1] == ("main",) and sorted(s.data) == [("main", "t"), ("main", "u")]


VALUES = [1, True, "1", None, 0, False, "x"]
T, B, K, A = (st.sampled_from(xs) for xs in (["t", "u"], ["main", "b", "c"], ["k1", "k2"], ["a", "b"]))
V = st.sampled_from(VALUES)
ARGS = {"create_table": (T, st.sampled_from([(), ("a",), ("a", "b")])), "drop_table": (T,),
        "create_index": (T, A), "put": (T, K, st.dictionaries(A, V, max_size=2), B), "delete": (T, K, B),
        "get": (T, K, B), "scan": (T, B), "find": (T, A, V, B), "tables": (), "branches": (), "optimize": (),
        "cleanup": (), "create_branch": (B, B), "delete_branch": (B,),
        "interrupt_index": (T, A)}  # pseudo-op: create_index dies mid-backfill
BAD = {"key": ("", "k\x00"), "record": ({"A": 1}, []), "value": (1.5, b"1"), "indexed": (("A",), "a")}


def make(name, args, bad):  # `bad` = (argument, choice): one argument replaced by an invalid one
    if bad and args:
        i = bad[0] % len(args)
        pool = BAD.get(SIGNATURES.get(name, ("table", "attr"))[i], ("T", "../x"))  # names: "T", "../x"
        args = args[:i] + (pool[bad[1]],) + args[i + 1:]
    return Op.make(name, *args) if name in SIGNATURES else Op(name, args)


BADS = st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 3), st.integers(0, 1)), st.none())  # 1 in 4
OP = st.sampled_from(["put"] + sorted(ARGS) + ["put"] * 3 + ["create_branch", "delete", "put"]).flatmap(
    lambda n: st.builds(make, st.just(n), st.tuples(*ARGS[n]), BADS))  # programs are mostly valid
RANK = {"indexed": 1, "key": 2, "record": 3, "value": 3}  # the documented precedence: every name (0) first
CHECK = {"indexed": check_indexed, "key": check_key, "record": check_record, "value": check_value}


def cr(record):  # a type-sensitive comparable record, independent of model.values
    return None if record is None else tuple(sorted((a, type(v).__name__, v) for a, v in record.items()))
def tc(rows):  # {key: plain record} -> {key: cr(record)}
    return {k: cr(r) for k, r in rows.items()}


def req(condition, error):
    if not condition:
        raise error()


class Oracle:
    """Brute force over plain dicts, written independently of model/step.py (it shares only the input rules):
    tables: table -> {attr: ready}; branches: branch -> parent; rows: (branch, table) -> {key: record}."""

    def __init__(self):
        self.tables, self.branches, self.rows = {}, {"main": None}, {}
    def __call__(self, name, args):
        if name in ("tables", "branches", "optimize", "cleanup"):
            return None, tuple(sorted(getattr(self, name))) if name in ("tables", "branches") else None
        try:
            for i in sorted(range(len(args)), key=lambda i: RANK.get(SIGNATURES[name][i], 0)):
                CHECK.get(SIGNATURES[name][i], check_name)(args[i])
            return None, getattr(self, name)(*args)
        except E.ContractError as e:
            return type(e), None

    def rows_of(self, t, b):  # branch existence first, then table existence
        req(b in self.branches, NB)
        req(t in self.tables, NT)
        return self.rows[b, t]
    def create_table(self, t, idx):
        req(t not in self.tables, E.TableExists)
        self.tables[t] = {a: True for a in idx}
        self.rows.update({(b, t): {} for b in self.branches})
    def drop_table(self, t):
        req(t in self.tables, NT)
        del self.tables[t]
    def create_index(self, t, a):
        req(t in self.tables, NT)
        req(not self.tables[t].get(a), E.IndexExists)
        self.tables[t][a] = True
    def put(self, t, k, r, b):
        self.rows_of(t, b)[k] = dict(r)
    def delete(self, t, k, b):
        self.rows_of(t, b).pop(k, None)
    def get(self, t, k, b):
        return cr(self.rows_of(t, b).get(k))
    def scan(self, t, b):
        return tc(self.rows_of(t, b))
    def find(self, t, a, v, b):
        rows = self.rows_of(t, b)
        req(a in self.tables[t], NI)
        req(self.tables[t][a], E.IndexNotReady)
        return sorted(k for k, r in rows.items() if self.hit(r, a, v))

    @staticmethod
    def hit(record, a, v):  # the index predicate: type-sensitive; None and missing never match
        return v is not None and type(record.get(a)) is type(v) and record[a] == v

    def create_branch(self, n, p):
        req(p in self.branches, NB)
        req(n not in self.branches, E.BranchExists)
        self.branches[n] = p
        self.rows.update({(n, t): dict(self.rows[p, t]) for t in self.tables})
    def delete_branch(self, n):
        req(n != "main", IN)
        req(n in self.branches, NB)
        req(n not in self.branches.values(), E.BranchInUse)
        del self.branches[n]


def plain(name, answer):  # a model answer in the oracle's form
    if name == "scan":
        return tc({k: record_of(c) for k, c in answer})
    if name == "get":
        return None if answer is None else cr(record_of(answer))
    return list(answer) if name == "find" else answer


def run(ops):
    """Run `ops` on the model and the oracle side by side, checking everything after every step."""
    s, o, seen = State(), Oracle(), set()
    for op in ops:
        if op.name == "interrupt_index":
            if o("create_index", op.args)[0] is None:  # the "building" state, wherever create_index applies
                o.tables[op.args[0]][op.args[1]] = False
            s = (INTERMEDIATES["create_index"](s, Op("create_index", op.args)) or [s])[0]
        else:
            s2, out = step(s, op)
            want_err, want = o(op.name, op.args)
            assert out.error is want_err, f"{op!r}: model {out}, oracle raises {want_err}"
            assert s2 is s if out.error else plain(op.name, out.answer) == want, f"{op!r}: {out} vs {want}"
            if op.name == "create_table" and out.error is None:  # a new incarnation, never reused
                assert all(s2.tables[op.args[0]].incarnation > i for i in seen)
                seen.add(s2.tables[op.args[0]].incarnation)
            s = s2
        assert sorted(s.tables) == sorted(o.tables) and dict(s.branches) == o.branches
        for t, b in ((t, b) for t in s.tables for b in s.branches):
            rows = view(s, t, b)
            assert dict(s.tables[t].indexes) == o.tables[t] and tc(rows) == tc(o.rows[b, t])
            for a, v in ((a, v) for a, ready in o.tables[t].items() if ready for v in VALUES):
                brute = sorted(k for k, r in rows.items() if Oracle.hit(r, a, v))
                assert list(ok(s, "find", t, a, v, b)[1]) == brute  # find == the projection of scan
    return s


@given(st.lists(OP, min_size=10, max_size=40))
def test_random_programs_agree_with_the_oracle(ops):
    run([Op.make("create_table", "t", ("a",)), Op.make("create_branch", "b")] + ops)


WRITES = st.lists(st.tuples(st.sampled_from(["k1", "k2", "k3"]), st.none() | ARGS["put"][2]), max_size=6)


def write(s, b, writes):  # to table t; a None record deletes
    return build(*[("delete", "t", k, b) if r is None else ("put", "t", k, r, b) for k, r in writes], s=s)


def applied(rows, writes):  # the brute-force effect of `writes` on a dict: the last write to a key wins
    return {k: r for k, r in {**rows, **dict(writes)}.items() if r is not None}


@given(WRITES, WRITES, WRITES, st.sampled_from(["main", "b"]))
def test_branch_is_a_snapshot_and_writes_are_isolated(pre, on_child, on_parent, parent):
    s = write(build(("create_table", "t"), ("create_branch", "b")), parent, pre)
    snap = view(s, "t", parent)
    assert tc(snap) == tc(applied({}, pre))
    s = ok(s, "create_branch", "c", parent)[0]
    assert tc(view(s, "t", "c")) == tc(snap)
    s = write(write(s, "c", on_child), parent, on_parent)
    assert tc(view(s, "t", "c")) == tc(applied(snap, on_child))       # parent's later writes are invisible
    assert tc(view(s, "t", parent)) == tc(applied(snap, on_parent))   # child's writes are invisible
    assert view(s, "t", "main" if parent == "b" else "b") == {}


@given(st.lists(OP, max_size=25))
def test_same_name_recreate_is_empty_everywhere_and_a_new_incarnation(ops):
    s = run([Op.make("create_table", "t", ("a",)), Op.make("put", "t", "k1", {"a": 1}),
             Op.make("create_branch", "b"), Op.make("put", "t", "k2", {"a": 2}, "b")] + ops)
    old = s.tables["t"].incarnation if "t" in s.tables else 0
    s = ok(s, "drop_table", "t")[0] if old else s
    s2 = ok(s, "create_table", "t")[0]
    assert s2.tables["t"].incarnation == s.next_incarnation > old  # and (see run) above every earlier one
    assert s2.tables["t"].indexes == FMap() and all(view(s2, "t", b) == {} for b in s2.branches)


@given(WRITES, WRITES, WRITES, st.sampled_from(["main", "c"]))
def test_a_recreated_branch_starts_from_the_parents_current_data(pre, on_b, after, parent):
    s = write(build(("create_table", "t"), ("create_branch", "c")), parent, pre)
    s = write(ok(s, "create_branch", "b", parent)[0], "b", on_b)
    s = write(ok(s, "delete_branch", "b")[0], parent, after)
    s = ok(s, "create_branch", "b", parent)[0]
    assert tc(view(s, "t", "b")) == tc(view(s, "t", parent)) == tc(applied(applied({}, pre), after))


# --- generated bad input through every operation ----------------------------------------------------------
GOOD = {"create_table": ("v", ("a",)), "drop_table": ("u",), "create_index": ("t", "b"),
        "put": ("t", "k", {"a": 1}, "b"), "delete": ("t", "k1", "b"), "get": ("t", "k1", "b"),
        "scan": ("t", "b"), "find": ("t", "a", 1, "b"), "create_branch": ("x", "b"), "delete_branch": ("c",)}


def _bad_for(argument: str) -> st.SearchStrategy:
    bad_name = st.one_of(bad_name_text, non_str)
    return {"key": st.tuples(st.just(IK), bad_keys),
            "record": st.tuples(st.just(IR), st.one_of(non_str, st.dictionaries(bad_name_text, st.integers(),
                                                                                 min_size=1, max_size=2),
                                                       st.dictionaries(st.just("a"), bad_values, min_size=1))),
            "value": st.tuples(st.just(IR), bad_values),
            "indexed": st.tuples(st.just(IN), st.one_of(st.lists(bad_name, min_size=1, max_size=2), bad_name_text)),
            }.get(argument, st.tuples(st.just(IN), bad_name))


@st.composite
def one_bad_argument(draw):
    name = draw(st.sampled_from(sorted(GOOD)))
    i = draw(st.integers(0, len(SIGNATURES[name]) - 1))
    err, bad = draw(_bad_for(SIGNATURES[name][i]))
    return name, GOOD[name][:i] + (bad,) + GOOD[name][i + 1:], err


def test_the_good_arguments_succeed():
    for name, args in GOOD.items():
        ok(BASE, name, *args)


@given(one_bad_argument())
def test_a_generated_bad_argument_is_its_typed_error_and_changes_nothing(case):
    """Traversal, reserved, NUL, oversized, wrong-typed: one argument of an otherwise good call replaced by
    a generated bad value gives exactly the error of that argument's rule, and the same state back."""
    name, args, err = case
    s2, out = step(BASE, Op(name, args))
    assert out.error is err, (name, args, out.error)
    assert out.answer is None and s2 is BASE
