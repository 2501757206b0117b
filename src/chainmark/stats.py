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


# Two-sided 95 % Student t quantiles, t(0.975, df) for df = 1..30. A table rather than SciPy:
# this is the only distribution function chainmark needs, and beyond 30 degrees of freedom
# the Cornish-Fisher expansion below is accurate to better than 1e-4.
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)
_Z975 = 1.959964


def t975(df: float) -> float:
    """The 97.5th percentile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError("a t interval needs at least one degree of freedom")
    if df <= 30 and float(df).is_integer():
        return _T975[int(df) - 1]
    if df < 30:
        # Welch's df is fractional: interpolate between the neighbours.
        low = _T975[int(df) - 1]
        high = _T975[int(df)]
        return low + (high - low) * (df - int(df))
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


class RatioInterval(BaseModel):
    """B relative to A: the geometric-mean ratio and its 95 % interval."""

    ratio: float
    low: float
    high: float
    # How many pairs (rounds) or samples per side went into it, and how it was computed.
    n: int
    method: str

    @property
    def significant(self) -> bool:
        return self.low > 1.0 or self.high < 1.0


def ratio_interval(a: Sequence[float], b: Sequence[float], *, paired: bool
                   ) -> RatioInterval | None:
    """The ratio b/a with a 95 % t-interval on log ratios.

    Paired (round i of A beside round i of B, run back to back): a one-sample t-interval on
    log(b_i / a_i), so drift that hits both alike cancels. Unpaired: Welch's interval on the
    difference of mean logs. None without at least two values per side (or pairs): one value
    has no interval, and none is invented.
    """
    fa, fb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    # A ratio of times or rates needs positive values on both sides.
    if not (np.all(fa > 0) and np.all(fb > 0) and np.all(np.isfinite(fa))
            and np.all(np.isfinite(fb))):
        return None
    la, lb = np.log(fa), np.log(fb)
    if paired:
        if la.size != lb.size or la.size < 2:
            return None
        d = lb - la
        mean, se, df = float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size)), d.size - 1
        method = f"paired t on log ratios, {d.size} rounds"
        n = int(d.size)
    else:
        if la.size < 2 or lb.size < 2:
            return None
        va, vb = la.var(ddof=1) / la.size, lb.var(ddof=1) / lb.size
        mean, se = float(lb.mean() - la.mean()), float(np.sqrt(va + vb))
        df = (va + vb) ** 2 / (va**2 / (la.size - 1) + vb**2 / (lb.size - 1)) if se else 1.0
        method = f"Welch t on logs, {la.size} and {lb.size} samples"
        n = int(min(la.size, lb.size))
    half = t975(max(df, 1.0)) * se
    return RatioInterval(ratio=float(np.exp(mean)), low=float(np.exp(mean - half)),
                         high=float(np.exp(mean + half)), n=n, method=method)


class DifferenceInterval(BaseModel):
    """B − A: the mean difference and its 95 % interval, in the metric's own unit."""

    difference: float
    low: float
    high: float
    # How many pairs (rounds) or values per side went into it, and how it was computed.
    n: int
    method: str

    @property
    def significant(self) -> bool:
        return self.low > 0.0 or self.high < 0.0


def welch_difference(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float,
                     n_b: int, what: str) -> DifferenceInterval | None:
    """b − a with Welch's 95 % t-interval, from each side's mean, sample sd and count (`what`
    names the values, e.g. "round means"). None without two values per side."""
    if n_a < 2 or n_b < 2:
        return None
    va, vb = sd_a**2 / n_a, sd_b**2 / n_b
    se = float(np.sqrt(va + vb))
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1)) if se else 1.0
    mean = mean_b - mean_a
    half = t975(max(df, 1.0)) * se
    return DifferenceInterval(difference=mean, low=mean - half, high=mean + half,
                              n=min(n_a, n_b), method=f"Welch t on {what}, {n_a} and {n_b}")


def difference_interval(a: Sequence[float], b: Sequence[float], *, paired: bool,
                        what: str = "values") -> DifferenceInterval | None:
    """The difference b − a with a 95 % t-interval.

    Paired (round i of A beside round i of B, run back to back): a one-sample t-interval on
    b_i − a_i, so drift that hits both alike cancels. Unpaired: Welch's interval (`what` names
    the values in its method). None without
    at least two pairs (or two values per side), or with a value that is not finite.
    """
    fa, fb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(fa)) and np.all(np.isfinite(fb))):
        return None
    if not paired:
        return welch_difference(float(fa.mean()) if fa.size else 0.0,
                                float(fa.std(ddof=1)) if fa.size > 1 else 0.0, int(fa.size),
                                float(fb.mean()) if fb.size else 0.0,
                                float(fb.std(ddof=1)) if fb.size > 1 else 0.0, int(fb.size),
                                what)
    if fa.size != fb.size or fa.size < 2:
        return None
    d = fb - fa
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))
    half = t975(d.size - 1) * se
    return DifferenceInterval(difference=mean, low=mean - half, high=mean + half,
                              n=int(d.size), method=f"paired t on differences, {d.size} rounds")
