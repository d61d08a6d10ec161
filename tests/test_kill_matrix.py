"""The mutant kill matrix: every known-bug mutant of every chosen target must be killed on it,
by its named seed scenario and by the generic stateful search, through an invariant (never only by the
harness crashing). The matrix is written to reports/runs/<run>/mutants.json.

Budgets: the generic search runs in `make test` on LMDB (opening and writing cost well under a millisecond
there); on RocksDB (an open costs ~60 ms, and the machine reopens constantly) and Lance (~30 ms a write)
the same search needs minutes per mutant, so it runs in the stress profile (`-m stress`)."""
from __future__ import annotations

import pytest

import sut
from harness.kill import by_machine, by_scenario, record

BUDGET = {"lmdb": 400, "rocksdb": 300, "lance": 120}  # programs of the fault machine per mutant (others: 200)


def _applicable(target):
    return sorted(target.mutants)


def test_every_seed_bug_class_has_a_mutant():
    assert len(sut.MUTANTS) >= 17  # the seventeen classes of DESIGN.md section 4
    for m in sut.MUTANTS.values():
        assert m.seed and m.invariant.startswith("I") and m.swaps and m.backends


def test_named_scenarios_kill_every_mutant(target):
    rows, survivors = [], []
    for name in _applicable(target):
        if target.mutants[name].scenario is None:
            continue  # no scenario re-creates it: the generic search alone must
        result = by_scenario(name, target)
        rows.append({"mutant": name, "backend": target.name, "search": "scenario", **result})
        if result["killed"] is not True or result["klass"] == "harness":
            survivors.append((name, result["detail"]))
    record(rows)
    assert not survivors, f"mutants the named scenarios did not kill on {target.name}: {survivors}"


# A race mutant dies only where a drawn interleaving lands in its window, with no fault in force then
# (an error no fault explains is the finding): after 4 to 993 programs on LMDB (docs/kill-matrix.md), so
# it gets RACE_FACTOR times the budget, and on LMDB a test of its own below.
RACE_FACTOR = 5


def _races(target):
    return [n for n in _applicable(target) if sut.MUTANTS.get(n) is not None and sut.MUTANTS[n].races]


def _generic(target, shrink, names, budget, search="stateful", without=()):
    rows, survivors = [], []
    for name in names:
        result = by_machine(name, target, budget(name), shrink=shrink, without=without)
        rows.append({"mutant": name, "backend": target.name, "search": search, **result})
        print(f"{name} on {target.name} ({search}): {result}")
        if not result["killed"] or result.get("klass") == "harness":
            survivors.append((name, result.get("invariant"), result.get("detail")))
    record(rows)
    assert not survivors, f"mutants the {search} search did not kill (or only the harness did): {survivors}"


def _budget(target):
    base = BUDGET.get(target.name, 200)
    return lambda name: base * (RACE_FACTOR if name in _races(target) else 1)


@pytest.mark.backend_only("lmdb", "memory")
def test_generic_search_kills_every_mutant(target):
    """Time to the first kill (the stress run also shrinks: shrunk length). The race mutants are the next
    test's, with the hand-written interleavings off: a stronger claim."""
    _generic(target, False, [n for n in _applicable(target) if n not in _races(target)], _budget(target))


@pytest.mark.stress
@pytest.mark.timeout(4 * 3600)  # up to 18 mutants, each searched then shrunk (bounded): not the usual 10 min
def test_generic_search_kills_every_mutant_with_shrinking(target):
    _generic(target, True, _applicable(target), _budget(target))


def test_the_engine_without_mutants_is_not_killed(target, tmp_path):
    """The same searches on the unmutated engine find nothing (the fault machine and scenarios already run
    in their own tests; here one mutant-free scenario sweep as the control)."""
    from harness.crashcheck import trial
    if not target.scenarios:
        pytest.skip(f"{target.name} has no scenarios")
    scenario = target.scenarios[0]
    _fired, verdict = trial(target, str(tmp_path), scenario.program, scenario.plan)
    assert verdict == "ok"


def test_a_shrunk_programs_length_counts_every_rule_step():
    """Rules that return a value print as `x = state.rule(...)`; initializers and the checks Hypothesis
    runs after each step are not steps of the program."""
    from harness.printed import program_length
    failure = AssertionError("I9 no wedge")
    failure.add_note("\n".join([
        "Falsifying example:", "state = Mutant()", "branches_0 = state.main_branch()",
        "tables_0 = state.open(indexed=[])", "state.authority_matches_disk()", "state.observable_state_matches()",
        "tables_1 = state.create_table(indexed=[], name='u', w=0)", "state.authority_matches_disk()",
        "branches_1 = state.create_branch(name='b', parent=branches_0, w=0)",
        "state.fault_in_ddl(attr='a', fault=('create_index', 'error', 'index.after_stores'), new_table='t', "
        "recovery=None, table=tables_0, w=0)",
        "state.teardown()"]))
    assert program_length(failure) == 3


# The black-box column: the same generic search on the engine hosted in a child, faulted only from outside
# (SIGKILL in flight, between calls and in recovery; failing system calls). A death costs a new interpreter,
# so the budgets are smaller than the in-process ones (docs/kill-matrix.md gives the seconds).
BLACKBOX_BUDGET = {"lmdb": 150, "rocksdb": 60, "lance": 25}


@pytest.mark.stress
@pytest.mark.timeout(4 * 3600)
def test_blackbox_search_column(backend):
    """Measured, not required: a mutant whose bug needs an interleaving or a fault only a failpoint can make
    (a crash between two steps no system call separates, a callback inside a sweep) may survive here, and
    the matrix says which. What is required: a kill is an invariant's, never the harness's."""
    from harness.host import stop_standbys
    from harness.targets import load
    target = load(f"{backend}-blackbox")
    harness_kills = []
    try:
        for name in _applicable(target):
            result = by_machine(name, target, BLACKBOX_BUDGET[backend], shrink=True)
            record([{"mutant": name, "backend": target.name, "search": "black-box", **result}])  # each as it
            print(f"{name} on {target.name}: {result}")                                         # ends: minutes
            if result.get("klass") == "harness":
                harness_kills.append((name, result.get("detail")))
    finally:
        stop_standbys()
    assert not harness_kills, f"mutants only the harness killed: {harness_kills}"


RACE_BUDGET = 3000  # programs per race mutant; a kill ends its search (up to 993 seen: docs/kill-matrix.md)


@pytest.mark.backend_only("lmdb")
def test_generic_interleavings_alone_kill_every_race_mutant(target):
    """The races the hand-written interleavings were written for, and one no rule was written for
    (reconcile_without_ddl_lock: two workers completing one interrupted drop), die by the generic
    families alone: harness.interleave's calls inside calls at any failpoint, harness.concurrent's calls
    at once. Each kill is an invariant's, never the harness's."""
    from harness.fault_machine import HAND_WRITTEN
    races = _races(target)
    assert {"reclaim_without_lock", "reclaim_from_sweep_start_branch_list", "reconcile_without_ddl_lock"} <= set(races)
    _generic(target, False, races, lambda _name: RACE_BUDGET, "generic interleavings alone", HAND_WRITTEN)
