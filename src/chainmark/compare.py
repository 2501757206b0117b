"""Two results files side by side, as pyperf's ``compare_to`` does: for every figure both hold,
B's value against A's, the ratio B/A with a 95 % interval, and a word.

A figure is a (scenario, contestant, model, concurrency level) as `chainmark.rounds` keys it
(the level only for a concurrent scenario), and one metric of it. A file holds one record per
round of a figure; a side's value is its passed rounds pooled.

The interval, and so the word, comes from one of two methods (`Change.method` says which):

- **Rounds** (each side has ≥ 2 passed rounds): `stats.ratio_interval` on the per-round means,
  unpaired (rounds of two files did not run back to back): Welch's t on the logs, so the
  ratio is that of the geometric means of the round means.
- **Summaries** (otherwise): each side's mean, standard deviation and count (its rounds'
  summaries pooled), and Welch's t-test on the difference of the means turned into an
  interval for the ratio of the means by *Fieller's method* with Welch–Satterthwaite degrees
  of freedom: the set of ratios r for which B − r·A is not significantly different from 0.
  It contains 1 exactly when Welch's test finds no difference at 5 %. When A's mean is not
  itself distinguishable from 0 that set is unbounded, and only the difference is judged.

Words, direction aware: for a duration (`*_s`) a ratio below 1 is "faster"; for a rate
(`*_per_s`) a ratio above 1 is; for a percentage (`*_pct`) or a count, no ratio and no speed
word, only the difference B − A, "higher" or "lower". "no significant difference" when the
interval contains 1 (or 0 for a difference); "no interval (n=1)" when a side has a single
value and no second round.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np

from chainmark.comparison import NO_DIFFERENCE, is_rate
from chainmark.harness.records import RunResults
from chainmark.rounds import Group, Key, groups
from chainmark.scenarios import BY_NAME
from chainmark.stats import ratio_interval, t975


class Verdict(StrEnum):
    FASTER = "faster"
    SLOWER = "slower"
    HIGHER = "higher"
    LOWER = "lower"
    SAME = NO_DIFFERENCE
    NO_INTERVAL = "no interval (n=1)"
    NOT_COMPARABLE = "not comparable"
    ONLY_A = "only in A"
    ONLY_B = "only in B"


class Kind(StrEnum):
    DURATION = "duration"  # lower is better
    RATE = "rate"  # higher is better
    OTHER = "other"  # a percentage or a count: a difference, no speed word


def kind_of(metric: str) -> Kind:
    if is_rate(metric):
        return Kind.RATE
    if metric.endswith("_s"):
        return Kind.DURATION
    return Kind.OTHER


@dataclass(frozen=True)
class Side:
    """One file's passed rounds of a figure's metric, pooled."""

    mean: float  # over every operation of every passed round
    std: float  # pooled: within and between rounds
    count: int  # operations (values) in all
    round_means: tuple[float, ...]  # one per passed round, in round order

    @property
    def rounds(self) -> int:
        return len(self.round_means)


@dataclass(frozen=True)
class Change:
    """B against A on one metric of one figure. `a` / `b` are None for a side that does not
    hold it (or holds no passed round of it: see `note`)."""

    scenario: str
    contestant: str
    model: str
    level: Any  # the concurrency level of a concurrent scenario, else None
    metric: str
    kind: Kind
    a: Side | None
    b: Side | None
    verdict: Verdict
    ratio: float | None = None  # B / A (durations and rates with positive means)
    low: float | None = None  # its 95 % interval
    high: float | None = None
    difference: float | None = None  # B − A (every metric)
    diff_low: float | None = None
    diff_high: float | None = None
    method: str = ""
    note: str = ""  # why not comparable, failed rounds left out, ...

    @property
    def key(self) -> Key:
        return Key(self.scenario, self.contestant, self.model, self.level)


def pool(summaries: Sequence[tuple[float, float, int]]) -> tuple[float, float, int]:
    """(mean, std, count) of several samples' (mean, std, count) taken together."""
    n = sum(c for _, _, c in summaries)
    mean = sum(m * c for m, _, c in summaries) / n
    if n < 2:
        return mean, 0.0, n
    within = sum((c - 1) * s * s for _, s, c in summaries)
    between = sum(c * (m - mean) ** 2 for m, _, c in summaries)
    return mean, math.sqrt(max(within + between, 0.0) / (n - 1)), n


def side(group: Group | None, metric: str) -> Side | None:
    if group is None:
        return None
    passed = [r for r in group.passed if metric in r.metrics]
    if not passed:
        return None
    summaries = [r.metrics[metric] for r in passed]
    mean, std, count = pool([(s.mean, s.std, s.count) for s in summaries])
    return Side(mean=mean, std=std, count=count,
                round_means=tuple(s.mean for s in summaries))


def welch(a: Side, b: Side) -> tuple[float, float, float] | None:
    """The variances of A's and B's means and Welch–Satterthwaite's degrees of freedom;
    None when a side has fewer than two values."""
    if a.count < 2 or b.count < 2:
        return None
    va, vb = a.std**2 / a.count, b.std**2 / b.count
    if va + vb == 0:
        return va, vb, float(a.count + b.count - 2)
    df = (va + vb) ** 2 / (va**2 / (a.count - 1) + vb**2 / (b.count - 1))
    return va, vb, df


def difference_interval(a: Side, b: Side) -> tuple[float, float] | None:
    """Welch's 95 % interval for B's mean − A's mean."""
    if (w := welch(a, b)) is None:
        return None
    va, vb, df = w
    half = t975(max(df, 1.0)) * math.sqrt(va + vb)
    d = b.mean - a.mean
    return d - half, d + half


def fieller(a: Side, b: Side) -> tuple[float, float] | None:
    """Fieller's 95 % interval for B's mean ÷ A's mean: every r with
    (mb − r·ma)² ≤ t²·(vb + r²·va), t from Welch's degrees of freedom. None when a side
    has a single value or the set is unbounded (A's mean not distinguishable from 0)."""
    if (w := welch(a, b)) is None:
        return None
    va, vb, df = w
    t2 = t975(max(df, 1.0)) ** 2
    ma, mb = a.mean, b.mean
    q = ma * ma - t2 * va
    if q <= 0:
        return None
    disc = ma * ma * vb + mb * mb * va - t2 * va * vb
    if disc < 0:
        return None
    root = math.sqrt(t2 * disc)
    return (ma * mb - root) / q, (ma * mb + root) / q


def _word(kind: Kind, low: float, high: float, neutral: float) -> Verdict:
    """The word for an interval around `neutral` (1 for a ratio, 0 for a difference)."""
    if low <= neutral <= high:
        return Verdict.SAME
    up = low > neutral  # B above A
    if kind is Kind.OTHER:
        return Verdict.HIGHER if up else Verdict.LOWER
    return Verdict.FASTER if up == (kind is Kind.RATE) else Verdict.SLOWER


def change(key: Key, metric: str, a_group: Group | None, b_group: Group | None) -> Change:
    kind = kind_of(metric)
    base = {"scenario": key.scenario, "contestant": key.contestant, "model": key.model,
            "level": key.level, "metric": metric, "kind": kind}
    if a_group is None or b_group is None:
        only = Verdict.ONLY_A if b_group is None else Verdict.ONLY_B
        return Change(**base, a=side(a_group, metric), b=side(b_group, metric), verdict=only)
    a, b = side(a_group, metric), side(b_group, metric)
    notes = [f"{label}: {len(g.records) - len(g.passed)} of {len(g.records)} rounds did not "
             "pass (left out)" for label, g in (("A", a_group), ("B", b_group))
             if g.passed and len(g.passed) < len(g.records)]
    if a is None or b is None:
        why = [f"{label}: {_why_missing(g, metric)}"
               for label, g, s in (("A", a_group, a), ("B", b_group, b)) if s is None]
        return Change(**base, a=a, b=b, verdict=Verdict.NOT_COMPARABLE, note="; ".join(why))
    notes += [f"{label} has a single value" for label, s in (("A", a), ("B", b))
              if s.count < 2 and not (a.rounds >= 2 and b.rounds >= 2)]
    found = Change(**base, a=a, b=b, verdict=Verdict.NO_INTERVAL, difference=b.mean - a.mean,
                   method="no interval (n=1)", note="; ".join(notes))
    positive = a.mean > 0 and b.mean > 0
    values: dict[str, Any] = {}
    if a.rounds >= 2 and b.rounds >= 2:
        diff = _welch_on(list(a.round_means), list(b.round_means))
        values.update(diff_low=diff[0], diff_high=diff[1],
                      method=f"rounds: Welch t, {a.rounds} and {b.rounds} round means")
        if kind is not Kind.OTHER and positive:
            ri = ratio_interval(a.round_means, b.round_means, paired=False)
            if ri is not None:
                values.update(ratio=ri.ratio, low=ri.low, high=ri.high,
                              method=f"rounds: {ri.method} (round means)")
    else:
        diff_interval = difference_interval(a, b)
        if diff_interval is not None:
            values.update(diff_low=diff_interval[0], diff_high=diff_interval[1],
                          method=f"summaries: Welch t, n={a.count} and {b.count}")
        if kind is not Kind.OTHER and positive:
            values["ratio"] = b.mean / a.mean
            ratio_ci = fieller(a, b)
            if ratio_ci is not None:
                values.update(low=ratio_ci[0], high=ratio_ci[1],
                              method=f"summaries: Fieller (Welch t), n={a.count} and {b.count}")
    if values.get("low") is not None:
        values["verdict"] = _word(kind, values["low"], values["high"], 1.0)
    elif values.get("diff_low") is not None:
        values["verdict"] = _word(kind, values["diff_low"], values["diff_high"], 0.0)
    return replace(found, **values)


def _welch_on(a: list[float], b: list[float]) -> tuple[float, float]:
    fa, fb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    sa = Side(float(fa.mean()), float(fa.std(ddof=1)), fa.size, tuple(a))
    sb = Side(float(fb.mean()), float(fb.std(ddof=1)), fb.size, tuple(b))
    interval = difference_interval(sa, sb)
    assert interval is not None  # two values or more a side
    return interval


def _why_missing(group: Group, metric: str) -> str:
    if not group.passed:
        statuses = sorted({r.status.value for r in group.records})
        return "/".join(statuses)
    return f"no {metric}"


def _primary(scenario: str) -> str:
    known = BY_NAME.get(scenario)
    return known.primary_metric if known else "latency_s"


def _metrics(groups_: Iterable[Group | None], metrics: Sequence[str] | None,
             all_metrics: bool, scenario: str) -> list[str]:
    if metrics:
        return list(metrics)
    if not all_metrics:
        return [_primary(scenario)]
    names: dict[str, None] = {}
    for g in groups_:
        for r in g.records if g is not None else ():
            names.update(dict.fromkeys(r.metrics))
    return list(names)


def _order(results: RunResults) -> list[str]:
    listed = list(results.header.contestants)
    return listed + sorted({r.contestant for r in results.records} - set(listed))


def _sort_key(c: Change, contestants: dict[str, int]) -> tuple:
    scenarios = list(BY_NAME)
    level = c.level
    return (scenarios.index(c.scenario) if c.scenario in scenarios else len(scenarios),
            c.scenario, c.model, contestants.get(c.contestant, len(contestants)),
            c.contestant, level is not None, level if isinstance(level, int | float) else 0,
            str(level), c.metric)


def compare(a: RunResults, b: RunResults, metrics: Sequence[str] | None = None,
            all_metrics: bool = False) -> list[Change]:
    """B against A on every figure either holds (not-implemented records left out): a
    `Change` per figure and metric, those in one file only with verdict ONLY_A / ONLY_B.

    `metrics`: only these (a figure without them is left out); else `all_metrics`: every
    metric either side recorded; else each scenario's primary metric."""
    in_a = {g.key: g for g in groups(a)}
    in_b = {g.key: g for g in groups(b)}
    found = []
    for key in {**in_a, **in_b}:
        ga, gb = in_a.get(key), in_b.get(key)
        for metric in _metrics((ga, gb), metrics, all_metrics, key.scenario):
            c = change(key, metric, ga, gb)
            if metrics and c.a is None and c.b is None and not _failed(ga, gb):
                continue  # a --metric this figure does not record
            found.append(c)
    rank = {name: i for i, name in enumerate(_order(a) + _order(b))}
    return sorted(found, key=lambda c: _sort_key(c, rank))


def _failed(*groups_: Group | None) -> bool:
    return any(g is not None and not g.passed for g in groups_)


def in_common(changes: Iterable[Change]) -> list[Change]:
    return [c for c in changes if c.verdict not in (Verdict.ONLY_A, Verdict.ONLY_B)]


# --- CSV ----------------------------------------------------------------------------------

CSV_FIELDS = ("scenario", "contestant", "model", "level", "metric", "kind",
              "a_mean", "a_std", "a_count", "a_rounds", "b_mean", "b_std", "b_count", "b_rounds",
              "ratio", "ratio_low", "ratio_high", "difference", "difference_low",
              "difference_high", "verdict", "method", "note")


def csv_rows(changes: Iterable[Change]) -> list[dict[str, Any]]:
    rows = []
    for c in changes:
        row: dict[str, Any] = {
            "scenario": c.scenario, "contestant": c.contestant, "model": c.model,
            "level": c.level, "metric": c.metric, "kind": c.kind.value,
            "ratio": c.ratio, "ratio_low": c.low, "ratio_high": c.high,
            "difference": c.difference, "difference_low": c.diff_low,
            "difference_high": c.diff_high, "verdict": c.verdict.value, "method": c.method,
            "note": c.note,
        }
        for label, s in (("a", c.a), ("b", c.b)):
            row.update({f"{label}_mean": s.mean if s else None,
                        f"{label}_std": s.std if s else None,
                        f"{label}_count": s.count if s else None,
                        f"{label}_rounds": s.rounds if s else None})
        rows.append({k: ("" if row[k] is None else row[k]) for k in CSV_FIELDS})
    return rows
