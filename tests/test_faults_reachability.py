"""Every catalogued failpoint is reached on every backend where it exists, and nothing outside the
catalogue is ever hit: a tour of the lifecycle plus the crash scenarios whose recovery has steps of its own."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

import sut
from faults import FaultPlan, PointFault, SimulatedCrash
from sut.failpoints import CATALOGUE, for_backend
from faults.coverage import Coverage
from tests.engine_helpers import forge_rows
from harness.programs import LIFECYCLE


def _seeded(db):
    db.create_table("t", indexed=["x"])
    for i in range(12):
        db.put("t", f"k{i:02}", {"x": i % 2})


def _crash(db, call):
    with pytest.raises(SimulatedCrash):
        call(db)
    assert db.fault_report()["fired"], "the planned crash never fired"
    hits = db.fault_report()["hits"]
    db.abandon()
    return hits


SCENARIOS = {  # name -> (crash at, the call that crashes, what to do after reopening)
    "drop": ("drop.after_tombstone", lambda db: db.drop_table("t"), lambda db: None),
    "backfill": ("backfill.after_chunk", lambda db: db.create_index("t", "y"), lambda db: None),
    "orphan fork, healed": ("fork.before_publish", lambda db: db.put("t", "z", {}, "b"),
                            lambda db: db.put("t", "z", {}, "b")),
    "orphan fork, reclaimed": ("fork.before_publish", lambda db: db.put("t", "z", {}, "b"),
                               lambda db: db.cleanup()),
    "roll forward": ("publish.before_manifest_cas", lambda db: db.put("t", "z", {"x": 1}), lambda db: None),
    "roll back": ("write.after_store_commit", lambda db: db.put("t", "z", {"x": 1}), lambda db: None),
}


def _a_call_waiting_on_another(backend, path):
    """One create paused after its reservation, holding the DDL lock, while another worker's create runs:
    that one reaches `lock.wait`, and then waits until the first is done."""
    waiting, done = threading.Event(), []

    def inside():
        other = threading.Thread(target=lambda: done.append(db.worker().create_table("u")))
        other.start()
        assert waiting.wait(timeout=60), "the second create never reached lock.wait"
        done.append(other)
    plan = FaultPlan(points=(PointFault("create.after_reserve", "callback", hit=1, callback=inside),
                             PointFault("lock.wait", "callback", callback=waiting.set)))
    db = sut.open_database(backend, path, faults=plan)
    db.create_table("t")
    done[0].join(timeout=60)
    assert db.tables() == ["t", "u"] and ("lock.wait", 1, "callback") in db.fault_report()["fired"]
    hits = db.fault_report()["hits"]
    db.close()
    return hits


def _a_cleanup_finishing_a_drop(backend, path):
    """A drop that fails after its tombstone leaves it for the next cleanup (or open) to complete."""
    import model.errors as E
    db = sut.open_database(backend, path, faults=FaultPlan.error_at("drop.after_tombstone"))
    db.create_table("t")
    with pytest.raises(E.StorageError):
        db.drop_table("t")
    db.cleanup()
    assert db.tables() == []
    hits = db.fault_report()["hits"]
    db.close()
    return hits


def test_every_catalogued_failpoint_is_reached_and_nothing_else(backend, tmp_path):
    hits: Counter[str] = Counter()
    db = sut.open_database(backend, tmp_path / "tour")
    for op in LIFECYCLE:
        op.call(db)
    for _ in range(6):
        db.put("t", "many", {})
    db.optimize()
    hits.update(db.fault_report()["hits"])
    db.close()
    for name, (failpoint, call, after) in SCENARIOS.items():
        if backend not in CATALOGUE[failpoint].backends:
            continue
        path = tmp_path / name.replace(" ", "_").replace(",", "")
        db = sut.open_database(backend, path)
        _seeded(db)
        db.create_branch("b")
        db.close()
        hits.update(_crash(sut.open_database(backend, path, faults=FaultPlan.crash_at(failpoint)), call))
        db = sut.open_database(backend, path)
        after(db)
        hits.update(db.fault_report()["hits"])
        db.close()
    if backend == "lance":  # HEAD drift with no sidecar (a lost one): only a forged commit makes it
        db = sut.open_database(backend, tmp_path / "drift")
        _seeded(db)
        forge_rows(db, db.inventory().pins[("main", "t")][0], [(b"ghost", b"{}")])
        db.close()
        db = sut.open_database(backend, tmp_path / "drift")
        hits.update(db.fault_report()["hits"])
        db.close()
    hits.update(_a_call_waiting_on_another(backend, tmp_path / "waits"))
    hits.update(_a_cleanup_finishing_a_drop(backend, tmp_path / "tombstone"))
    coverage = Coverage()
    coverage.add(backend, {"hits": hits, "fired": []})
    assert coverage.unreached(backend) == sorted(set(for_backend(backend)) - set(hits))
    expected = set(for_backend(backend))
    assert set(hits) <= set(CATALOGUE), f"hit but not catalogued: {sorted(set(hits) - set(CATALOGUE))}"
    assert not set(hits) - expected, f"hit on {backend} but not catalogued for it: {sorted(set(hits) - expected)}"
    assert expected <= set(hits), f"never reached on {backend}: {sorted(expected - set(hits))}"


def _literal_names(node):
    """The names a `hit(...)` argument can take: a string, or a conditional of such; None if computed."""
    import ast
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_names(node.body), _literal_names(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def test_the_engine_hits_only_catalogued_failpoints_even_on_paths_no_test_takes():
    """Statically: every name that can reach a `hit(...)` call in the engine's source (each branch of a
    conditional too) is catalogued, every catalogued name appears there, and no name is computed."""
    import ast
    import pathlib
    names: set[str] = set()
    computed: list[str] = []
    for f in pathlib.Path(sut.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "hit" and node.args:
                found = _literal_names(node.args[0])
                if found is None:
                    computed.append(f"{f.name}:{node.lineno}")
                names |= found or set()
    assert not computed, f"failpoint names computed at run time escape this check: {computed}"
    assert names == set(CATALOGUE), (sorted(names - set(CATALOGUE)), sorted(set(CATALOGUE) - names))
