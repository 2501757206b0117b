"""A verdict for each of the article's published figures: the same metric measured here,
LangChain Python against LangChainGo (whoever stands for the article's columns), the measured
ratio with its interval beside the article's, and one word with a reason.

Verdicts:
- reproduced: the difference is significant, in the article's direction, and the article's
  ratio lies inside the measured interval;
- direction only: significant and in the article's direction, but of another size;
- not reproduced: no significant difference, or one in the other direction;
- not measurable here: a side missing, failed, measured in one round, a figure the article
  gave for one language only, or a time that includes the model's in the article measured
  here on the zero-latency model (quick runs the agents so; seed runs them paced).

Times compare as Python ÷ Go (above 1: Go faster), rates as Go ÷ Python (above 1: Go
faster), percentage changes as Python − Go in points (the article's handler overhead).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainmark.harness.records import RunResults
from chainmark.rounds import Group, groups
from chainmark.scenarios import BY_NAME, SCENARIOS, Published
from chainmark.scenarios.spec import zero_latency
from chainmark.stats import ratio_interval, t975

REPRODUCED = "reproduced"
DIRECTION_ONLY = "direction only"
NOT_REPRODUCED = "not reproduced"
NOT_MEASURABLE = "not measurable here"


@dataclass(frozen=True)
class Claim:
    scenario: str
    metric: str
    unit: str
    # What the figure compares, e.g. "Python ÷ Go" or "Python − Go (points)".
    measure: str
    article: float | None
    measured: float | None
    low: float | None
    high: float | None
    model: str | None
    verdict: str
    reason: str
    # The concurrency level, for a concurrent scenario's run (a sweep gives one row per level).
    level: int | None = None


def _sides(results: RunResults) -> dict[str, str]:
    """article side ("python" / "go") -> contestant name."""
    return {info.article_side: name for name, info in results.header.contestants.items()
            if info.article_side}


def _group(all_groups: list[Group], scenario: str, contestant: str | None) -> list[Group]:
    return [g for g in all_groups if g.key.scenario == scenario and g.key.contestant == contestant]


def _verdict(article: float, low: float, high: float, neutral: float) -> tuple[str, str]:
    """`neutral`: the value meaning no difference (1 for ratios, 0 for differences)."""
    if low <= neutral <= high:
        return NOT_REPRODUCED, "no significant difference here"
    same_direction = (low > neutral) == (article > neutral)
    if not same_direction:
        return NOT_REPRODUCED, "significant, but the other way round"
    if low <= article <= high:
        return REPRODUCED, "same direction and size"
    bigger = "smaller" if abs(article - neutral) > abs(high - neutral) else "larger"
    return DIRECTION_ONLY, f"same direction, {bigger} than the article's"


def _claim(p: Published, scenario: str, py: Group | None, go: Group | None) -> Claim:
    percent = p.metric.endswith("_pct")
    rate = "_per_s" in p.metric
    measure = ("Python − Go (points)" if percent else "Go ÷ Python" if rate
               else "Python ÷ Go")
    article = None
    if p.python is not None and p.go is not None:
        article = (p.python - p.go if percent else p.go / p.python if rate
                   else p.python / p.go)

    def missing(reason: str) -> Claim:
        either = py or go
        return Claim(scenario, p.metric, p.unit, measure, article, None, None, None,
                     either.key.model if either else None, NOT_MEASURABLE, reason,
                     either.key.level if either else None)

    if article is None:
        return missing("the article gives one language only")
    if py is None or go is None:
        return missing("a side did not run")
    if not (py.all_passed and go.all_passed):
        return missing("a side did not pass")
    scenario_spec = BY_NAME[scenario]
    if zero_latency(py.key.model) and not zero_latency(scenario_spec.model_for("seed")):
        # The article's time includes its model's; this one has none (the overhead does).
        return missing("zero-latency model: no model time, the article's includes it")
    vp, vg = py.round_values(p.metric), go.round_values(p.metric)
    both = sorted(set(vp) & set(vg))
    if not both:
        return missing(f"{p.metric} not measured")
    if len(both) < 2:
        return missing("one round only: no interval")
    a = [vg[r] for r in both]
    b = [vp[r] for r in both]
    model = py.key.model
    if percent:
        diffs = [y - x for x, y in zip(a, b, strict=True)]
        mean = sum(diffs) / len(diffs)
        sd = (sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)) ** 0.5
        half = t975(len(diffs) - 1) * sd / len(diffs) ** 0.5
        measured, low, high, neutral = mean, mean - half, mean + half, 0.0
    else:
        # Python ÷ Go for times; Go ÷ Python for rates.
        interval = ratio_interval(a, b, paired=True) if not rate else ratio_interval(
            b, a, paired=True)
        if interval is None:
            return missing("no positive values to compare")
        measured, low, high, neutral = interval.ratio, interval.low, interval.high, 1.0
    verdict, reason = _verdict(article, low, high, neutral)
    return Claim(scenario, p.metric, p.unit, measure, article, measured, low, high, model,
                 verdict, reason, py.key.level)


def claims(results: RunResults) -> list[Claim]:
    """One claim per published figure of every scenario in the spec, in its order."""
    sides = _sides(results)
    all_groups = groups(results)
    found = []
    for scenario in SCENARIOS:
        for p in scenario.published:
            py_groups = _group(all_groups, scenario.name, sides.get("python"))
            go_groups = _group(all_groups, scenario.name, sides.get("go"))
            # Several models or levels: each pairing is its own claim row.
            pairs = [(py, go) for py in py_groups for go in go_groups
                     if py.key.case == go.key.case] or [(
                         py_groups[0] if py_groups else None,
                         go_groups[0] if go_groups else None)]
            found += [_claim(p, scenario.name, py, go) for py, go in pairs]
    return found
