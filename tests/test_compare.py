"""`chainmark compare A.json B.json`: B against A on every figure both files hold.

Pure-data tests build `RunResults` directly (summaries from lists with `stats.summarize`), as
tests/test_report.py does; one test runs the real CLI on two results files written here.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from chainmark import compare
from chainmark.compare import Kind, Verdict
from chainmark.harness.records import (
    ContestantInfo,
    Resources,
    RunHeader,
    RunResults,
    ScenarioRecord,
    Status,
)
from chainmark.stats import ratio_interval, summarize, t975

CONTESTANTS = {"snake": ContestantInfo(language="python"),
               "gopher-with-a-long-name": ContestantInfo(language="go")}


def rec(scenario: str, contestant: str, metrics: dict[str, list[float]] | None = None, *,
        status: Status = Status.PASSED, model: str = "synthetic", round_: int = 0,
        params: dict[str, Any] | None = None) -> ScenarioRecord:
    summaries = {}
    for name, values in (metrics or {}).items():
        s = summarize(values)
        assert s is not None
        summaries[name] = s
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, round=round_, language="python",
        model=model, profile="quick", status=status, params=params or {}, metrics=summaries,
        resources=Resources(wall_s=1.0, cpu_s=0.5, peak_rss_bytes=2**20),
        started_at="2026-01-01T00:00:00Z", duration_s=1.0,
    )


def run(records: list[ScenarioRecord], run_id: str = "run") -> RunResults:
    header = RunHeader(run_id=run_id, started_at="2026-01-01T00:00:00Z", profile="quick",
                       command=["chainmark", "run"], llm_url="http://127.0.0.1:1",
                       contestants=CONTESTANTS)
    return RunResults(header=header, records=records)


def only(changes: list[compare.Change], **match: Any) -> compare.Change:
    found = [c for c in changes if all(getattr(c, k) == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


A_TIMES = [1.00, 1.10, 0.90, 1.05, 0.95, 1.02]
HALF_TIMES = [0.50, 0.55, 0.45, 0.52, 0.48, 0.51]


def test_clearly_faster_b_on_a_duration():
    changes = compare.compare(run([rec("llm.latency", "snake", {"latency_s": A_TIMES})]),
                              run([rec("llm.latency", "snake", {"latency_s": HALF_TIMES})]))
    c = only(changes, contestant="snake")
    assert c.kind is Kind.DURATION
    assert c.verdict is Verdict.FASTER
    assert c.ratio == pytest.approx(sum(HALF_TIMES) / sum(A_TIMES))
    assert c.low is not None and c.high is not None
    assert c.low < c.ratio < c.high < 1.0
    assert "Fieller" in c.method


def test_clearly_slower_b_on_a_duration():
    changes = compare.compare(run([rec("llm.latency", "snake", {"latency_s": HALF_TIMES})]),
                              run([rec("llm.latency", "snake", {"latency_s": A_TIMES})]))
    c = only(changes, contestant="snake")
    assert c.verdict is Verdict.SLOWER
    assert c.low is not None and c.low > 1.0


def test_overlapping_samples_are_no_significant_difference():
    changes = compare.compare(
        run([rec("llm.latency", "snake", {"latency_s": [1.0, 1.2, 0.8, 1.1]})]),
        run([rec("llm.latency", "snake", {"latency_s": [1.05, 0.85, 1.15, 0.95]})]))
    c = only(changes, contestant="snake")
    assert c.verdict is Verdict.SAME
    assert c.verdict.value == "no significant difference"
    assert c.low is not None and c.high is not None and c.low < 1.0 < c.high


def test_a_higher_rate_is_faster_and_a_lower_one_slower():
    slow = run([rec("rag.embed", "snake", {"docs_per_s": [100.0, 110.0, 90.0, 105.0]})])
    fast = run([rec("rag.embed", "snake", {"docs_per_s": [200.0, 210.0, 190.0, 205.0]})])
    up = only(compare.compare(slow, fast), contestant="snake")
    assert up.kind is Kind.RATE
    assert up.metric == "docs_per_s"  # rag.embed's primary metric
    assert up.ratio == pytest.approx(2.0, rel=0.02)
    assert up.verdict is Verdict.FASTER
    assert only(compare.compare(fast, slow), contestant="snake").verdict is Verdict.SLOWER


def test_a_single_value_has_no_interval_but_a_ratio():
    changes = compare.compare(run([rec("rag.embed", "snake", {"docs_per_s": [100.0]})]),
                              run([rec("rag.embed", "snake", {"docs_per_s": [200.0]})]))
    c = only(changes, contestant="snake")
    assert c.verdict is Verdict.NO_INTERVAL
    assert c.verdict.value == "no interval (n=1)"
    assert c.ratio == pytest.approx(2.0)
    assert c.low is None and c.high is None
    assert "single value" in c.note


def test_records_in_one_file_only_are_listed_as_such():
    a = run([rec("llm.latency", "snake", {"latency_s": A_TIMES}),
             rec("llm.ttft", "snake", {"ttft_s": A_TIMES})])
    b = run([rec("llm.latency", "snake", {"latency_s": A_TIMES}),
             rec("llm.latency", "gopher-with-a-long-name", {"latency_s": A_TIMES})])
    changes = compare.compare(a, b)
    assert only(changes, scenario="llm.ttft").verdict is Verdict.ONLY_A
    assert only(changes, contestant="gopher-with-a-long-name").verdict is Verdict.ONLY_B
    common = compare.in_common(changes)
    assert [(c.scenario, c.contestant) for c in common] == [("llm.latency", "snake")]


def test_percent_metrics_get_a_difference_and_no_speed_word():
    a = run([rec("ops.observability", "snake",
                 {"logging_throughput_change_pct": [-30.0, -32.0, -28.0, -31.0]})])
    b = run([rec("ops.observability", "snake",
                 {"logging_throughput_change_pct": [-3.0, -4.0, -2.0, -3.5]})])
    c = only(compare.compare(a, b), contestant="snake")
    assert c.kind is Kind.OTHER
    assert c.ratio is None
    assert c.difference == pytest.approx(-3.125 - -30.25)
    assert c.verdict is Verdict.HIGHER
    assert c.diff_low is not None and c.diff_low > 0


def test_fieller_interval_is_the_welch_test_inverted():
    a = compare.Side(mean=1.0, std=0.2, count=8, round_means=(1.0,))
    b = compare.Side(mean=1.3, std=0.3, count=6, round_means=(1.3,))
    low, high = compare.fieller(a, b)  # type: ignore[misc]
    va, vb, df = compare.welch(a, b)  # type: ignore[misc]
    t2 = t975(df) ** 2
    for r in (low, high):  # each end: B − r·A exactly at the 5 % threshold
        assert (b.mean - r * a.mean) ** 2 == pytest.approx(t2 * (vb + r * r * va))
    # It contains 1 exactly when Welch's t-test on B − A does not reject.
    d_low, d_high = compare.difference_interval(a, b)  # type: ignore[misc]
    assert (low <= 1 <= high) == (d_low <= 0 <= d_high)


def test_rounds_use_ratio_interval_on_round_means_unpaired():
    a_rounds = [1.00, 1.04, 0.97]
    b_rounds = [0.80, 0.83, 0.78]
    a = run([rec("llm.latency", "snake", {"latency_s": [v - 0.01, v + 0.01]}, round_=i)
             for i, v in enumerate(a_rounds)])
    b = run([rec("llm.latency", "snake", {"latency_s": [v - 0.01, v + 0.01]}, round_=i)
             for i, v in enumerate(b_rounds)])
    c = only(compare.compare(a, b), contestant="snake")
    expected = ratio_interval(a_rounds, b_rounds, paired=False)
    assert expected is not None
    assert c.a is not None and c.a.rounds == 3 and c.a.count == 6
    assert c.ratio == pytest.approx(expected.ratio)
    assert (c.low, c.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert c.method.startswith("rounds")
    assert c.verdict is Verdict.FASTER


def test_pooled_side_combines_rounds():
    a = run([rec("llm.latency", "snake", {"latency_s": [1.0, 2.0]}, round_=0),
             rec("llm.latency", "snake", {"latency_s": [3.0, 4.0, 5.0]}, round_=1)])
    b = run([rec("llm.latency", "snake", {"latency_s": [1.0]})])
    c = only(compare.compare(a, b), contestant="snake")
    assert c.a is not None
    assert c.a.count == 5
    assert c.a.mean == pytest.approx(3.0)
    assert c.a.std == pytest.approx(math.sqrt(2.5))  # std of 1..5
    assert c.a.round_means == (1.5, 4.0)


def test_concurrency_levels_are_matched_level_by_level():
    def level_run(rates: dict[int, list[float]]) -> RunResults:
        return run([rec("stress.concurrent_rag", "snake", {"ops_per_s": v},
                        params={"concurrency": level}) for level, v in rates.items()])

    a = level_run({2: [10.0, 10.5, 9.5], 8: [30.0, 31.0, 29.0]})
    b = level_run({2: [10.1, 10.4, 9.6], 8: [15.0, 16.0, 14.0], 16: [40.0, 41.0]})
    changes = compare.compare(a, b)
    assert only(changes, level=2).verdict is Verdict.SAME
    assert only(changes, level=8).verdict is Verdict.SLOWER
    assert only(changes, level=16).verdict is Verdict.ONLY_B


def test_metric_selection():
    both = {"latency_s": A_TIMES, "overhead_s": [0.01, 0.02, 0.015]}
    a = run([rec("llm.latency", "snake", both)])
    b = run([rec("llm.latency", "snake", both)])
    assert [c.metric for c in compare.compare(a, b)] == ["latency_s"]
    assert [c.metric for c in compare.compare(a, b, ["overhead_s"])] == ["overhead_s"]
    assert sorted(c.metric for c in compare.compare(a, b, all_metrics=True)) == [
        "latency_s", "overhead_s"]
    assert compare.in_common(compare.compare(a, b, ["no_such_s"])) == []


def test_a_failed_side_is_not_comparable():
    a = run([rec("llm.latency", "snake", {"latency_s": A_TIMES})])
    b = run([rec("llm.latency", "snake", status=Status.TIMEOUT)])
    c = only(compare.compare(a, b), contestant="snake")
    assert c.verdict is Verdict.NOT_COMPARABLE
    assert "B: timeout" in c.note


def test_csv_rows_carry_every_field():
    changes = compare.compare(run([rec("llm.latency", "snake", {"latency_s": A_TIMES})]),
                              run([rec("llm.latency", "snake", {"latency_s": HALF_TIMES})]))
    (row,) = compare.csv_rows(changes)
    assert tuple(row) == compare.CSV_FIELDS
    assert row["verdict"] == "faster"
    assert row["a_count"] == 6 and row["level"] == ""


# --- the real CLI -------------------------------------------------------------------------

CHAINMARK = [sys.executable, "-m", "chainmark.cli"]


def chainmark(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHAINMARK, *args], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "COLUMNS": str(columns)})


def _files(tmp_path: Path) -> tuple[Path, Path]:
    a = run([rec("llm.latency", "snake", {"latency_s": A_TIMES}),
             rec("resilience.parse_error", "gopher-with-a-long-name",
                 {"latency_s": A_TIMES}, model="synthetic-malformed:smollm2-cpu"),
             rec("llm.ttft", "snake", {"ttft_s": A_TIMES})], "run-a")
    b = run([rec("llm.latency", "snake", {"latency_s": HALF_TIMES}),
             rec("resilience.parse_error", "gopher-with-a-long-name",
                 {"latency_s": [t * 1.5 for t in A_TIMES]},
                 model="synthetic-malformed:smollm2-cpu")], "run-b")
    paths = tmp_path / "a.json", tmp_path / "b.json"
    for path, results in zip(paths, (a, b), strict=True):
        path.write_text(results.model_dump_json(indent=2), encoding="utf-8")
    return paths


@pytest.mark.parametrize("columns", [80, 200])
def test_cli_compare(tmp_path: Path, columns: int):
    a, b = _files(tmp_path)
    out = tmp_path / "changes.csv"
    done = chainmark("compare", str(a), str(b), "--csv", str(out), columns=columns)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for word in ("llm.latency", "resilience.parse_error", "snake", "gopher-with-a-long-name",
                 "synthetic-malformed:smollm2-cpu", "faster", "slower", "only in A"):
        assert word in text
    assert all(cell_len(line) <= columns for line in text.splitlines())
    assert "…" not in text
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["verdict"] for r in rows} == {"faster", "slower", "only in A"}


def test_cli_compare_errors_are_one_line_and_exit_2(tmp_path: Path):
    a, _ = _files(tmp_path)
    other = tmp_path / "other.json"
    other.write_text(run([rec("rag.embed", "snake", {"docs_per_s": [1.0]})]).model_dump_json())
    for args, says in (
        ([str(a), str(tmp_path / "missing.json")], "cannot read"),
        ([str(a), str(tmp_path)], "cannot read"),
        ([str(a), str(other)], "no figure in common"),
        ([str(a), str(a), "--metric", "latency_s", "--all-metrics"], "exclude each other"),
    ):
        done = chainmark("compare", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], done.stderr
        assert "Traceback" not in done.stderr
