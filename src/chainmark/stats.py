"""Summary statistics for a list of measurements."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

BOOTSTRAP_RESAMPLES = 2000
# Fixed so that summarising the same samples twice gives the same interval.
BOOTSTRAP_SEED = 20261125


class Summary(BaseModel):
    count: int
    total: float
    min: float
    max: float
    mean: float
    std: float  # sample standard deviation (ddof=1); 0 for a single value
    p50: float
    p90: float
    p99: float
    ci95_low: float
    ci95_high: float


def summarize(values: Sequence[float]) -> Summary | None:
    """Returns None for no values: an empty sample has no statistics, not zeros."""
    if len(values) == 0:
        return None
    data = np.asarray(values, dtype=float)
    low, high = bootstrap_mean_ci(data)
    p50, p90, p99 = np.percentile(data, [50, 90, 99])
    return Summary(
        count=int(data.size),
        total=float(data.sum()),
        min=float(data.min()),
        max=float(data.max()),
        mean=float(data.mean()),
        std=float(data.std(ddof=1)) if data.size > 1 else 0.0,
        p50=float(p50),
        p90=float(p90),
        p99=float(p99),
        ci95_low=low,
        ci95_high=high,
    )


def bootstrap_mean_ci(data: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean.

    With fewer than two values there is nothing to resample; the interval collapses to the
    value itself, which the report shows as it is rather than inventing a spread.
    """
    if data.size < 2:
        value = float(data.mean())
        return value, value
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, data.size, size=(BOOTSTRAP_RESAMPLES, data.size))
    means = data[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)
