"""Target definitions: the engines the suite verifies, each through the `harness.target.Target` seam.

- `targets.reference`: the reference engine of `sut/`, one target per backend (lmdb, rocksdb, lance),
  with its failpoints, primitives, known-bug mutants and seed scenarios;
- `targets.memory`: a small file-backed engine, the worked example of docs/targets.md, with a planted bug.

They are registered under the entry-point group `ghostcheck.targets` (pyproject.toml), as a third-party
target registers its own. This package is the only place outside `sut/` that names the reference engine's
backends or failpoints (tests/test_target_seam.py keeps it so).
"""
