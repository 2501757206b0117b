"""Rounds pooled into figures, pairwise comparisons and the article's claims, over results
built here (pure functions over data: no process runs)."""

from __future__ import annotations

import pytest

from chainmark import claims, comparison, rounds
from chainmark.harness.records import ContestantInfo, RunHeader, RunResults, ScenarioRecord
from chainmark.stats import summarize

PY, GO, BASE = "langchain-python", "langchaingo", "python-baseline"


def _record(scenario: str, contestant: str, rnd: int, status: str = "passed",
            **metrics: list[float]) -> ScenarioRecord:
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, round=rnd, language="x", model="m",
        profile="quick", status=status, started_at="t", duration_s=1.0,
        metrics={k: s for k, v in metrics.items() if (s := summarize(v)) is not None},
    )


def _results(*records: ScenarioRecord) -> RunResults:
    header = RunHeader(run_id="t", started_at="t", profile="quick", command=[], llm_url="u",
                       rounds=3, contestants={
                           PY: ContestantInfo(language="python", article_side="python"),
                           BASE: ContestantInfo(language="python"),
                           GO: ContestantInfo(language="go", article_side="go")})
    return RunResults(header=header, records=list(records))


def _latency(contestant: str, per_round: list[float], overhead: list[float] | None = None,
             scenario: str = "llm.latency") -> list[ScenarioRecord]:
    out = []
    for r, v in enumerate(per_round):
        extra = {}
        if overhead is not None:
            extra = {"overhead_s": [overhead[r]] * 3, "server_s": [v - overhead[r]] * 3}
        out.append(_record(scenario, contestant, r, latency_s=[v * 0.99, v, v * 1.01],
                           **extra))
    return out


def test_a_figure_pools_its_rounds_with_a_t_interval():
    [group] = rounds.groups(_results(*_latency(GO, [1.0, 1.2, 1.1])))
    est = group.estimate("latency_s")
    assert est is not None and est.rounds == 3 and est.mean == pytest.approx(1.1)
    assert est.low < 1.1 < est.high and est.values == pytest.approx((1.0, 1.2, 1.1))


def test_drift_that_hits_both_sides_alike_still_gives_a_verdict():
    # Rounds drift 1.0 → 2.0 s, but LangChain Python is always 10 % slower than Go.
    results = _results(*_latency(PY, [1.1, 1.65, 2.2]), *_latency(GO, [1.0, 1.5, 2.0]))
    [c] = comparison.comparisons(results)
    assert (c.a, c.b) == (PY, GO)
    assert c.ratio == pytest.approx(1 / 1.1)
    assert c.faster == GO and c.word == "langchaingo 1.10× faster"


def test_overlapping_rounds_are_no_significant_difference():
    results = _results(*_latency(PY, [1.0, 1.3, 1.1]), *_latency(GO, [1.2, 1.0, 1.25]))
    [c] = comparison.comparisons(results)
    assert c.faster is None and c.word == comparison.NO_DIFFERENCE


def test_a_difference_overhead_does_not_explain_is_labelled_model_side():
    # Go is 70 ms slower end to end, but its overhead is 1 ms lower: the model's side.
    py = _latency(PY, [1.00, 1.01, 0.99], overhead=[0.005, 0.005, 0.005])
    go = _latency(GO, [1.07, 1.08, 1.06], overhead=[0.004, 0.004, 0.004])
    [c] = comparison.comparisons(_results(*py, *go))
    assert c.faster == PY
    assert c.cause is not None and c.cause.startswith("model/server side")
    explained = comparison.comparisons(_results(
        *_latency(PY, [1.0, 1.01, 0.99], overhead=[0.2, 0.21, 0.19]),
        *_latency(GO, [0.8, 0.81, 0.79], overhead=[0.0, 0.01, 0.0])))[0]
    assert explained.cause == "framework overhead"


def test_rates_compare_the_right_way_round_and_failures_are_left_out():
    py = [_record("rag.embed", PY, r, docs_per_s=[v]) for r, v in enumerate([10, 11, 10.5])]
    go = [_record("rag.embed", GO, r, docs_per_s=[v]) for r, v in enumerate([20, 22, 21])]
    base = [_record("rag.embed", BASE, 0, status="failed", docs_per_s=[5.0])]
    [c] = comparison.comparisons(_results(*py, *go, *base))
    assert c.faster == GO and c.ratio == pytest.approx(2.0)


def test_claims_give_a_verdict_for_every_published_figure():
    results = _results(*_latency(PY, [1.2, 1.19, 1.21]), *_latency(GO, [1.0, 1.0, 1.01]))
    found = {(c.scenario, c.metric): c for c in claims.claims(results)}
    latency = found[("llm.latency", "latency_s")]
    # The article: Python 1.19076 s ÷ Go 0.9992 s = 1.19; measured 1.20.
    assert latency.article == pytest.approx(1.19076 / 0.9992)
    assert latency.low <= latency.article <= latency.high
    assert latency.verdict == claims.REPRODUCED
    assert found[("llm.ttft", "ttft_s")].verdict == claims.NOT_MEASURABLE
    # Every published figure of the spec has a row.
    from chainmark.scenarios import SCENARIOS
    assert len(found) == sum(len(s.published) for s in SCENARIOS)


@pytest.mark.parametrize(
    ("python", "go", "verdict"),
    [
        ([1.2, 1.19, 1.21], [1.0, 1.0, 1.01], claims.REPRODUCED),
        ([3.0, 3.1, 2.9], [1.0, 1.0, 1.01], claims.DIRECTION_ONLY),
        ([1.0, 1.1, 0.95], [1.0, 1.05, 1.0], claims.NOT_REPRODUCED),
        ([0.8, 0.81, 0.79], [1.0, 1.0, 1.01], claims.NOT_REPRODUCED),
        ([1.2], [1.0], claims.NOT_MEASURABLE),
    ],
)
def test_claim_verdicts(python, go, verdict):
    results = _results(*_latency(PY, python), *_latency(GO, go))
    found = next(c for c in claims.claims(results) if c.scenario == "llm.latency")
    assert found.verdict == verdict, found
