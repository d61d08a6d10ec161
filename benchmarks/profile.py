"""Where a stateful step's time goes: the fault machine (or the differential one) under cProfile on one
backend, a few hundred steps, summarised as exclusive time per layer (Hypothesis, harness, model, engine,
backend adapter, store library, file system) and inclusive time of the harness's main phases.

    python -m benchmarks.profile lance --examples 4 [--kind differential] [--top 25]

The README's notes on the slowest part per backend come from this."""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
from collections import Counter
from typing import Any

from benchmarks import machines

# (substring of the file name or of a built-in's name, layer): first match wins.
LAYERS = [
    ("/hypothesis/", "hypothesis"), ("/tests/", "harness (tests/)"), ("/model/", "model"),
    ("/faults/", "faults"), ("/sut/backends/", "backend adapter"), ("/sut/", "engine"),
    ("/lance/", "store library"), ("/pyarrow/", "store library"), ("Environment", "store library"),
    ("Transaction", "store library"), ("Cursor", "store library"), ("Rdict", "store library"),
    ("rocksdict", "store library"), ("WriteBatch", "store library"), ("_lib.", "store library"),
    ("list_cf", "store library"), ("method commit>", "store library"), ("method create>", "store library"),
    ("_write_dataset", "store library"),
    ("shutil.py", "file system"), ("posix.", "file system"), ("io.open", "file system"),
    ("/json/", "json"), ("/copy.py", "copy"),
]
PHASES = [  # (file suffix, function): inclusive time of what the harness does around the engine
    ("harness/crashcheck.py", "heal_checks"), ("harness/crashcheck.py", "observe"),
    ("harness/fault_machine.py", "authority_matches_disk"), ("harness/machine.py", "authority_matches_disk"),
    ("harness/machine.py", "observable_state_matches"), ("sut/__init__.py", "open_database"),
    ("sut/engine/database.py", "inventory"), ("model/possible.py", "ok"), ("model/possible.py", "failed"),
    ("hypothesis/internal/conjecture/data.py", "draw"), ("shutil.py", "copytree"), ("shutil.py", "rmtree"),
]


def layer(func: tuple[str, int, str]) -> str:
    filename, _line, name = func
    where = filename + " " + name
    return next((label for key, label in LAYERS if key in where), "python (other)")


def summarise(prof: cProfile.Profile) -> dict[str, Any]:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.values())
    by_layer: Counter[str] = Counter()
    top: dict[str, Counter[str]] = {}
    for func, (_cc, _nc, tt, _ct, _callers) in stats.items():
        by_layer[layer(func)] += tt
        top.setdefault(layer(func), Counter())[f"{func[0].rsplit('/', 1)[-1]}:{func[2]}"] += tt
    phases = {}
    for suffix, name in PHASES:
        ct = sum(v[3] for f, v in stats.items() if f[0].endswith(suffix) and f[2] == name)
        if ct:
            phases[f"{suffix}:{name}"] = ct
    return {"total": total, "layers": by_layer.most_common(), "phases": phases,
            "top": {k: [name for name, _t in v.most_common(3)] for k, v in top.items()}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    p.add_argument("backend", choices=("lmdb", "rocksdb", "lance"))
    p.add_argument("--kind", choices=tuple(machines.KINDS), default="faults")
    p.add_argument("--examples", type=int, default=10)
    p.add_argument("--top", type=int, default=0, help="also print the top N functions by exclusive time")
    args = p.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="ghostcheck-profile-")
    try:
        cls = machines.make(args.kind, args.backend, workdir, tag="Profile")
        prof = cProfile.Profile()
        prof.enable()
        r = machines.run(cls, machines.config(args.examples))
        prof.disable()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    s = summarise(prof)
    print(f"{args.kind} machine on {args.backend}: {r['steps']} steps in {r['seconds']:.1f} s "
          f"({r['steps'] / r['seconds']:.1f} steps/s under the profiler)")
    print("\nexclusive time by layer:")
    for name, t in s["layers"]:
        print(f"  {name:20s} {t:7.2f} s  {100 * t / s['total']:5.1f} %   {', '.join(s['top'][name])}")
    print("\ninclusive time of the main phases (they nest):")
    for name, t in sorted(s["phases"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:55s} {t:7.2f} s  {100 * t / s['total']:5.1f} %")
    if args.top:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
