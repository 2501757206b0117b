"""Terminal tables read at 80 columns and when piped: no name cut, no column dropped.

Rich fits a too-wide table by shrinking columns, which cuts names ("ops.obse…") and, below
one character, empties a column (`┃┃`). chainmark's tables instead regroup (chainmark.tables);
these tests render them at several widths, to a recording console, to a piped (file)
console, and through the real `chainmark list`, and check that every scenario, contestant,
model name and status appears whole, that no column is empty, and that no line is wider than
the width.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterable

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from chainmark import report, scenarios, tables
from chainmark.contestants.registry import all_contestants
from chainmark.harness.records import (
    ContestantInfo,
    Resources,
    RunHeader,
    RunResults,
    ScenarioRecord,
    ServerSummary,
    Status,
)
from chainmark.scenarios.spec import DEFAULT_PROFILE
from chainmark.stats import summarize

LONG_MODEL = "synthetic-malformed:smollm2-cpu"
CONTESTANTS = {
    "a-framework-with-a-long-name": ContestantInfo(language="python", article_side="python"),
    "bare": ContestantInfo(language="python"),
    "gopher": ContestantInfo(language="go", article_side="go"),
}


def rec(scenario: str, contestant: str, metrics: dict[str, list[float]], *,
        status: Status = Status.PASSED, model: str = "synthetic", round_: int = 0,
        params: dict | None = None, counts: dict[str, int] | None = None,
        server: ServerSummary | None = None) -> ScenarioRecord:
    summaries = {name: s for name, values in metrics.items() if (s := summarize(values))}
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, round=round_, language="python",
        model=model, profile="quick", status=status, params=params or {},
        metrics=summaries, counts=counts or {}, server=server,
        resources=Resources(wall_s=2.0, cpu_s=12.64, peak_rss_bytes=200 * 2**20),
        started_at="2026-01-01T00:00:00Z", duration_s=2.0,
    )


def results() -> RunResults:
    records = []
    for i, name in enumerate(CONTESTANTS):
        records += [
            rec("llm.latency", name, {"latency_s": [1.1, 1.3, 1.2], "overhead_s": [0.01] * 3},
                model="smollm2:135m", round_=i % 2),
            rec("resilience.parse_error", name, {"latency_s": [10.815, 10.816]},
                model=LONG_MODEL),
            rec("stress.concurrent_agent", name, {"ops_per_s": [223.46]},
                params={"concurrency": 25}, counts={"ok": 20, "failed": 5, "failed:timeout": 5},
                server=ServerSummary(requests=10, server_s=1.0, cpu_utilisation=0.4)),
            rec("ops.observability", name, {"logging_throughput_change_pct": [-50.63]},
                params={"concurrency": 25}),
        ]
    records += [
        rec("llm.ttft", "gopher", {}, status=Status.TIMEOUT),
        rec("rag.embed", "bare", {"docs_per_s": [0.4]}, status=Status.FAILED),
        rec("agent.high_freq", "bare", {}, status=Status.CRASHED),
    ]
    header = RunHeader(run_id="20261126T013723Z", started_at="2026-01-01T00:00:00Z",
                       profile="quick", command=["chainmark", "run"],
                       llm_url="http://127.0.0.1:1", contestants=CONTESTANTS)
    return RunResults(header=header, records=records)


def render(renderable: RenderableType, width: int | None) -> str:
    """As a terminal `width` wide would show it; None: piped to a file (rich assumes 80)."""
    if width is None:
        console = Console(file=io.StringIO(), color_system=None)
        assert not console.is_terminal
        console.print(renderable)
        return console.file.getvalue()  # type: ignore[attr-defined]
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


# Two borders with nothing between them: a column rich shrank to nothing.
EMPTY_COLUMN = re.compile(r"[┃│┳┯┬╇┿┼┻┷┴][┃│┳┯┬╇┿┼┻┷┴]")


def check(text: str, width: int, names: Iterable[str]) -> None:
    lines = text.splitlines()
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, too_wide
    assert "…" not in text, text
    assert not EMPTY_COLUMN.search(text), text
    for line in lines:  # a header row: every column has a heading
        if line.startswith("┃"):
            assert all(cell.strip() for cell in line.strip().strip("┃").split("┃")), line
    missing = [n for n in names if not any(n in line for line in lines)]
    assert not missing, f"cut or missing: {missing}\n{text}"


def names_in(data: RunResults) -> set[str]:
    ran = [r for r in data.records if r.status is not Status.NOT_IMPLEMENTED]
    return ({r.scenario for r in ran} | {r.contestant for r in ran} | {r.model for r in ran}
            | {r.status.value for r in ran})


@pytest.fixture(autouse=True)
def _no_columns_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A piped console must fall back to rich's 80, not the COLUMNS of whoever runs pytest.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 160, 200, 300, None])
def test_run_table_keeps_every_name_whole(width: int | None):
    data = results()
    text = render(report.table(data), width)
    check(text, width or 80, names_in(data))
    if width is not None and width >= 80:
        # Figures are shown too, not just names: every mean and every round.
        for row in report.summary_rows(data):
            assert row.mean in text
        assert "r2" in text


def test_run_table_layouts_by_width():
    data = results()
    fit = report.table(data)
    assert isinstance(fit.choose(400), tables.Flat)  # a row per record, as before
    assert isinstance(fit.choose(200), tables.Blocks)
    assert isinstance(fit.choose(80), tables.Blocks)
    assert isinstance(fit.choose(40), tables.Lines)
    # At 80 the blocks are headed by scenario · model · metric.
    text = render(fit, 80)
    assert f"resilience.parse_error · {LONG_MODEL} · latency_s" in text


def test_print_results_at_80_and_piped():
    data = results()
    for width in (80, None):
        if width is None:
            console = Console(file=io.StringIO(), color_system=None)
        else:
            console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
        report.print_results(data, console)
        text = console.file.getvalue()  # type: ignore[attr-defined]
        check(text, 80, names_in(data))


def test_matrix_from_data_at_every_width():
    contestants = list(all_contestants(None).values())
    implemented = {c.name: frozenset({"llm.latency"}) for c in contestants}
    implemented[contestants[-1].name] = None  # cannot say: shown as "?"
    fit = tables.contestant_matrix(scenarios.SCENARIOS, contestants, implemented)
    names = ({s.name for s in scenarios.SCENARIOS}
             | {s.model_for(DEFAULT_PROFILE) for s in scenarios.SCENARIOS}
             | {c.name for c in contestants})
    for width in (50, 80, 120, 200, None):
        check(render(fit, width), width or 80, names)


# --- the real `chainmark list` -------------------------------------------------------------


def chainmark_list(columns: int | None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    done = subprocess.run([sys.executable, "-m", "chainmark.cli", "list"], capture_output=True,
                          text=True, timeout=120, check=False, env=env)  # stdout is a pipe
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("columns", [80, 200, None])
def test_chainmark_list(columns: int | None):
    text = chainmark_list(columns)
    contestants = all_contestants(None)
    names = ({s.name for s in scenarios.SCENARIOS}
             | {s.model_for(DEFAULT_PROFILE) for s in scenarios.SCENARIOS}
             | set(contestants))
    check(text, columns or 80, names)
    for c in contestants.values():  # who is who, whatever the layout
        assert f"{c.name} ({c.language})" in text
    if columns == 200:  # wide enough for a column per contestant, named
        header = next(line for line in text.splitlines() if line.startswith("┃"))
        assert all(name in header for name in contestants)
