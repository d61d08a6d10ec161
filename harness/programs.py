"""Operation sequences shared by the fault tests, as data."""
from __future__ import annotations

from model.ops import Op

M = Op.make

# The sequence of issue 5: a table with an index, writes, a branch, writes on the branch, drop and recreate,
# branch delete, optimize, cleanup; with writes on the branch before its delete so reclaim has forks, and
# two writes to the new table on main so optimize has fragments to compact (and a publish to crash in).
LIFECYCLE = [
    M("create_table", "t", indexed=("x",)), M("put", "t", "k1", {"x": 1}), M("put", "t", "k2", {"x": 2}),
    M("create_branch", "b"), M("put", "t", "k3", {"x": 1}, branch="b"), M("drop_table", "t"),
    M("create_table", "t"), M("put", "t", "k4", {"x": 3}), M("put", "t", "k5", {"x": 3}, branch="b"),
    M("put", "t", "k6", {"x": 4}), M("delete_branch", "b"), M("optimize"), M("cleanup"),
]
