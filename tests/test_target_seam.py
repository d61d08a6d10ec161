"""The `Target` seam: the product never names the reference engine (a static check, like the failpoint
catalogue's), the reference targets declare what the engine really does, targets are found through the
entry points, a capability a target lacks switches its rules off, and a failed check is data."""
from __future__ import annotations

import io
import pathlib
import re
import shutil
import tokenize

import pytest

import sut
from harness import fault_machine, machine
from harness.invariants import CheckFailed, classify, fail
from harness.target import Capabilities, SimpleTarget, Target, invariants_on
from harness.targets import load, registered
from model.errors import InvalidName
from sut.failpoints import CATALOGUE
from targets import reference
from tests.primitive_calls import measure

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRODUCT = ("harness", "faults", "reports", "stress")  # what takes a target; targets/ and sut/ define them
BACKEND_WORD = re.compile(r"\b(" + "|".join(sut.BACKENDS) + r")\b", re.IGNORECASE)


def engine_names(source: str) -> list[tuple[int, str]]:
    """Names, strings and comments of `source` that name a reference backend or one of its failpoints."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.NAME, tokenize.STRING, tokenize.COMMENT) and \
                tokenize.tok_name[tok.type] != "FSTRING_MIDDLE":
            continue
        if BACKEND_WORD.search(tok.string) or any(name in tok.string for name in CATALOGUE):
            found.append((tok.start[0], tok.string[:80]))
    return found


@pytest.mark.parametrize("source", ['x = "lmdb"', "if backend == 'lance': pass", "# on RocksDB only",
                                    'p = "fork.before_publish"', 'def f():\n    """Crash at drop.after_tombstone."""'])
def test_the_static_check_sees_each_way_of_naming_the_engine(source):
    assert engine_names(source), source


def test_the_product_names_no_backend_and_no_failpoint_of_the_reference_engine():
    offences = {str(f.relative_to(ROOT)): hits for pkg in PRODUCT for f in sorted((ROOT / pkg).rglob("*.py"))
                if (hits := engine_names(f.read_text(encoding="utf-8")))}
    assert not offences, f"only targets/ and sut/ may name the reference engine's backends or failpoints: {offences}"


@pytest.mark.parametrize("name", sut.BACKENDS)
def test_the_reference_targets_declare_the_primitive_calls_the_engine_makes(name):
    """What the fault machine aims primitive faults at is what the engine calls (measured again here): a
    change to the engine's calls must change the table, or faults would aim at calls that never happen."""
    assert dict(load(name).primitives) == measure(name)


def test_targets_are_found_through_the_entry_points():
    found = registered()
    assert {"lmdb", "rocksdb", "lance", "memory"} <= set(found)
    assert found["lmdb"] is reference.LMDB and load("targets.reference:LANCE") is reference.LANCE
    assert all(isinstance(t, Target) for t in found.values())
    assert not getattr(found["memory"], "default", True), "the worked example is not in default runs"
    with pytest.raises(KeyError, match="no target named"):
        load("no_such_engine")


def test_each_reference_target_offers_what_its_backend_has():
    lance, kv = load("lance"), load("lmdb")
    assert lance.capabilities.versions and not kv.capabilities.versions
    assert "I7 manifest tracks HEAD" in invariants_on(lance.capabilities)
    assert "I7 manifest tracks HEAD" not in invariants_on(kv.capabilities)
    assert set(kv.mutants) == {m for m, e in sut.MUTANTS.items() if "lmdb" in e.backends}
    # A scenario's interleaving runs in the paused call's own thread; a race whose fixed engine waits there
    # on a lock the paused call holds is replayed by a threaded test instead (tests/test_interleavings.py).
    named = {s.name for s in kv.scenarios}
    assert all(kv.mutants[m].scenario in named or sut.MUTANTS[m].races for m in kv.mutants)
    assert [m for m in kv.mutants if kv.mutants[m].scenario is None] == ["reconcile_without_ddl_lock"]


class _Closed:
    """Stands in for an engine only to build a machine class: nothing is ever opened."""


BARE = SimpleTarget(name="bare", opener=lambda *a: _Closed(), capabilities=Capabilities())


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_a_missing_capability_switches_its_rules_off():
    """A target with no branches, indexes, maintenance, workers or faults of its own: those rules are off
    by precondition (never drawn), the fault rules are not there at all, and the drawn operations and bad
    inputs name only what it has."""
    cls = fault_machine.machine_for(BARE)
    state = cls()  # nothing opened yet: only its initializers open the engine
    shutil.rmtree(state.dir)
    rules = {n: getattr(cls, n) for n in dir(cls) if getattr(getattr(cls, n), "hypothesis_stateful_rule", None)}
    off = {n for n, r in rules.items()
           if not all(p(state) for p in r.hypothesis_stateful_rule.preconditions)}
    assert {"create_branch", "delete_branch", "create_index", "find", "optimize", "cleanup", "add_worker",
            "maintenance_inside_first_write", "first_write_inside_cleanup"} <= off
    assert not [n for n in rules if n.startswith("fault_in_")], "fault rules with nothing to draw from"
    assert "arm_primitives" not in rules
    ops = machine.any_op(BARE.capabilities)
    assert all(op[0] not in ("create_branch", "create_index", "find") for op in
               (ops.example() for _ in range(50)))


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_the_printed_fault_names_the_failpoint_the_action_and_the_operation():
    cls = fault_machine.machine_for("lmdb")
    fault = cls.fault_in_ddl.hypothesis_stateful_rule.arguments_strategies["fault"]  # type: ignore[attr-defined]
    drawn = [fault.example() for _ in range(60)]
    for op, action, *rest in drawn:
        assert op in ("create_table", "drop_table", "create_index")
        if action == "primitive":
            assert (rest[0], rest[1]) in load("lmdb").primitives[op] and rest[2] in (1, 2)
        else:
            assert action in ("crash", "error") and CATALOGUE[rest[0]].operation == op


def test_a_failed_check_carries_its_verdict():
    e = fail("I9 no wedge", "locks held between calls: ('ddl',)")
    assert isinstance(e, CheckFailed) and isinstance(e, AssertionError)
    assert str(e).startswith("I9 no wedge: ")
    check = classify(e)
    assert (check.invariant, check.klass, check.ok) == ("I9 no wedge", "liveness", False)
    assert classify(InvalidName("x")).klass == "harness"  # anything but a check is the suite's problem


@pytest.mark.parametrize("module", ["machine", "fault_machine", "crashcheck"])
def test_every_check_of_the_machines_raises_a_verdict_not_a_bare_assert(module):
    """A bare `assert` carries no Check: the kill matrix and stress would call its finding a harness
    failure. Every check in the machines and the crash check goes through harness.invariants.require/fail."""
    import ast
    tree = ast.parse((ROOT / "harness" / f"{module}.py").read_text(encoding="utf-8"))
    bare = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert not bare, f"harness/{module}.py has bare asserts at lines {bare}"
