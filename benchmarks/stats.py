"""Small statistics shared by the benchmarks: median, quartiles, a summary dict.

Runs on these machines vary by 15-50% from one minute to the next, so every
figure we publish is a median over rounds, shown with its spread (min, max and
the interquartile range) rather than a single best or mean value.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile (inclusive method; one value is its own)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def summarize(values: Sequence[float]) -> dict[str, float | int | list[float]]:
    """A JSON-ready summary of per-round values: median, min, max, quartiles, the rounds.

    Args:
        values: one number per round (for example the mean µs/request of a round).

    Returns:
        ``{"median", "min", "max", "q1", "q3", "n", "rounds"}``; ``rounds`` keeps the raw
        values so charts can plot every round.
    """
    if not values:
        raise ValueError("summarize() needs at least one value")
    q1, median, q3 = quartiles(values)
    return {
        "median": median,
        "min": min(values),
        "max": max(values),
        "q1": q1,
        "q3": q3,
        "n": len(values),
        "rounds": [round(value, 4) for value in values],
    }
