"""The flat figures of a run as CSV, for a spreadsheet or a notebook: one row per (scenario,
contestant, model, level, round, metric).

`level` is the concurrency level of a concurrent scenario's run (empty otherwise, as
`chainmark.rounds` keys a figure); `round` is the record's interleaved round as results.json
stores it (0-based). Every statistic is the record's `Summary` of that metric, at full
precision; `unit` is the report's (`formats.unit_of`: s, docs/s, %, or empty for a count);
`server_s_mean` and `overhead_s_mean` are the record's mean server time and client overhead
per operation, where the server's log gave them. A record that produced no figure (failed,
crashed, timed out) still gets one row, with its status and empty figures; not-implemented
records, which never have one, get none.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, TextIO

from chainmark.formats import unit_of
from chainmark.harness.records import RunResults, ScenarioRecord, Status
from chainmark.rounds import key_of

FIELDS = ("scenario", "contestant", "model", "level", "round", "metric", "status", "count",
          "mean", "std", "min", "p50", "p90", "p99", "max", "ci95_low", "ci95_high", "unit",
          "server_s_mean", "overhead_s_mean")
STATISTICS = ("count", "mean", "std", "min", "p50", "p90", "p99", "max", "ci95_low",
              "ci95_high")


def _mean_of(record: ScenarioRecord, metric: str) -> float | None:
    s = record.metrics.get(metric)
    return s.mean if s is not None else None


def figure_rows(results: RunResults) -> list[dict[str, Any]]:
    """The CSV's rows, values as Python objects (None for an empty cell), in record order."""
    rows = []
    for record in results.records:
        if record.status is Status.NOT_IMPLEMENTED:
            continue
        common = {
            "scenario": record.scenario, "contestant": record.contestant,
            "model": record.model, "level": key_of(record).level,
            "round": getattr(record, "round", None), "status": record.status.value,
            "server_s_mean": _mean_of(record, "server_s"),
            "overhead_s_mean": _mean_of(record, "overhead_s"),
        }
        if not record.metrics:
            rows.append({**dict.fromkeys(FIELDS), **common})
            continue
        for metric, s in record.metrics.items():
            rows.append({**common, "metric": metric, "unit": unit_of(metric),
                         **{name: getattr(s, name) for name in STATISTICS}})
    return [{k: row.get(k) for k in FIELDS} for row in rows]


def _write(f: TextIO, rows: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)


def csv_text(results: RunResults) -> str:
    """The whole CSV file as text (header first)."""
    buffer = io.StringIO()
    _write(buffer, figure_rows(results))
    return buffer.getvalue()


def write_csv(results: RunResults, path: Path) -> int:
    """Writes the figures to `path` (UTF-8, header first); returns the number of rows."""
    rows = figure_rows(results)
    with path.open("w", encoding="utf-8", newline="") as f:
        _write(f, rows)
    return len(rows)
