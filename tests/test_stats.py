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


def test_t_quantiles_match_published_tables():
    from chainmark.stats import t975

    assert t975(1) == pytest.approx(12.7062, abs=1e-4)
    assert t975(10) == pytest.approx(2.2281, abs=1e-4)
    assert t975(40) == pytest.approx(2.0211, abs=2e-4)
    assert t975(120) == pytest.approx(1.9799, abs=2e-4)
    assert t975(2.5) == pytest.approx((4.3027 + 3.1824) / 2, abs=1e-4)


def test_paired_ratio_interval_cancels_drift_that_hits_both():
    from chainmark.stats import ratio_interval

    # Each round drifts (1.0, 1.5, 2.0 s) but B is always 10 % slower than A.
    a = [1.0, 1.5, 2.0]
    b = [1.1, 1.65, 2.2]
    paired = ratio_interval(a, b, paired=True)
    assert paired is not None and paired.ratio == pytest.approx(1.1)
    assert paired.low == pytest.approx(1.1) and paired.significant
    unpaired = ratio_interval(a, b, paired=False)
    assert unpaired is not None and not unpaired.significant  # drift swamps it unpaired


def test_ratio_interval_needs_two_values_and_positive_samples():
    from chainmark.stats import ratio_interval

    assert ratio_interval([1.0], [2.0], paired=True) is None
    assert ratio_interval([1.0, 0.0], [2.0, 1.0], paired=True) is None
    same = ratio_interval([1.0, 1.2, 0.9, 1.1], [1.1, 1.0, 1.2, 0.9], paired=False)
    assert same is not None and same.low < 1 < same.high and not same.significant
