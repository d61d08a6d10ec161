"""`python -m reports`: print the latest run's summary.md; `python -m reports <run_dir>`: print that run's."""
from __future__ import annotations

import os
import sys

from reports.summary import latest_run, runs_root


def main(argv: list[str]) -> int:
    directory = argv[0] if argv else latest_run()
    if directory is None:
        print(f"no run yet: no summary.json under {runs_root()} (run `make test` or `make stress`)", file=sys.stderr)
        return 1
    path = os.path.join(directory, "summary.md")
    if not os.path.isfile(path):
        print(f"{directory}: no summary.md (not a run directory, or the run has not finished)", file=sys.stderr)
        return 1
    with open(path, encoding="utf-8") as f:
        sys.stdout.write(f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
