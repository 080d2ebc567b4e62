"""Paired timing: every candidate runs once per round, in rotating order, so load spikes hit them all alike.

Warm-up calls are excluded; figures are medians over rounds; a ratio between two candidates is the median of
their per-round ratios (paired), which is far steadier on a shared machine than a ratio of two medians.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Dict, List, Mapping, Optional

__all__ = ["paired_rounds", "median", "paired_ratio"]


def paired_rounds(calls: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 2,
                  should_stop: Optional[Callable[[], bool]] = None, burst: int = 1) -> Dict[str, List[float]]:
    """Seconds per call of each candidate over `rounds` interleaved rounds, after `warmup` calls each.

    With `burst` > 1 a candidate's turn in a round is one untimed call, which refills the caches the previous
    candidate evicted (a ResNet-50 flushes a small net's weights), then `burst` timed calls whose median is
    that round's value: steady-state latency, still paired round by round.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if burst < 1:
        raise ValueError(f"burst must be >= 1, got {burst}")
    names = list(calls)
    for name in names:
        for _ in range(max(0, warmup)):
            calls[name]()
    out: Dict[str, List[float]] = {n: [] for n in names}
    for r in range(rounds):
        if should_stop is not None and should_stop():
            break
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if burst > 1:
                calls[name]()
            times = []
            for _ in range(burst):
                t0 = time.perf_counter()
                calls[name]()
                times.append(time.perf_counter() - t0)
            out[name].append(float(statistics.median(times)))
    return out


def median(values: List[float]) -> float:
    """The median (NaN for no values)."""
    return float(statistics.median(values)) if values else float("nan")


def paired_ratio(a: List[float], b: List[float]) -> float:
    """Median over rounds of a[i] / b[i] (NaN when there is nothing to pair)."""
    pairs = [x / y for x, y in zip(a, b) if y > 0]
    return median(pairs)
