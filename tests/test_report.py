"""The report: the terminal table, the Markdown report, contestants compared and claims.

These are pure functions over data, so the tests build `RunResults` / `ScenarioRecord` /
`Summary` objects directly (summaries from lists with `chainmark.stats.summarize`) and read
what is rendered; no fakes, servers or contestants are needed. The contestant names are
deliberately none of chainmark's own: the report must take whatever the header lists.
"""

from __future__ import annotations

import inspect
import io
from typing import Any

import pytest
from rich.console import Console

from chainmark import report
from chainmark.comparison import comparisons
from chainmark.harness.records import (
    ContestantInfo,
    Resources,
    RunHeader,
    RunResults,
    ScenarioRecord,
    Status,
)
from chainmark.scenarios import BY_NAME
from chainmark.stats import summarize

# Three contestants in the header's order: one per article column, one standing for neither.
THREE = {
    "py": ContestantInfo(language="python", description="stands for Python", article_side="python"),
    "bare": ContestantInfo(language="python", description="no framework"),
    "gopher": ContestantInfo(language="go", article_side="go"),
}


def rec(
    scenario: str,
    contestant: str,
    metrics: dict[str, list[float]] | None = None,
    *,
    status: Status = Status.PASSED,
    model: str = "synthetic",
    params: dict[str, Any] | None = None,
    counts: dict[str, int] | None = None,
    errors: list[str] | None = None,
) -> ScenarioRecord:
    summaries = {}
    for name, values in (metrics or {}).items():
        s = summarize(values)
        assert s is not None
        summaries[name] = s
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, language="python", model=model,
        profile="quick", status=status, errors=errors or [], params=params or {},
        metrics=summaries, counts=counts or {},
        resources=Resources(wall_s=2.0, cpu_s=1.5, peak_rss_bytes=64 * 2**20),
        started_at="2026-01-01T00:00:00Z", duration_s=2.0,
    )


def run(records: list[ScenarioRecord],
        contestants: dict[str, ContestantInfo] | None = None) -> RunResults:
    header = RunHeader(run_id="test-run", started_at="2026-01-01T00:00:00Z", profile="quick",
                       command=["chainmark", "run"], llm_url="http://127.0.0.1:1",
                       contestants=contestants or {})
    return RunResults(header=header, records=records)


def three_contestant_run() -> RunResults:
    return run([
        # Durations: py 1.2 s, bare 0.6 s, gopher 0.9 s.
        rec("llm.latency", "py", {"latency_s": [1.1, 1.3]}),
        rec("llm.latency", "bare", {"latency_s": [0.5, 0.7]}),
        rec("llm.latency", "gopher", {"latency_s": [0.8, 1.0]}),
        # Rates: py 100 docs/s, bare 50, gopher 200.
        rec("rag.embed", "py", {"docs_per_s": [100.0]}),
        rec("rag.embed", "bare", {"docs_per_s": [50.0]}),
        rec("rag.embed", "gopher", {"docs_per_s": [200.0]}),
        # A change in percent is not a ratio.
        rec("ops.observability", "py", {"logging_throughput_change_pct": [-30.0]}),
        rec("ops.observability", "gopher", {"logging_throughput_change_pct": [-3.0]}),
        # Only passed pairs are compared.
        rec("llm.ttft", "py", {"ttft_s": [0.2, 0.3]}),
        rec("llm.ttft", "gopher", {"ttft_s": [0.1, 0.1]}, status=Status.FAILED,
            errors=["wrong answer: expected 'blue'\nfull text"]),
        rec("rag.split", "gopher", status=Status.NOT_IMPLEMENTED),
    ], THREE)


def section(text: str, title: str) -> list[str]:
    """The non-blank lines of a Markdown section, its heading excluded."""
    lines = text.splitlines()
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    return [line for line in lines[start + 1:end] if line]


def md_rows(lines: list[str], first_header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header starts with `first_header`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def md_table(lines: list[str], first_header: str) -> list[dict[str, str]]:
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    headers = [cell.strip() for cell in lines[start].strip("|").split(" | ")]
    return [dict(zip(headers, row, strict=True)) for row in md_rows(lines, first_header)]


def terminal_table(results: RunResults) -> list[dict[str, str]]:
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(report.table(results))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    lines = text.splitlines()
    header = next(line for line in lines if "┃" in line)
    headers = [cell.strip() for cell in header.split("┃")[1:-1]]
    return [dict(zip(headers, (cell.strip() for cell in line.split("│")[1:-1]), strict=True))
            for line in lines if line.startswith("│")]


def test_report_module_names_no_contestant():
    source = inspect.getsource(report)
    for name in ("langchain-python", "langchaingo", "python-baseline"):
        assert name not in source


def rounds_run(model: str | None = None) -> RunResults:
    """Three rounds; gopher is always 25 % faster than py end to end, with less overhead."""
    records = []
    for rnd, scale in enumerate((1.0, 1.2, 0.9)):
        for name, latency, overhead in (("py", 1.0, 0.2), ("gopher", 0.75, 0.01)):
            r = rec("llm.latency", name, {
                "latency_s": [latency * scale] * 3,
                "overhead_s": [overhead * scale] * 3,
                "server_s": [(latency - overhead) * scale] * 3})
            records.append(r.model_copy(update={"round": rnd, "model": model or r.model}))
    results = run(records, THREE)
    results.header.rounds = 3
    return results


def test_comparisons_section_pools_rounds_with_an_interval_and_a_word():
    text = report.markdown(rounds_run())
    lines = section(text, "Contestants compared (each figure pooled over 3 rounds)")
    [row] = md_table(lines, "scenario")
    assert (row["A"], row["B"]) == ("py", "gopher")
    assert row["B ÷ A [95 %]"].startswith("0.75×")
    assert row["verdict"] == "gopher 1.33× faster"
    assert row["cause"] == "framework overhead"


def test_claims_section_lists_every_published_figure():
    text = report.markdown(rounds_run("smollm2:135m"))
    rows = md_table(section(text, "The article's claims"), "scenario")
    assert len(rows) == sum(len(s.published) for s in BY_NAME.values())
    latency = next(r for r in rows if r["scenario"] == "llm.latency")
    # py ÷ gopher = 1.33 against the article's 1.19: same direction, larger.
    assert latency["measured"] == "1.33×" and latency["verdict"] == "direction only"


def test_a_time_measured_without_model_time_is_no_verdict_on_the_articles():
    """The article's latency includes its model's; on the zero-latency model it is all
    overhead, so setting the two side by side would judge nothing."""
    rows = md_table(section(report.markdown(rounds_run("synthetic")), "The article's claims"),
                    "scenario")
    latency = next(r for r in rows if r["scenario"] == "llm.latency")
    assert latency["verdict"] == "not measurable here" and "zero-latency" in latency["why"]


def test_run_output_ends_with_one_line_per_comparison():
    console = Console(file=io.StringIO(), width=80, color_system=None)
    report.print_results(rounds_run(), console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "llm.latency · synthetic · latency_s: gopher ÷ py = 0.75×" in text.replace("\n", " ")
    assert "gopher 1.33× faster" in text


def test_published_column_follows_article_side():
    rows = {(r["scenario"], r["contestant"]): r
            for r in md_table(report.markdown(three_contestant_run()).splitlines(), "scenario")}
    assert rows[("llm.latency", "py")]["published"] == "1.191 s"  # the article's Python
    assert rows[("llm.latency", "gopher")]["published"] == "999.2 ms"  # the article's Go
    assert rows[("llm.latency", "bare")]["published"] == "-"
    assert rows[("rag.embed", "py")]["published"] == "98.00 docs/s"


def test_results_without_header_contestants_still_render():
    results = run([
        rec("llm.latency", "zeta", {"latency_s": [2.0, 2.0]}),
        rec("llm.latency", "alpha", {"latency_s": [1.0, 1.0]}),
    ])
    assert results.header.contestants == {}
    # Contestants the header does not list are ordered by name.
    [q] = comparisons(results)
    assert (q.a, q.b) == ("alpha", "zeta")
    assert q.ratio == pytest.approx(2.0)
    text = report.markdown(results)
    rows = md_table(text.splitlines(), "scenario")
    assert [(r["contestant"], r["mean"], r["published"]) for r in rows] == [
        ("zeta", "2.000 s", "-"), ("alpha", "1.000 s", "-")]
    [row] = md_table(section(text, "Contestants compared (each figure pooled over 1 round)"),
                     "scenario")
    assert (row["A"], row["B"], row["verdict"]) == (
        "alpha", "zeta", "no interval (fewer than 2 rounds)")
    assert "## Contestants\n" not in text
    assert [r["contestant"] for r in terminal_table(results)] == ["zeta", "alpha"]


def test_terminal_and_markdown_tables_show_the_same_rows():
    results = three_contestant_run()
    terminal = terminal_table(results)
    md = md_table(report.markdown(results).splitlines(), "scenario")
    shared = [c.header for c in report.COLUMNS.values()
              if c.field in report.TERMINAL_COLUMNS and c.field in report.MARKDOWN_COLUMNS]
    assert {"scenario", "contestant", "model", "status", "mean", "95% CI", "p99",
            "notes"} <= set(shared)
    for row in md:
        row["model"] = row["model"].strip("`")
    assert [{h: r[h] for h in shared} for r in terminal] == [{h: r[h] for h in shared}
                                                             for r in md]
    assert [(r["scenario"], r["contestant"], r["mean"]) for r in terminal][:3] == [
        ("llm.latency", "py", "1.200 s"), ("llm.latency", "bare", "600.0 ms"),
        ("llm.latency", "gopher", "900.0 ms")]
    failed = next(r for r in terminal if r["scenario"] == "llm.ttft" and r["contestant"] ==
                  "gopher")
    assert failed["status"] == "failed"
    # One row model: both renderers take their cells from the same SummaryRow.
    assert len(report.summary_rows(results)) == len(terminal) == len(md) == 10


def test_not_implemented_records_are_listed_and_not_in_tables():
    results = three_contestant_run()
    text = report.markdown(results)
    assert section(text, "Not implemented") == ["- rag.split: gopher"]
    md = md_table(text.splitlines(), "scenario")
    assert all(r["scenario"] != "rag.split" for r in md)
    assert all(r["scenario"] != "rag.split" for r in terminal_table(results))
    assert all(r["status"] != Status.NOT_IMPLEMENTED.value for r in md)
    console = Console(file=io.StringIO(), width=400, color_system=None)
    report.print_results(results, console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "not implemented: rag.split (gopher)" in printed
    assert "llm.ttft / gopher: failed" in printed


def test_failures_section_lists_first_line_of_each_error():
    body = section(report.markdown(three_contestant_run()), "Failures")
    assert "- **llm.ttft / gopher** (failed):" in body
    assert "  - wrong answer: expected 'blue'" in body
    assert not any("full text" in line for line in body)


def test_concurrency_sweep_orders_by_level_and_shows_failures():
    def level(contestant: str, c: int, rate: float, failed: int = 0) -> ScenarioRecord:
        counts = {"ok": 10, "failed": failed, "failed:timeout": failed} if failed else {"ok": 10}
        return rec("stress.saturation", contestant,
                   {"ops_per_s": [rate], "latency_s": [0.1 * c, 0.2 * c]},
                   params={"concurrency": c}, counts=counts)

    results = run([level("gopher", 20, 8.0, failed=3), level("gopher", 5, 4.0),
                   level("py", 10, 3.0), level("gopher", 10, 6.0)], THREE)
    text = report.markdown(results)
    rows = md_table(section(text, "Concurrency"), "scenario")
    assert [(r["contestant"], r["concurrency"], r["ops/s"], r["failed"]) for r in rows] == [
        ("gopher", "5", "4.00 ops/s", "0"), ("gopher", "10", "6.00 ops/s", "0"),
        ("gopher", "20", "8.00 ops/s", "3"), ("py", "10", "3.00 ops/s", "0")]
    summary = {(r["contestant"], r["notes"]) for r in md_table(text.splitlines(), "scenario")}
    assert ("gopher", "c=20; 3 failed (timeout 3)") in summary
    # Only the level both ran is compared, and the level is shown.
    [q] = comparisons(results)
    assert (q.a, q.b, q.level) == ("py", "gopher", 10)
    assert q.ratio == pytest.approx(6.0 / 3.0)  # B's rate ÷ A's
    [row] = md_table(section(text, "Contestants compared (each figure pooled over 1 round)"),
                     "scenario")
    assert (row["level"], row["B ÷ A [95 %]"]) == ("10", "2.00×")


def test_contestants_section_lists_header_contestants():
    body = section(report.markdown(three_contestant_run()), "Contestants")
    assert body == [
        "- **py** (python; the article's python column): stands for Python",
        "- **bare** (python): no framework",
        "- **gopher** (go; the article's go column)",
    ]
