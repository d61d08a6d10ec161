"""Medians, spreads and growth exponents. Timings on a shared 2-core machine are noisy, so every figure
keeps its spread and, where two things are compared, the ratio is taken per repetition (both measured
back to back) before the median, rather than as a ratio of two medians taken minutes apart."""
from __future__ import annotations

import math
import statistics
import time
from typing import Any, Callable, Sequence


def summary(samples: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """Median, min, max and quartiles of `samples` (kept too: a reader can judge a skewed spread)."""
    xs = sorted(float(x) for x in samples)
    if not xs:
        return {"n": 0}
    q1, q3 = (statistics.quantiles(xs, n=4, method="inclusive")[::2] if len(xs) > 1 else (xs[0], xs[0]))
    r = lambda v: round(v, digits)  # noqa: E731 - local shorthand
    return {"median": r(statistics.median(xs)), "min": r(xs[0]), "max": r(xs[-1]), "q1": r(q1), "q3": r(q3),
            "n": len(xs), "samples": [r(x) for x in xs]}


def clock() -> float:
    return time.perf_counter()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = clock()
    out = fn()
    return clock() - start, out


def per_call(fn: Callable[[], Any], calls: int) -> float:
    """Seconds per call of `fn`, over `calls` back-to-back calls (one sample)."""
    start = clock()
    for _ in range(calls):
        fn()
    return (clock() - start) / calls


def growth_exponent(sizes: Sequence[float], costs: Sequence[float]) -> float | None:
    """The slope of log(cost) over log(size), least squares: ~0 flat, ~1 linear, >1 faster than linear.
    Costs that include a fixed part flatten the slope at small sizes, so the slope between the two largest
    sizes is reported beside it (`tail_exponent`)."""
    pts = [(math.log(s), math.log(c)) for s, c in zip(sizes, costs, strict=True) if s > 0 and c and c > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / den, 2) if den else None


def tail_exponent(sizes: Sequence[float], costs: Sequence[float]) -> float | None:
    return growth_exponent(sizes[-2:], costs[-2:]) if len(sizes) >= 2 else None
