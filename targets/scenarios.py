"""The reference engine's seed incidents as data (harness.scenarios.Scenario): each is an operation
sequence plus the fault of the incident. A scenario runs on every backend whose catalogue has the failpoints
it names (harness.scenarios.runs_on): the Lance-only ones crash at steps only Lance has."""
from __future__ import annotations

import sut.failpoints  # noqa: F401 - registers the failpoint names the plans below are checked against
from faults import FaultPlan
from harness.scenarios import Scenario
from model.ops import Op

M = Op.make
SEEDS = {"ghost": "000 ghost tables (HarperDB #1246)", "index": "004 silent index gaps (HarperDB #529)",
         "fork": "001-003 Omnigraph fork/publish, optimize and recovery"}


def _rows(n: int, table: str = "t", branch: str = "main") -> tuple[Op, ...]:
    return tuple(M("put", table, f"k{i:02}", {"x": i % 3}, branch=branch) for i in range(n))


SCENARIOS = (
    Scenario("ghost table after a failed store drop", SEEDS["ghost"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (
                 M("drop_table", "t"), M("tables"), M("create_table", "t", indexed=("x",)),
                 M("put", "t", "new", {"x": 1}), M("scan", "t"), M("find", "t", "x", 1)),
             plan=FaultPlan.fail_primitive("drop", "table", calls=(1,))),
    Scenario("resurrection after restart", SEEDS["ghost"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (M("drop_table", "t"), Op("reopen", ()),
                                                                     M("tables")),
             crash="drop.after_index_stores"),
    Scenario("create over a tombstone", SEEDS["ghost"],
             (M("create_table", "t"),) + _rows(2) + (M("drop_table", "t"), M("create_table", "t"), M("scan", "t")),
             plan=FaultPlan.error_at("drop.after_tombstone")),
    Scenario("create lock leaked on error", SEEDS["ghost"],
             (M("create_table", "t", indexed=("x",)), M("create_table", "t", indexed=("x",)),
              M("create_table", "u"), M("tables")),
             plan=FaultPlan.error_at("create.after_store")),
    Scenario("same-name recreate inheriting records", SEEDS["ghost"],
             (M("create_table", "t", indexed=("x",)),) + _rows(4) + (
                 M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"), M("drop_table", "t"),
                 M("create_table", "t", indexed=("x",)), M("scan", "t"), M("scan", "t", branch="b"),
                 M("find", "t", "x", 1), M("find", "t", "x", 1, branch="b"))),
    Scenario("backfill with every 10th index put failing", SEEDS["index"],
             (M("create_table", "t"),) + _rows(12) + (M("create_index", "t", "x"), M("find", "t", "x", 1),
                                                      Op("reopen", ()), M("find", "t", "x", 1)),
             plan=FaultPlan.fail_primitive("put", "index", every=10)),
    Scenario("crash between fork and publish on a live branch", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (
                 M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"),
                 M("put", "t", "kb2", {"x": 2}, branch="b")),
             crash="fork.before_publish"),
    Scenario("branch delete failing after the authority flip", SEEDS["fork"],
             (M("create_table", "t"),) + _rows(2) + (
                 M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"), M("delete_branch", "b"),
                 M("branches"), M("put", "t", "later", {"x": 0}), M("create_branch", "b"), M("scan", "t", branch="b")),
             plan=FaultPlan.error_at("branch_delete.after_flip")),
    Scenario("recreate over an orphaned fork", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(2) + (
                 M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"), M("delete_branch", "b"),
                 M("create_branch", "b"), M("put", "t", "kb2", {"x": 2}, branch="b"), M("scan", "t", branch="b")),
             plan=FaultPlan.error_at("fork.before_publish")),
    Scenario("optimize without publish", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(6) + (
                 M("optimize"), M("put", "t", "after", {"x": 1}), M("find", "t", "x", 1), Op("reopen", ()),
                 M("put", "t", "after2", {"x": 1}))),
    Scenario("crash between compaction and publish", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(6) + (M("optimize"), M("put", "t", "a", {"x": 1})),
             crash="optimize.before_publish"),
    Scenario("roll-back drift", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (
                 M("put", "t", "k00", {"x": 2}), M("put", "t", "k01", {"x": 2})),
             crash="write.after_store_commit"),
    Scenario("interrupted roll-forward", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (M("put", "t", "z", {"x": 2}),),
             crash="publish.before_manifest_cas"),
    Scenario("two openers racing one sidecar", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (M("put", "t", "z", {"x": 2}),),
             crash="publish.before_manifest_cas", race_opener=True),
    Scenario("cleanup racing a first write", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(2) + (
                 M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"), M("scan", "t", branch="b"),
                 M("find", "t", "x", 1, branch="b")),
             during=("fork.before_publish", M("cleanup"))),
    Scenario("transient error in a first-write fork", SEEDS["fork"],
             (M("create_table", "t", indexed=("x",)),) + _rows(3) + (
                 M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"), M("scan", "t", branch="b"),
                 M("find", "t", "x", 1, branch="b"), M("put", "t", "kc", {"x": 2}, branch="b"),
                 M("scan", "t", branch="b")),
             # the fork's copy fails once: a store create or chunk put (key-value), the native branch (Lance)
             plan=FaultPlan.fail_primitive("put", "table", calls=(5,)) | FaultPlan.fail_primitive(
                 "fork", "table", calls=(1,))),
    Scenario("branch created and forked while cleanup sweeps", SEEDS["fork"],
             (M("create_table", "t"), M("create_table", "u")) + _rows(2) + _rows(2, "u") + (
                 M("create_branch", "c"), M("put", "t", "kc", {"x": 1}, branch="c"), M("delete_branch", "c"),
                 M("cleanup"), M("scan", "u", branch="b"), M("put", "u", "kb2", {"x": 2}, branch="b"),
                 M("scan", "u", branch="b")),
             # the reclaim after the delete fails, leaving a ghost of c for the sweep to reach
             plan=FaultPlan.fail_primitive("drop", "table", calls=(1,)),
             during=("cleanup.before_reclaim", (M("create_branch", "b"), M("put", "u", "kb", {"x": 1}, branch="b")))),
    Scenario("cleanup after a fork published since its last sweep", SEEDS["fork"],
             (M("create_table", "t"),) + _rows(2) + (
                 M("cleanup"), M("create_branch", "b"), M("put", "t", "kb", {"x": 1}, branch="b"), M("cleanup"),
                 M("scan", "t", branch="b"))),
)
