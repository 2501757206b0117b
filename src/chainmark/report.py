"""Results as a terminal table and as Markdown beside the article's published figures.

Everything here is a pure function of a `RunResults`: no contestant is named in this module.
Who stands for which of the article's columns comes from the results header
(`header.contestants[name].article_side`); a results file without it (older schema) shows
no published figures beside its contestants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console, JustifyMethod, RenderableType
from rich.padding import Padding
from rich.text import Text

from chainmark import claims, claims_view, language_report, tables
from chainmark.comparison import Comparison, comparisons, contestant_order
from chainmark.formats import fmt_bytes, fmt_value, unit_of
from chainmark.harness.records import RunResults, ScenarioRecord, Status
from chainmark.rounds import Estimate
from chainmark.scenarios import BY_NAME, SCENARIOS
from chainmark.stats import Summary

STATUS_STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.CRASHED: "red",
    Status.TIMEOUT: "red",
    Status.ERROR: "red",
    Status.NOT_IMPLEMENTED: "dim",
}
# The article's columns, as `Published` names them and `ContestantInfo.article_side` says.
ARTICLE_SIDES = ("go", "python")


def primary(record: ScenarioRecord) -> tuple[str, Summary | None]:
    scenario = BY_NAME.get(record.scenario)
    name = scenario.primary_metric if scenario else "latency_s"
    return name, record.metrics.get(name)


def _ran(results: RunResults) -> list[ScenarioRecord]:
    return [r for r in results.records if r.status is not Status.NOT_IMPLEMENTED]


def _not_implemented(results: RunResults) -> list[ScenarioRecord]:
    return [r for r in results.records if r.status is Status.NOT_IMPLEMENTED]


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


# --- who is who -----------------------------------------------------------------------------


def article_side(results: RunResults, contestant: str) -> str | None:
    """The article's column ("go" / "python") a contestant stands for; None if none, or if
    the results file predates `header.contestants`."""
    info = results.header.contestants.get(contestant)
    side = info.article_side if info is not None else None
    return side if side in ARTICLE_SIDES else None


def _published_figure(scenario: str, metric: str, side: str | None) -> tuple[float, str] | None:
    """The article's figure for `metric` of `scenario` on `side`, with its unit."""
    if side is None or (known := BY_NAME.get(scenario)) is None:
        return None
    for p in known.published:
        if p.metric == metric:
            value = getattr(p, side)
            return None if value is None else (value, p.unit)
    return None


# --- the summary table: one row model, two renderers -----------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    """One record's line in the summary, every cell already formatted; the terminal and the
    Markdown renderers each pick their columns from it."""

    scenario: str
    contestant: str
    model: str
    status: Status
    metric: str
    n: str
    mean: str
    ci: str
    p50: str
    p99: str
    std: str
    overhead: str
    peak_rss: str
    cpu: str
    published: str
    notes: str
    round: int = 0  # the record's interleaved round (0-based), shown as r1, r2, ... when several


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # a SummaryRow attribute
    numeric: bool = False  # right-aligned
    # In the terminal: the free text that wraps; every other cell is shown whole (see
    # chainmark.tables), so a name or a figure is never cut.
    wrap: bool = False


COLUMNS = {c.field: c for c in (
    Column("scenario", "scenario"),
    Column("contestant", "contestant"),
    Column("model", "model"),
    Column("status", "status"),
    Column("metric", "metric"),
    Column("n", "n", numeric=True),
    Column("mean", "mean", numeric=True),
    Column("95% CI", "ci", numeric=True),
    Column("p50", "p50", numeric=True),
    Column("p99", "p99", numeric=True),
    Column("std", "std", numeric=True),
    Column("overhead", "overhead", numeric=True),
    Column("peak RSS", "peak_rss", numeric=True),
    Column("CPU", "cpu", numeric=True),
    Column("published", "published", numeric=True),
    Column("notes", "notes", wrap=True),
)}
TERMINAL_COLUMNS = ("scenario", "contestant", "model", "status", "metric", "n", "mean", "ci",
                    "p99", "overhead", "peak_rss", "cpu", "notes")
MARKDOWN_COLUMNS = ("scenario", "contestant", "model", "status", "metric", "n", "mean", "ci",
                    "p50", "p99", "std", "overhead", "peak_rss", "cpu", "published", "notes")


def summary_row(record: ScenarioRecord, side: str | None) -> SummaryRow:
    """`side`: the article's column the record's contestant stands for (see `article_side`)."""
    metric, s = primary(record)
    unit = unit_of(metric)
    overhead = record.metrics.get("overhead_s")
    res = record.resources
    published = _published_figure(record.scenario, metric, side)
    return SummaryRow(
        scenario=record.scenario,
        contestant=record.contestant,
        model=record.model,
        status=record.status,
        metric=metric,
        n=str(s.count) if s else "-",
        mean=fmt_value(s.mean, unit) if s else "-",
        ci=_ci(s, unit),
        p50=fmt_value(s.p50, unit) if s else "-",
        # Like the interval: a single value (a run's throughput) has no tail to show.
        p99=fmt_value(s.p99, unit) if s and s.count > 1 else "-",
        std=fmt_value(s.std, unit) if s else "-",
        overhead=fmt_value(overhead.mean) if overhead else "-",
        peak_rss=fmt_bytes(res.peak_rss_bytes) if res else "-",
        cpu=f"{res.cpu_s:.2f} s" if res else "-",
        published=fmt_value(*published) if published else "-",
        notes=notes(record),
        round=getattr(record, "round", 0),
    )


def summary_rows(results: RunResults) -> list[SummaryRow]:
    """One row per record that ran (not-implemented ones are listed separately)."""
    return [summary_row(r, article_side(results, r.contestant)) for r in _ran(results)]


TABLE_CAPTION = ("95% CI: bootstrap interval of the mean; overhead = client time − server "
                 "time")


def table(results: RunResults) -> tables.Fit:
    """The summary for the terminal, as wide as the console allows (see chainmark.tables): a
    row per record when every column fits whole; else one block per scenario, model and
    metric, with every column of the record; else the same blocks with figures stacked in
    fewer columns; else a few wrapped lines per record. No name or figure is ever cut."""
    rows = summary_rows(results)
    header = results.header
    title = f"chainmark · profile {header.profile} · {header.run_id}"
    # A round column when any figure was measured in several rounds (a record per round).
    rounded = any(row.round for row in rows)
    flat_fields = _with_round(TERMINAL_COLUMNS, rounded)
    block_fields = _with_round(BLOCK_COLUMNS, rounded)
    flat = tables.Flat(
        cols=[_terminal_col(f) for f in flat_fields],
        rows=[[_terminal_cell(row, f) for f in flat_fields] for row in rows],
        title=title, caption=TABLE_CAPTION,
    )
    groups: dict[tuple[str, str, str], list[SummaryRow]] = {}
    for row in rows:
        groups.setdefault((row.scenario, row.model, row.metric), []).append(row)
    # In a block, a contestant's rounds together (records come interleaved: A B, B A, ...).
    rank = {name: i for i, name in enumerate(contestant_order(results))}
    for group in groups.values():
        group.sort(key=lambda row: (rank.get(row.contestant, len(rank)), row.round))
    headings = [Text(" · ".join(key)) for key in groups]
    full = tables.Blocks(
        cols=[_terminal_col(f) for f in block_fields],
        blocks=[(h, [[_terminal_cell(row, f) for f in block_fields] for row in group])
                for h, group in zip(headings, groups.values(), strict=True)],
        title=title, caption=TABLE_CAPTION,
    )
    compact = tables.Blocks(
        cols=[tables.Col("contestant"), tables.Col("mean / 95% CI", justify="right"),
              tables.Col("overhead", justify="right"), tables.Col("details", wrap=True)],
        blocks=[(h, [[tables.stacked(row.contestant, _status_round(row, rounded)),
                      tables.stacked(row.mean, _dim(_short_range(row.ci))), row.overhead,
                      _row_details(row)]
                     for row in group])
                for h, group in zip(headings, groups.values(), strict=True)],
        title=title, caption=TABLE_CAPTION,
    )
    lines: list[RenderableType] = [Text(title, style="bold")]
    for h, group in zip(headings, groups.values(), strict=True):
        lines.append(Text.assemble("\n", (h.plain, "bold")))
        for row in group:
            line = Text.assemble(
                (row.contestant, "bold"), " ", _status_round(row, rounded),
                f" · mean {row.mean}", f" ({row.ci})" if row.ci != "-" else "",
                f" · overhead {row.overhead}" if row.overhead != "-" else "")
            details = _row_details(row).plain.replace("\n", "; ")
            if details:
                line.append(f" · {details}")
            lines.append(Padding(line, (0, 0, 0, 2)))
    lines.append(Text(TABLE_CAPTION, style="dim"))
    return tables.Fit(flat, full, compact, tables.Lines(lines))


# The wide blocks: the scenario, model and metric are in the block's heading.
BLOCK_COLUMNS = ("contestant", "status", "n", "mean", "ci", "p99", "overhead", "peak_rss",
                 "cpu", "notes")


def _with_round(fields: Sequence[str], rounded: bool) -> tuple[str, ...]:
    """`fields` with the round after the contestant, when there are rounds to tell apart."""
    if not rounded:
        return tuple(fields)
    at = fields.index("contestant") + 1
    return (*fields[:at], "round", *fields[at:])


def _status_round(row: SummaryRow, rounded: bool) -> Text:
    text = _terminal_cell(row, "status")
    if rounded:
        text.append(f" · {_terminal_cell(row, 'round')}")
    return text


def _terminal_col(field: str) -> tables.Col:
    if field == "round":
        return tables.Col("round", justify="right")
    col = COLUMNS[field]
    justify: JustifyMethod = "right" if col.numeric else "left"
    return tables.Col(col.header, justify=justify, wrap=col.wrap)


def _terminal_cell(row: SummaryRow, field: str) -> Text:
    if field == "status":
        return Text(row.status.value, style=STATUS_STYLE[row.status])
    if field == "round":
        return Text(f"r{row.round + 1}")
    return Text(str(getattr(row, field)))


def _dim(value: str) -> Text | None:
    return None if value == "-" else Text(value, style="dim")


def _short_range(ci: str) -> str:
    """"1.068 s – 1.141 s" → "1.068–1.141 s" when both ends have the same unit."""
    low, sep, high = ci.partition(" – ")
    low_value, _, low_unit = low.partition(" ")
    _, _, high_unit = high.partition(" ")
    if sep and low_unit == high_unit:
        return f"{low_value}–{high}"
    return ci


def _row_details(row: SummaryRow) -> tables.Flow:
    """The compact layout's free-text cell: the figures without a column of their own (kept
    whole, wrapped between them), then the notes."""
    return tables.Flow([f"{label} {value}" for label, value in (
        ("n", row.n), ("p99", row.p99), ("RSS", row.peak_rss), ("CPU", row.cpu))
        if value != "-"], row.notes)


def _markdown_cell(row: SummaryRow, field: str) -> str:
    if field == "status":
        return row.status.value
    if field == "model":
        return f"`{row.model}`"
    return str(getattr(row, field))


def _markdown_table(results: RunResults) -> list[str]:
    cols = [COLUMNS[f] for f in MARKDOWN_COLUMNS]
    lines = [_md_row(c.header for c in cols),
             "|" + "|".join("--:" if c.numeric else "---" for c in cols) + "|"]
    lines += [_md_row(_markdown_cell(row, f) for f in MARKDOWN_COLUMNS)
              for row in summary_rows(results)]
    return lines


def _ci(s: Summary | None, unit: str) -> str:
    # A single value (a run's throughput) has no interval; showing one would invent it.
    if s is None or s.count < 2:
        return "-"
    return f"{fmt_value(s.ci95_low, unit)} – {fmt_value(s.ci95_high, unit)}"


def notes(r: ScenarioRecord) -> str:
    """What a reader must know to read the figure: failures, level, a saturated server."""
    parts = []
    if "concurrency" in r.params:
        parts.append(f"c={r.params['concurrency']}")
    failed = r.counts.get("failed", 0)
    if failed:
        kinds = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in r.counts.items()
                          if k.startswith("failed:"))
        parts.append(f"{failed} failed ({kinds})")
    # Under load, a saturated server means the figure describes the server; a sequential
    # run on the real model keeps the server busy by design, so it is not flagged there.
    if "concurrency" in r.params and r.server is not None and r.server.saturated:
        parts.append(f"server-bound ({r.server.cpu_utilisation:.0%} of a core)")
    elif (r.server is not None and r.server.cpu_utilisation is not None
          and r.server.cpu_utilisation >= INSTRUMENT_NOTICEABLE):
        parts.append(f"instrument {r.server.cpu_utilisation:.0%} of a core")
    return "; ".join(parts)


# Above this share of a core during a timed region, the instrument's CPU may compete with
# the contestant on a small machine: the figure gets a note.
INSTRUMENT_NOTICEABLE = 0.05


def instrument_cost(results: RunResults) -> str | None:
    """What chainmark-server itself cost on this run: CPU per request, and its share of a core
    while contestants were being timed (how much it could compete with them).

    Its own processing time is inside the server time that overhead subtracts, so it can
    only affect a figure through CPU contention; this says how much there was, rather than
    asserting there was none.
    """
    runs = [r for r in _ran(results) if r.server is not None]
    per_request = sorted(c for r in runs if (c := r.server.cpu_per_request_s) is not None)
    shares = sorted(((r.server.cpu_utilisation, r) for r in runs
                     if r.server.cpu_utilisation is not None), key=lambda item: item[0])
    if not per_request:
        return None
    text = (f"instrument: chainmark-server used {fmt_value(per_request[len(per_request) // 2])}"
            f" of CPU per request (median over {len(per_request)} runs; streamed tokens and "
            "proxied chunks cost more per request)")
    if shares:
        median = shares[len(shares) // 2][0]
        top, worst = shares[-1]
        text += (f", {median:.1%} of a core during timed regions (median; max {top:.0%} in "
                 f"{worst.scenario} / {worst.contestant})")
    return text


def print_results(results: RunResults, console: Console) -> None:
    console.print(table(results))
    cost = instrument_cost(results)
    if cost:
        console.print(f"[dim]{cost}[/]")
    for r in _ran(results):
        if r.errors:
            console.print(f"[red]{r.scenario} / {r.contestant}: {r.status.value}[/]")
            for e in r.errors:
                console.print(f"  - {e}", markup=False)
    print_comparisons(results, console)
    language_report.print_view(results, console)
    missing = _not_implemented(results)
    if missing:
        console.print(
            "[dim]not implemented: "
            + ", ".join(f"{r.scenario} ({r.contestant})" for r in missing)
            + "[/]"
        )


# --- contestants compared, pooled over rounds ------------------------------------------------


def _estimate_text(e: Estimate, unit: str) -> str:
    if e.low is None or e.high is None:
        return fmt_value(e.mean, unit)
    return f"{fmt_value(e.mean, unit)} [{fmt_value(e.low, unit)} – {fmt_value(e.high, unit)}]"


def _interval_text(c: Comparison) -> str:
    if c.interval is None:
        return f"{c.ratio:.2f}×"
    return f"{c.ratio:.2f}× [{c.interval.low:.2f} – {c.interval.high:.2f}]"


def comparisons_section(found: Sequence[Comparison], rounds: int) -> list[str]:
    if not found:
        return []
    plural = "round" if rounds == 1 else "rounds"
    lines = ["", f"## Contestants compared (each figure pooled over {rounds} {plural})", "",
             "For each pair A, B that passed every round of the same scenario, model and "
             "level: each side's mean with a 95 % t-interval over its round means, and "
             "**B ÷ A** (the geometric mean of the per-round ratios, rounds paired as they ran "
             "back to back) with a 95 % t-interval on the log ratios. The verdict says who is "
             "faster only when the interval excludes 1. For end-to-end latency with the "
             "server's log, the cause says whether framework overhead explains the difference "
             "or whether it lies on the model's or server's side (prompt length, a reload, "
             "contention).", "",
             "| scenario | model | level | metric | A | B | A [95 %] | B [95 %] | B ÷ A [95 %] | "
             "verdict | cause |", "|---|---|--:|---|---|---|--:|--:|--:|---|---|"]
    for c in found:
        unit = unit_of(c.metric)
        lines.append(_md_row([
            c.scenario, f"`{c.model}`", "-" if c.level is None else str(c.level), c.metric,
            c.a, c.b, _estimate_text(c.a_estimate, unit), _estimate_text(c.b_estimate, unit),
            _interval_text(c), c.word, c.cause or "-",
        ]))
    return lines


def print_comparisons(results: RunResults, console: Console) -> None:
    """One line per comparison: readable at any width, never cut."""
    found = comparisons(results)
    if not found:
        return
    console.print(f"[bold]Compared over {results.header.rounds} rounds[/] (B ÷ A, 95 % "
                  "interval over paired rounds):")
    for c in found:
        level = f" c={c.level}" if c.level is not None else ""
        cause = f"; {c.cause}" if c.cause else ""
        console.print(f"  {c.scenario}{level} · {c.model} · {c.metric}: {c.b} ÷ {c.a} = "
                      f"{_interval_text(c)} — {c.word}{cause}", markup=False,
                      overflow="fold")


# --- the other Markdown sections -------------------------------------------------------------


def _contestants(results: RunResults) -> list[str]:
    infos = results.header.contestants
    if not infos:
        return []
    lines = ["", "## Contestants", ""]
    for name, info in infos.items():
        side = f"; the article's {info.article_side} column" if info.article_side else ""
        lines.append(f"- **{name}** ({info.language}{side})"
                     + (f": {info.description}" if info.description else ""))
    return lines


def _sweep(results: RunResults) -> list[str]:
    swept = [r for r in _ran(results) if "concurrency" in r.params and r.metrics]
    if not swept:
        return []
    lines = ["", "## Concurrency", "",
             "| scenario | contestant | model | concurrency | ops/s | p50 | p99 | failed | "
             "server CPU |", "|---|---|---|--:|--:|--:|--:|--:|--:|"]
    for r in sorted(swept, key=lambda r: (r.scenario, r.contestant, r.params["concurrency"])):
        rate = r.metrics.get("ops_per_s")
        latency = next((r.metrics[k] for k in ("latency_s", "bare_s") if k in r.metrics), None)
        server = r.server.cpu_utilisation if r.server else None
        lines.append(_md_row([
            r.scenario, r.contestant, f"`{r.model}`", str(r.params["concurrency"]),
            fmt_value(rate.mean, "ops/s") if rate else "-",
            fmt_value(latency.p50) if latency else "-", fmt_value(latency.p99) if latency else "-",
            str(r.counts.get("failed", 0)), f"{server:.0%}" if server is not None else "-",
        ]))
    return lines


def _checkpoints(results: RunResults) -> list[str]:
    lines: list[str] = []
    for r in _ran(results):
        rows = r.series.get("checkpoints")
        if not rows:
            continue
        lines += ["", f"## {r.scenario} checkpoints — {r.contestant} on `{r.model}`", "",
                  "| turn | latency | prompt tokens | history chars | RSS | tracemalloc "
                  "current | tracemalloc peak |", "|--:|--:|--:|--:|--:|--:|--:|"]
        for row in rows:
            lines.append(_md_row([
                str(row["turn"]), fmt_value(row["latency_s"]), str(row["prompt_tokens"] or "-"),
                str(row["history_chars"] or "-"), fmt_bytes(row["rss_bytes"]),
                fmt_bytes(row["tracemalloc_current_bytes"]),
                fmt_bytes(row["tracemalloc_peak_bytes"]),
            ]))
    return lines


def _parameters(results: RunResults) -> list[str]:
    """What each scenario was asked to do, so a quick-profile figure is never mistaken for a
    seed one (prompts and templates are left out: they are in results.json)."""
    seen: dict[str, dict] = {}
    for r in _ran(results):
        seen.setdefault(r.scenario, r.params)
    if not seen:
        return []
    lines = ["", f"## Parameters (profile `{results.header.profile}`)", ""]
    for scenario, params in seen.items():
        shown = {k: v for k, v in params.items()
                 if not isinstance(v, dict) and not (isinstance(v, str) and len(v) > 60)}
        lines.append(f"- {scenario}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    return lines


def _server_side(results: RunResults) -> list[str]:
    """Where each run's time went on the server, so a difference in request shape (one batch
    or one request per text, longer prompts, a runner reload) is seen as a server-side cost
    and not credited to or blamed on the framework."""
    rows = [r for r in _ran(results) if r.server is not None and r.server.requests]
    if not rows:
        return []
    lines = ["", "## Where the time went (timed region, from chainmark-server's log)", "",
             "Server time is the model server's (Ollama's, or the synthetic model's) and the "
             "proxy's; overhead is what the client spent beyond it. Model-side parts are the "
             "model server's own account: load, prompt evaluation, generation.", "",
             "| scenario | contestant | model | requests | prompt tokens | server time | load "
             "| prompt eval | generation | overhead | server CPU / request |",
             "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        server = r.server
        assert server is not None
        overhead = r.metrics.get("overhead_s")
        paths = ", ".join(f"{n} × `{path}`" for path, n in sorted(server.by_path.items()))
        lines.append(_md_row([
            r.scenario, r.contestant, f"`{r.model}`", paths, f"{server.prompt_tokens:,}",
            fmt_value(server.server_s), fmt_value(server.load_s),
            fmt_value(server.prompt_eval_s), fmt_value(server.eval_s),
            fmt_value(overhead.total) if overhead else "-",
            fmt_value(server.cpu_per_request_s),
        ]))
    return lines


def _details(results: RunResults) -> list[str]:
    lines = ["", "## Every figure", "",
             "| scenario | contestant | metric | n | mean | std | min | p50 | p90 | p99 | max |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in _ran(results):
        for metric, s in r.metrics.items():
            u = unit_of(metric)
            lines.append(_md_row([
                r.scenario, r.contestant, metric, str(s.count), fmt_value(s.mean, u),
                fmt_value(s.std, u), fmt_value(s.min, u), fmt_value(s.p50, u),
                fmt_value(s.p90, u), fmt_value(s.p99, u), fmt_value(s.max, u),
            ]))
    lines += ["", "Resources, measured from outside each contestant process:", "",
              "| scenario | contestant | wall | CPU (all) | CPU (timed) | peak RSS | RSS growth "
              "| setup | extras |", "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for r in _ran(results):
        res = r.resources
        if res is None:
            continue
        extras = ", ".join(f"{k}={v}" for k, v in r.extras.items()) or "-"
        lines.append(_md_row([
            r.scenario, r.contestant, fmt_value(res.wall_s), fmt_value(res.cpu_s),
            fmt_value(res.cpu_measured_s), fmt_bytes(res.peak_rss_bytes),
            fmt_bytes(res.rss_growth_bytes), fmt_value(r.setup_s), extras,
        ]))
    for p in results.preparations:
        lines.append(f"\nPrepared (untimed) for {p.contestant} on `{p.model}`: {p.status.value}"
                     f" in {p.duration_s:.1f} s.")
    return lines


def _failures(results: RunResults) -> list[str]:
    failures = [r for r in _ran(results) if r.errors]
    if not failures:
        return []
    lines = ["", "## Failures", ""]
    for r in failures:
        lines.append(f"- **{r.scenario} / {r.contestant}** ({r.status.value}):")
        lines += [f"  - {e.splitlines()[0] if e else e}" for e in r.errors]
    return lines


def _missing(results: RunResults) -> list[str]:
    missing = _not_implemented(results)
    if not missing:
        return []
    return ["", "## Not implemented", "", *(f"- {r.scenario}: {r.contestant}" for r in missing)]


def _published_section(results: RunResults) -> list[str]:
    lines = ["", "## Published figures (the article)", ""]
    shown = {r.scenario for r in _ran(results)}
    for scenario in SCENARIOS:
        if scenario.name not in shown:
            continue
        for p in scenario.published:
            lines.append(
                f"- {scenario.name} `{p.metric}`: Go {fmt_value(p.go, p.unit)}, "
                f"Python {fmt_value(p.python, p.unit)}" + (f" ({p.note})" if p.note else "")
            )
    return lines


def markdown(results: RunResults) -> str:
    h = results.header
    env = h.environment
    lines = [
        f"# chainmark results — {h.run_id}",
        "",
        f"- profile: `{h.profile}`; LLM server: chainmark-server at {h.llm_url}"
        + (f", forwarding the real model to {h.llm_upstream} "
           f"({'Ollama started by chainmark' if h.llm_upstream_embedded else 'given by --llm-url'})"
           if h.llm_upstream else " (synthetic models only)"),
        f"- machine: {env.get('cpu_model', '?')}, {env.get('cpu_count', '?')} CPUs; "
        f"{env.get('python', '?')}; {env.get('go') or 'Go not found'}",
        f"- started {h.started_at}, finished {h.finished_at or '-'}"
        + (" (interrupted)" if h.interrupted else ""),
        *([f"- {cost}"] if (cost := instrument_cost(results)) else []),
        "",
        "Every figure names the model that produced it. `synthetic` models answer "
        "deterministically with a latency profile; `smollm2:135m` is the real model. The "
        "published column is the article's figure for the column (Go or Python) the "
        "contestant stands for (llama3:8b on its own hardware): a claim to compare against, "
        "not a measurement of this run; `-` for a contestant that stands for neither.",
        "",
        *_markdown_table(results),
    ]
    if h.corpus:
        c = h.corpus
        lines += ["", f"Corpus: {c['source']}; large document {c['large_document_bytes']:,} "
                  f"bytes, {c['docs_count']} documents ({c['docs_bytes']:,} bytes); "
                  f"sha256 `{c['sha256']}`."]
    lines += _contestants(results)
    lines += comparisons_section(comparisons(results), results.header.rounds)
    lines += language_report.markdown(results)
    lines += claims_view.markdown(claims.claims(results))
    lines += _sweep(results)
    lines += _checkpoints(results)
    lines += _server_side(results)
    lines += _details(results)
    lines += _parameters(results)
    lines += _failures(results)
    lines += _missing(results)
    lines += _published_section(results)
    return "\n".join(lines) + "\n"
