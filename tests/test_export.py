"""The flat figures as CSV (chainmark.export): `report --csv` and figures.csv after a run."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainmark import export
from chainmark.harness.records import (
    ContestantInfo,
    Resources,
    RunHeader,
    RunResults,
    ScenarioRecord,
    Status,
)
from chainmark.stats import summarize

CHAINMARK = [sys.executable, "-m", "chainmark.cli"]


def rec(scenario: str, contestant: str, metrics: dict[str, list[float]], *,
        status: Status = Status.PASSED, round_: int = 0,
        params: dict | None = None) -> ScenarioRecord:
    summaries = {name: s for name, values in metrics.items() if (s := summarize(values))}
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, round=round_, language="python",
        model="synthetic", profile="quick", status=status, params=params or {},
        metrics=summaries, resources=Resources(wall_s=1.0, cpu_s=0.5, peak_rss_bytes=2**20),
        started_at="2026-01-01T00:00:00Z", duration_s=1.0,
    )


def results() -> RunResults:
    header = RunHeader(run_id="run", started_at="2026-01-01T00:00:00Z", profile="quick",
                       command=["chainmark", "run"], llm_url="http://127.0.0.1:1",
                       contestants={"snake": ContestantInfo(language="python")})
    return RunResults(header=header, records=[
        rec("llm.latency", "snake", {"latency_s": [1.0, 2.0, 3.0], "server_s": [0.5, 1.0, 1.5],
                                     "overhead_s": [0.5, 1.0, 1.5]}, round_=1),
        rec("stress.concurrent_rag", "snake", {"ops_per_s": [42.0]},
            params={"concurrency": 8}),
        rec("llm.ttft", "snake", {}, status=Status.TIMEOUT),
        rec("rag.split", "snake", {}, status=Status.NOT_IMPLEMENTED),
    ])


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_header_and_one_row_per_metric():
    text = export.csv_text(results())
    assert text.splitlines()[0] == (
        "scenario,contestant,model,level,round,metric,status,count,mean,std,min,p50,p90,p99,"
        "max,ci95_low,ci95_high,unit,server_s_mean,overhead_s_mean")
    rows = read(text)
    assert [(r["scenario"], r["metric"]) for r in rows] == [
        ("llm.latency", "latency_s"), ("llm.latency", "server_s"),
        ("llm.latency", "overhead_s"), ("stress.concurrent_rag", "ops_per_s"),
        ("llm.ttft", ""),  # failed: its status, no figures; not-implemented: no row
    ]


def test_a_rows_values():
    data = results()
    rows = read(export.csv_text(data))
    latency = rows[0]
    s = data.records[0].metrics["latency_s"]
    assert latency["contestant"] == "snake" and latency["model"] == "synthetic"
    assert latency["round"] == "1" and latency["level"] == ""
    assert latency["status"] == "passed" and latency["unit"] == "s"
    assert int(latency["count"]) == 3
    for name in ("mean", "std", "min", "p50", "p90", "p99", "max", "ci95_low", "ci95_high"):
        assert float(latency[name]) == getattr(s, name)  # full precision
    assert float(latency["server_s_mean"]) == pytest.approx(1.0)
    assert float(latency["overhead_s_mean"]) == pytest.approx(1.0)
    rate = rows[3]
    assert rate["level"] == "8" and rate["unit"] == "ops/s"
    assert rate["server_s_mean"] == "" and rate["overhead_s_mean"] == ""
    failed = rows[4]
    assert failed["status"] == "timeout" and failed["count"] == "" and failed["mean"] == ""


def test_write_csv(tmp_path: Path):
    path = tmp_path / "figures.csv"
    assert export.write_csv(results(), path) == 5
    assert path.read_text(encoding="utf-8") == export.csv_text(results())


def test_report_csv_through_the_cli(tmp_path: Path):
    source = tmp_path / "results.json"
    source.write_text(results().model_dump_json(indent=2), encoding="utf-8")
    out = tmp_path / "out" / "figures.csv"
    out.parent.mkdir()
    done = subprocess.run([*CHAINMARK, "report", str(source), "--csv", str(out)],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout.replace("\n", "")
    rows = read(out.read_text(encoding="utf-8"))
    assert len(rows) == 5 and rows[0]["metric"] == "latency_s"
    # An unwritable target is one line and exit 1, like the other report files.
    bad = subprocess.run([*CHAINMARK, "report", str(source), "--csv", str(tmp_path / "no" /
                                                                           "x.csv")],
                         capture_output=True, text=True, timeout=120, check=False,
                         env={**os.environ, "COLUMNS": "80"})
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1 and "CSV" in bad.stderr


def test_run_writes_figures_csv_beside_results(tmp_path: Path):
    out = tmp_path / "run"
    done = subprocess.run(
        [*CHAINMARK, "run", "-s", "llm.latency", "-c", "python-baseline", "--model",
         "synthetic", "--iterations", "3", "--rounds", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    rows = read((out / "figures.csv").read_text(encoding="utf-8"))
    latency = next(r for r in rows if r["metric"] == "latency_s")
    assert latency["scenario"] == "llm.latency" and latency["contestant"] == "python-baseline"
    assert latency["status"] == "passed" and int(latency["count"]) == 3
    # Beside it, the language-vs-framework view's figures (chainmark.language_view).
    view = read((out / "language.csv").read_text(encoding="utf-8"))
    mine = next(r for r in view if r["kind"] == "figure" and r["name"] == "python-baseline")
    assert mine["metric"] == "overhead_s" and float(mine["value"]) > 0
