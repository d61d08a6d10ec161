"""Hypothesis strategies that draw fault plans swarm-style (TigerBeetle's VOPR, "swarm testing"): in each
plan most faults are off entirely and the rest get very different weights, so runs explore corners a
uniform mix never reaches. Plans are plain frozen data and print as the calls that build them."""
from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

from faults.plan import PRIMITIVES, TARGETS, FaultPlan, PointFault, PrimitiveFault

WEIGHTS = (0.02, 0.1, 0.3)


def point_faults(catalogue: Iterable[str]) -> st.SearchStrategy[PointFault]:
    """Point faults at a target's failpoints (`catalogue`: their names)."""
    names = sorted(catalogue)
    return st.builds(
        lambda name, action, how, n, p: PointFault(
            name, action, hit=n if how == "hit" else None, every=n if how == "every" else None,
            probability=p if how == "probability" else None),
        st.sampled_from(names), st.sampled_from(("crash", "error")),
        st.sampled_from(("hit", "every", "probability")), st.integers(1, 5), st.sampled_from(WEIGHTS))


def primitive_faults() -> st.SearchStrategy[PrimitiveFault]:
    return st.builds(
        lambda prim, target, every, persistent, p: PrimitiveFault(
            prim, target, every=every, persistent=persistent, probability=p),
        st.sampled_from(PRIMITIVES), st.sampled_from(TARGETS), st.none() | st.integers(2, 12), st.booleans(),
        st.none() | st.sampled_from(WEIGHTS))


def plans(catalogue: Iterable[str], max_points: int = 3, max_primitives: int = 2) -> st.SearchStrategy[FaultPlan]:
    """A swarm plan over a target's failpoints: a seed, a few point faults and a few failing primitives
    (each list often empty)."""
    return st.builds(FaultPlan, seed=st.integers(0, 2**32 - 1),
                     points=st.lists(point_faults(catalogue), max_size=max_points).map(tuple),
                     primitives=st.lists(primitive_faults(), max_size=max_primitives).map(tuple))
