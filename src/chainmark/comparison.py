"""Every pair of contestants on every figure they share: the ratio with a 95 % interval over
the interleaved rounds, a word (faster / slower / no significant difference), and where the
server's log allows it, whether the framework explains the difference.

Ratios pair round i of A with round i of B (they ran back to back), so drift between rounds
cancels; the interval is a t-interval on the log ratios (stats.ratio_interval).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from chainmark.harness.records import RunResults
from chainmark.rounds import Estimate, Group, groups
from chainmark.stats import RatioInterval, ratio_interval

NO_DIFFERENCE = "no significant difference"
# Below this share of an end-to-end difference, framework overhead does not explain it.
EXPLAINED_SHARE = 0.5


def is_rate(metric: str) -> bool:
    return "_per_s" in metric


def comparable(metric: str) -> bool:
    """Times and rates: a ratio means something (not percentages, counts or sizes)."""
    return is_rate(metric) or (metric.endswith("_s") and not metric.endswith("_pct"))


@dataclass(frozen=True)
class Comparison:
    scenario: str
    model: str
    level: int | None
    metric: str
    a: str
    b: str
    a_estimate: Estimate
    b_estimate: Estimate
    # B's value over A's (geometric mean of the per-round ratios), with its interval.
    interval: RatioInterval | None
    # For end-to-end times with the server's log: how B − A splits.
    overhead_difference_s: float | None = None
    server_difference_s: float | None = None

    @property
    def ratio(self) -> float:
        if self.interval is not None:
            return self.interval.ratio
        return self.b_estimate.mean / self.a_estimate.mean

    @property
    def faster(self) -> str | None:
        """Who is faster with 95 % confidence; None when it cannot be said."""
        if self.interval is None or not self.interval.significant:
            return None
        b_higher = self.interval.low > 1.0
        # A higher rate is faster; a higher time is slower.
        return self.b if b_higher == is_rate(self.metric) else self.a

    @property
    def word(self) -> str:
        if self.interval is None:
            return "no interval (fewer than 2 rounds)"
        winner = self.faster
        if winner is None:
            return NO_DIFFERENCE
        times = self.ratio if (winner == self.a) != is_rate(self.metric) else 1 / self.ratio
        return f"{winner} {times:.2f}× faster"

    @property
    def cause(self) -> str | None:
        """Whether framework overhead explains a significant end-to-end difference."""
        if self.faster is None or self.overhead_difference_s is None:
            return None
        total = self.b_estimate.mean - self.a_estimate.mean
        if total == 0:
            return None
        share = self.overhead_difference_s / total
        if share >= EXPLAINED_SHARE:
            return "framework overhead"
        return (f"model/server side: overhead explains {max(share, 0):.0%}; the server's "
                f"time differs by {self.server_difference_s * 1e3:+.1f} ms"
                if self.server_difference_s is not None else "model/server side")


def _paired(a: Group, b: Group, metric: str) -> RatioInterval | None:
    va, vb = a.round_values(metric), b.round_values(metric)
    both = sorted(set(va) & set(vb))
    return ratio_interval([va[r] for r in both], [vb[r] for r in both], paired=True)


def _difference(a: Group, b: Group, metric: str) -> float | None:
    ea, eb = a.estimate(metric), b.estimate(metric)
    return None if ea is None or eb is None else eb.mean - ea.mean


def compare(a: Group, b: Group, metric: str) -> Comparison | None:
    ea, eb = a.estimate(metric), b.estimate(metric)
    if ea is None or eb is None or ea.mean <= 0 or eb.mean <= 0:
        return None
    end_to_end = metric == "latency_s"
    return Comparison(
        scenario=a.key.scenario, model=a.key.model, level=a.key.level, metric=metric,
        a=a.key.contestant, b=b.key.contestant, a_estimate=ea, b_estimate=eb,
        interval=_paired(a, b, metric),
        overhead_difference_s=_difference(a, b, "overhead_s") if end_to_end else None,
        server_difference_s=_difference(a, b, "server_s") if end_to_end else None,
    )


def contestant_order(results: RunResults) -> list[str]:
    """The header's contestants in its order, then any others the records name, by name."""
    listed = list(results.header.contestants)
    return listed + sorted({r.contestant for r in results.records} - set(listed))


def comparisons(results: RunResults, metrics: list[str] | None = None) -> list[Comparison]:
    """Every pair that passed every round of the same case, on the primary metric (or the
    given ones), A before B in the run's contestant order."""
    order = {name: i for i, name in enumerate(contestant_order(results))}
    by_case: dict[tuple, list[Group]] = {}
    for group in groups(results):
        if group.all_passed:
            by_case.setdefault(group.key.case, []).append(group)
    found = []
    for members in by_case.values():
        members.sort(key=lambda g: order.get(g.key.contestant, len(order)))
        for a, b in itertools.combinations(members, 2):
            for metric in metrics or [a.primary_metric]:
                if comparable(metric) and (c := compare(a, b, metric)) is not None:
                    found.append(c)
    return found
