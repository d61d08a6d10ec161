"""Swarm plans drive the engine: the lifecycle sequence under a plan drawn by faults.strategies.plans (a few
point faults by hit, every-nth or probability, a few failing primitives, most kinds off) must always heal to
a possible model state with every invariant holding. Several faults in one run reach what single-fault
enumeration cannot: an error, then a crash in the recovery of what the error left."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from faults.strategies import plans as swarm_plans
from harness.crashcheck import trial
from harness.programs import LIFECYCLE
from sut.failpoints import for_backend

EXAMPLES = {"lmdb": 200, "rocksdb": 30, "lance": 24}  # CI: sized to the cost of a trial on each backend


def plans(backend: str):  # type: ignore[no-untyped-def]
    """Swarm plans over the backend's failpoints. (The derandomized CI sample depends on the text of the
    test below: with ~30% of plans firing, one in ten samples of 24 has fewer than 4 that fire.)"""
    return swarm_plans(for_backend(backend))


def test_the_lifecycle_heals_under_swarm_plans(backend, tmp_path):
    runs: list[int] = []
    current = settings()
    # Another profile (nightly) scales its own count by the backend's cost, as the CI counts are.
    examples = EXAMPLES[backend] if current.derandomize else \
        max(EXAMPLES[backend], current.max_examples * EXAMPLES[backend] // EXAMPLES["lmdb"])

    @settings(current, max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(plan=plans(backend))
    def heals(plan):
        fired, verdict = trial(backend, str(tmp_path), LIFECYCLE, plan)
        runs.append(len(fired))
        assert verdict == "ok", f"{plan!r}: {verdict}"
    heals()
    # Swarm plans are often empty or fire by chance (every nth, probability): a fair share must fire.
    assert sum(1 for n in runs if n) >= max(1, len(runs) // 6), f"faults fired in too few runs: {runs}"
    print(f"{backend}: {len(runs)} plans, faults fired in {sum(1 for n in runs if n)}, {sum(runs)} faults")
