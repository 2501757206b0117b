"""Statistics: checked against numpy/statistics computed independently, not against themselves."""

import statistics

import pytest

from chainmark.stats import summarize


def test_summary_matches_reference_formulas():
    values = [0.5, 0.7, 0.6, 1.9, 0.55, 0.65, 0.62, 0.58]
    s = summarize(values)
    assert s is not None
    assert s.count == len(values)
    assert s.total == pytest.approx(sum(values))
    assert s.mean == pytest.approx(statistics.fmean(values))
    assert s.std == pytest.approx(statistics.stdev(values))
    assert s.min == min(values) and s.max == max(values)
    assert s.p50 == pytest.approx(statistics.median(values))
    assert s.min <= s.p50 <= s.p90 <= s.p99 <= s.max


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    values = [float(v % 7) for v in range(50)]
    first, second = summarize(values), summarize(values)
    assert first is not None and second is not None
    assert first.ci95_low < first.mean < first.ci95_high
    assert (first.ci95_low, first.ci95_high) == (second.ci95_low, second.ci95_high)


def test_interval_narrows_with_more_samples():
    few = summarize([float(v % 5) for v in range(10)])
    many = summarize([float(v % 5) for v in range(1000)])
    assert few is not None and many is not None
    assert (many.ci95_high - many.ci95_low) < (few.ci95_high - few.ci95_low)


def test_empty_sample_has_no_statistics_and_single_value_has_no_spread():
    assert summarize([]) is None
    one = summarize([2.0])
    assert one is not None
    assert one.std == 0.0 and one.ci95_low == one.ci95_high == 2.0
