"""The reference engine's three backends hosted in a child process, as black-box targets: the same engine
and mutants as targets/reference.py, with no failpoint and no primitive fault. What faults them is only what
an engine nobody here wrote would get: SIGKILL in flight, between calls and inside recovery, and failing
system calls through libfiu. The kill matrix's "black-box" column is measured on them.
"""
from __future__ import annotations

from dataclasses import replace

from faults.syscalls import GROUPS
from harness.host import HostedTarget
from targets.reference import TARGETS

# A program's steps cost a round trip each, and a death a new interpreter (0.1 s on LMDB, 0.5 s on Lance).
PROGRAMS_PER_BATCH = {"lmdb": 4, "rocksdb": 3, "lance": 2}
# Lance's failing write(2) is first tokio's eventfd wake-up of its I/O driver, which no failing disk fails: the
# driver's thread panics and the call never returns (tests/surface/test_fiu_surface.py pins the panic). Its
# file writes go through the same write(2), so libfiu cannot fail them alone: Lance gets the other groups.
GROUPS_LEFT_OUT = {"lance": ("write",)}


def blackbox(name: str) -> HostedTarget:
    inner = next(t for t in TARGETS if t.name == name)
    caps = replace(inner.capabilities, failpoints=False, primitives=False, workers=True, process=True,
                   syscalls=True)
    groups = tuple(g for g in GROUPS if g not in GROUPS_LEFT_OUT.get(name, ()))
    # Its scenarios need failpoints: a mutant here is for the generic search alone.
    mutants = {n: replace(m, scenario=None) for n, m in inner.mutants.items()}
    return HostedTarget(name=f"{name}-blackbox", hosts=name, capabilities=caps, mutants=mutants,
                        programs_per_batch=PROGRAMS_PER_BATCH[name], syscall_groups=groups)


LMDB, ROCKSDB, LANCE = (blackbox(t.name) for t in TARGETS)
BLACKBOX = (LMDB, ROCKSDB, LANCE)
