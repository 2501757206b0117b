"""A run's results as one self-contained HTML page: plotly charts and the claims and
comparisons tables, written beside results.json and report.md.

The page needs no network when it is opened: plotly's JavaScript is inlined once, each chart
is a `<div>` with its data inline, and a Content-Security-Policy forbids fetching anything.
Everything here is a pure function of a `RunResults` (`render`); `write` puts it in a file.

Every string that comes from the results (names, models, error messages, the environment) is
escaped: with `html.escape` in the page, and for plotly's own text (titles, legends, ticks,
hover), which understands a few tags and decodes entities, escaped the same way so it is
shown as written and never interpreted.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from chainmark import language_report, language_view
from chainmark.claims import Claim, claims
from chainmark.comparison import Comparison, comparisons, contestant_order
from chainmark.formats import fmt_value, unit_of
from chainmark.harness.records import RunResults, ScenarioRecord, Status
from chainmark.rounds import Estimate, Group, groups
from chainmark.scenarios import BY_NAME

# Nothing may be fetched, from anywhere: inline scripts and styles, data: images only.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:")
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
# Above this ratio between the largest and smallest positive value, an axis is logarithmic.
LOG_SPAN = 50.0
MEMORY_SCENARIO = "ops.memory"
PALETTE = qualitative.Plotly
HEIGHT = 480
# A chart with more categories than this gets the page's full width.
WIDE_CATEGORIES = 9

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1400px; padding: 0 1.5rem 3rem; color: #1f2328; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.4rem; border-bottom: 1px solid #d0d7de; }
dl.header { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.header dt { font-weight: 600; } dl.header dd { margin: 0; }
.note { background: #fff8c5; border: 1px solid #d4a72c66; padding: .6rem .9rem;
        border-radius: 6px; }
.empty { color: #59636e; font-style: italic; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr));
          gap: 1rem; }
figure.chart { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: .3rem;
               min-width: 0; }
figure.chart.wide { grid-column: 1 / -1; }
table { border-collapse: collapse; font-size: .88rem; margin: .6rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; }
.v-reproduced { color: #1a7f37; } .v-direction-only { color: #9a6700; }
.v-not-reproduced { color: #cf222e; } .v-not-measurable-here { color: #59636e; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .6rem; }
code { font-size: .9em; }
nav ul { columns: 2; }
"""


# --- text -----------------------------------------------------------------------------------


def _h(value: Any) -> str:
    """Any value as HTML text."""
    return html.escape(str(value), quote=True)


def _p(value: Any) -> str:
    """Any value as plotly text: plotly reads `<br>`, `<b>`, `<a href>` ... in its strings and
    decodes `&lt;` and friends (not `&quot;`), so `<`, `>` and `&` are escaped, quotes kept."""
    return html.escape(str(value), quote=False)


def _interval(low: float | None, high: float | None, unit: str) -> str:
    if low is None or high is None:
        return "-"
    return f"{fmt_value(low, unit)} – {fmt_value(high, unit)}"


# --- numbers and axes -----------------------------------------------------------------------


def _time_scale(values: Iterable[float | None]) -> tuple[float, str]:
    """The factor and unit that show these durations readably: µs, ms or s."""
    biggest = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    if biggest < 1e-3:
        return 1e6, "µs"
    if biggest < 1:
        return 1e3, "ms"
    return 1.0, "s"


def _wide(values: Iterable[float | None]) -> bool:
    """True when the values are all positive and span more than LOG_SPAN: a log axis."""
    seen = [v for v in values if v is not None and math.isfinite(v)]
    if not seen or min(seen) <= 0:
        return False
    return max(seen) / min(seen) > LOG_SPAN


def _errors(means: Sequence[float], lows: Sequence[float | None],
            highs: Sequence[float | None], factor: float = 1.0) -> dict[str, Any]:
    """Asymmetric error bars from intervals (none where there is no interval)."""
    return {
        "type": "data", "symmetric": False, "visible": True,
        "array": [(h - m) * factor if h is not None else 0.0 for m, h in zip(means, highs,
                                                                             strict=True)],
        "arrayminus": [(m - lo) * factor if lo is not None else 0.0
                       for m, lo in zip(means, lows, strict=True)],
    }


def _estimate_hover(est: Estimate, unit: str) -> str:
    interval = _interval(est.low, est.high, unit)
    return (f"{fmt_value(est.mean, unit)} (95% CI {interval}; {est.rounds} round"
            f"{'s' if est.rounds != 1 else ''}, {_p(est.method)})")


# --- ordering and grouping ------------------------------------------------------------------


def _scenario_rank(name: str) -> tuple[int, str]:
    order = list(BY_NAME)
    return (order.index(name), "") if name in BY_NAME else (len(order), name)


@dataclass
class _Context:
    results: RunResults
    groups: list[Group]
    contestants: list[str]

    def color(self, contestant: str) -> str:
        index = (self.contestants.index(contestant) if contestant in self.contestants
                 else len(self.contestants))
        return PALETTE[index % len(PALETTE)]

    def by_model(self, chosen: Iterable[Group]) -> dict[str, list[Group]]:
        """Groups per model, models in order of first appearance, each list sorted by
        scenario, then contestant order, then level."""
        found: dict[str, list[Group]] = {}
        for g in chosen:
            found.setdefault(g.key.model, []).append(g)
        rank = {name: i for i, name in enumerate(self.contestants)}
        for members in found.values():
            members.sort(key=lambda g: (_scenario_rank(g.key.scenario),
                                        rank.get(g.key.contestant, len(rank)),
                                        g.key.level or 0))
        return found


@dataclass(frozen=True)
class _Chart:
    figure: go.Figure
    # Many categories, or two panels side by side: the page's full width.
    wide: bool = False


def _layout(fig: go.Figure, title: str, model: str, detail: str = "", **extra: Any
            ) -> go.Figure:
    """A title naming the model (and what the marks are, `detail`), the legend at the foot."""
    subtitle = f"model: <b>{_p(model)}</b>" + (f" · {detail}" if detail else "")
    fig.update_layout(
        title={"text": f"{title}<br><sup>{subtitle}</sup>", "x": 0.02},
        template="plotly_white", height=HEIGHT, margin={"l": 70, "r": 20, "t": 80, "b": 60},
        legend={"orientation": "h", "yref": "container", "y": 0.01, "yanchor": "bottom"},
        font={"size": 12}, **extra)
    return fig


# --- 1. overhead ----------------------------------------------------------------------------


def _overhead_figures(ctx: _Context) -> list[_Chart]:
    figures = []
    with_overhead = [g for g in ctx.groups if g.estimate("overhead_s") is not None]
    for model, members in ctx.by_model(with_overhead).items():
        estimates = {g.key: g.estimate("overhead_s") for g in members}
        means = [e.mean for e in estimates.values() if e is not None]
        factor, unit = _time_scale(means)
        fig = go.Figure()
        scenarios = sorted({g.key.scenario for g in members}, key=_scenario_rank)
        for contestant in ctx.contestants:
            mine = [g for g in members if g.key.contestant == contestant]
            if not mine:
                continue
            ests = [estimates[g.key] for g in mine]
            fig.add_bar(
                name=_p(contestant), marker_color=ctx.color(contestant),
                x=[_p(g.key.scenario) for g in mine], y=[e.mean * factor for e in ests],
                error_y=_errors([e.mean for e in ests], [e.low for e in ests],
                                [e.high for e in ests], factor),
                hovertext=[f"{_p(contestant)} · {_p(g.key.scenario)}<br>"
                           f"{_estimate_hover(e, 's')}" for g, e in zip(mine, ests,
                                                                         strict=True)],
                hoverinfo="text")
        log = _wide(means)
        _layout(fig, "Framework overhead per operation", model,
                "client time beyond the server's; mean over rounds, 95% CI", barmode="group")
        fig.update_xaxes(title_text="scenario", categoryorder="array",
                         categoryarray=[_p(s) for s in scenarios])
        fig.update_yaxes(title_text=f"overhead per operation ({unit})"
                         + (", log scale" if log else ""), type="log" if log else "linear")
        figures.append(_Chart(fig, wide=len(members) > WIDE_CATEGORIES))
    return figures


# --- 2. server vs framework -----------------------------------------------------------------


def _split_figures(ctx: _Context) -> list[_Chart]:
    figures = []
    both = [g for g in ctx.groups
            if g.estimate("overhead_s") is not None and g.estimate("server_s") is not None]
    for model, members in ctx.by_model(both).items():
        server = [e for g in members if (e := g.estimate("server_s")) is not None]
        over = [e for g in members if (e := g.estimate("overhead_s")) is not None]
        factor, unit = _time_scale(
            [s.mean + o.mean for s, o in zip(server, over, strict=True)])
        x = [[_p(g.key.scenario) for g in members], [_p(g.key.contestant) for g in members]]
        fig = go.Figure()
        for name, ests, color in (("server (model and proxy)", server, "#8c959f"),
                                  ("framework overhead", over, "#d1242f")):
            fig.add_bar(name=name, x=x, y=[e.mean * factor for e in ests],
                        marker_color=color,
                        hovertext=[f"{_p(g.key.contestant)} · {_p(g.key.scenario)}<br>{name}: "
                                   f"{_estimate_hover(e, 's')}"
                                   for g, e in zip(members, ests, strict=True)],
                        hoverinfo="text")
        _layout(fig, "End-to-end time per operation: server and framework", model,
                "means over rounds, stacked", barmode="relative")
        fig.update_xaxes(title_text="scenario / contestant")
        fig.update_yaxes(title_text=f"time per operation ({unit})")
        figures.append(_Chart(fig, wide=len(members) > WIDE_CATEGORIES))
    return figures


# --- 3. concurrency -------------------------------------------------------------------------


def _p99_by_round(group: Group) -> list[float]:
    return [r.metrics["latency_s"].p99 for r in group.passed if "latency_s" in r.metrics]


def _concurrency(ctx: _Context) -> tuple[list[_Chart], list[str]]:
    """Curves for every (scenario, model) swept over two or more levels; sentences for the
    concurrent scenarios that ran at one level only."""
    swept: dict[tuple[str, str], list[Group]] = {}
    for g in ctx.groups:
        if g.key.level is not None:
            swept.setdefault((g.key.scenario, g.key.model), []).append(g)
    figures, sentences = [], []
    for (scenario, model), members in sorted(swept.items(),
                                             key=lambda kv: (_scenario_rank(kv[0][0]),
                                                             kv[0][1])):
        levels = sorted({g.key.level for g in members if g.key.level is not None})
        if len(levels) < 2:
            sentences.append(
                f"{_h(scenario)} on <code>{_h(model)}</code> ran at one concurrency level only "
                f"({', '.join(_h(level) for level in levels)}): a curve needs a sweep, e.g. "
                f"<code>chainmark run -s {_h(scenario)} --concurrency 1,2,4,8</code>.")
            continue
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
            "throughput (mean over rounds, 95% CI)",
            "p99 latency (mean of the rounds' p99, bars: range)"))
        p99s = [v for g in members for v in _p99_by_round(g)]
        factor, unit = _time_scale(p99s)
        for contestant in ctx.contestants:
            mine = sorted((g for g in members if g.key.contestant == contestant),
                          key=lambda g: g.key.level or 0)
            rates = [(g, e) for g in mine if (e := g.estimate("ops_per_s")) is not None]
            color = ctx.color(contestant)
            if rates:
                fig.add_scatter(
                    row=1, col=1, name=_p(contestant), legendgroup=_p(contestant),
                    mode="lines+markers", line_color=color,
                    x=[g.key.level for g, _ in rates], y=[e.mean for _, e in rates],
                    error_y=_errors([e.mean for _, e in rates], [e.low for _, e in rates],
                                    [e.high for _, e in rates]),
                    hovertext=[f"{_p(contestant)} at {g.key.level}: "
                               f"{_estimate_hover(e, 'ops/s')}" for g, e in rates],
                    hoverinfo="text")
            tails = [(g, v) for g in mine if (v := _p99_by_round(g))]
            if tails:
                means = [sum(v) / len(v) for _, v in tails]
                fig.add_scatter(
                    row=1, col=2, name=_p(contestant), legendgroup=_p(contestant),
                    showlegend=not rates, mode="lines+markers", line_color=color,
                    x=[g.key.level for g, _ in tails], y=[m * factor for m in means],
                    error_y=_errors(means, [min(v) for _, v in tails],
                                    [max(v) for _, v in tails], factor),
                    hovertext=[f"{_p(contestant)} at {g.key.level}: p99 "
                               f"{fmt_value(m)} over {len(v)} round(s)"
                               for (g, v), m in zip(tails, means, strict=True)],
                    hoverinfo="text")
        log_x = levels[0] > 0 and levels[-1] / levels[0] >= 8
        _layout(fig, f"{_p(scenario)}: throughput and p99 latency by concurrency", model)
        fig.update_layout(margin_t=110)  # room for the panels' own titles
        fig.update_xaxes(title_text="concurrency (operations at once)",
                         type="log" if log_x else "linear", tickvals=levels)
        fig.update_yaxes(title_text="throughput (ops/s)", rangemode="tozero", row=1, col=1)
        fig.update_yaxes(title_text=f"p99 latency ({unit})", rangemode="tozero", row=1, col=2)
        figures.append(_Chart(fig, wide=True))
    return figures, sentences


# --- 4. ops.memory --------------------------------------------------------------------------


def _memory_figures(ctx: _Context) -> list[_Chart]:
    chosen = [g for g in ctx.groups if g.key.scenario == MEMORY_SCENARIO
              and any(r.series.get("checkpoints") for r in g.passed)]
    figures = []
    for model, members in ctx.by_model(chosen).items():
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
            "latency of the turn (mean over rounds, bars: range)",
            "contestant RSS after the turn (mean over rounds, bars: range)"))
        latencies = [row.get("latency_s") for g in members for r in g.passed
                     for row in r.series.get("checkpoints", [])]
        factor, unit = _time_scale(latencies)
        for g in members:
            per_turn: dict[int, dict[str, list[float]]] = {}
            for r in g.passed:
                for row in r.series.get("checkpoints", []):
                    if not isinstance(row.get("turn"), int):
                        continue
                    slot = per_turn.setdefault(row["turn"], {"latency": [], "rss": []})
                    if isinstance(row.get("latency_s"), int | float):
                        slot["latency"].append(float(row["latency_s"]))
                    if isinstance(row.get("rss_bytes"), int | float):
                        slot["rss"].append(row["rss_bytes"] / 2**20)
            name, color = _p(g.key.contestant), ctx.color(g.key.contestant)
            shown = False
            for col, field, scale, label in ((1, "latency", factor, unit),
                                             (2, "rss", 1.0, "MiB")):
                points = [(t, v) for t, slots in sorted(per_turn.items())
                          if (v := slots[field])]
                if not points:
                    continue
                means = [sum(v) / len(v) for _, v in points]
                fig.add_scatter(
                    row=1, col=col, name=name, legendgroup=name, showlegend=not shown,
                    mode="lines+markers", line_color=color,
                    x=[t for t, _ in points], y=[m * scale for m in means],
                    error_y=_errors(means, [min(v) for _, v in points],
                                    [max(v) for _, v in points], scale),
                    hovertext=[f"{name}, turn {t}: {m * scale:.4g} {label} "
                               f"({len(v)} round(s))"
                               for (t, v), m in zip(points, means, strict=True)],
                    hoverinfo="text")
                shown = True
        _layout(fig, f"{MEMORY_SCENARIO}: latency and memory as the conversation grows", model)
        fig.update_layout(margin_t=110)
        fig.update_xaxes(title_text="turn (checkpoints)", rangemode="tozero")
        fig.update_yaxes(title_text=f"latency ({unit})", rangemode="tozero", row=1, col=1)
        fig.update_yaxes(title_text="RSS (MiB)", rangemode="tozero", row=1, col=2)
        figures.append(_Chart(fig, wide=True))
    return figures


# --- 5. distributions -----------------------------------------------------------------------


def _duration_metric(scenario: str, records: Sequence[ScenarioRecord]) -> str | None:
    """The scenario's primary metric if it is a duration, else latency_s if measured."""
    known = BY_NAME.get(scenario)
    for metric in (known.primary_metric if known else "latency_s", "latency_s"):
        if unit_of(metric) == "s" and any(metric in r.metrics for r in records):
            return metric
    return None


def _distribution_figures(ctx: _Context) -> list[_Chart]:
    cases: dict[tuple[str, str], list[Group]] = {}
    for g in ctx.groups:
        cases.setdefault((g.key.scenario, g.key.model), []).append(g)
    figures = []
    rank = {name: i for i, name in enumerate(ctx.contestants)}
    for (scenario, model), members in sorted(cases.items(), key=lambda kv: (
            _scenario_rank(kv[0][0]), kv[0][1])):
        members.sort(key=lambda g: (rank.get(g.key.contestant, len(rank)), g.key.level or 0))
        passed = [(g, r) for g in members for r in g.passed]
        metric = _duration_metric(scenario, [r for _, r in passed])
        if metric is None:
            continue
        rows = [(g, r, r.metrics[metric]) for g, r in passed if metric in r.metrics]
        factor, unit = _time_scale(s.max for _, _, s in rows)
        outer = [_p(g.key.contestant) + (f" c={g.key.level}" if g.key.level is not None else "")
                 for g, _, _ in rows]
        x = [outer, [f"r{r.round + 1}" for _, r, _ in rows]]
        fig = go.Figure()
        p50 = [s.p50 for _, _, s in rows]
        fig.add_scatter(
            name="p50, whiskers min–max", x=x, y=[v * factor for v in p50], mode="markers",
            marker={"symbol": "line-ew-open", "size": 18, "line": {"width": 3},
                    "color": "#0969da"},
            error_y=_errors(p50, [s.min for _, _, s in rows], [s.max for _, _, s in rows],
                            factor) | {"color": "#0969da", "thickness": 1.2, "width": 6},
            hovertext=[f"{o}, round {r.round + 1}: n={s.count}, min {fmt_value(s.min)}, "
                       f"p50 {fmt_value(s.p50)}, p90 {fmt_value(s.p90)}, p99 "
                       f"{fmt_value(s.p99)}, max {fmt_value(s.max)}"
                       for o, (_, r, s) in zip(outer, rows, strict=True)],
            hoverinfo="text")
        for name, stat, symbol, color in (("p90", "p90", "triangle-up", "#9a6700"),
                                          ("p99", "p99", "diamond", "#cf222e"),
                                          ("mean", "mean", "x", "#1f2328")):
            fig.add_scatter(name=name, x=x, y=[getattr(s, stat) * factor for _, _, s in rows],
                            mode="markers", marker={"symbol": symbol, "size": 9,
                                                    "color": color},
                            hoverinfo="skip")
        log = _wide(v for _, _, s in rows for v in (s.min, s.max))
        _layout(fig, f"{_p(scenario)}: {_p(metric)} per round", model,
                "min–max whiskers, p50, p90, p99 and mean of each round's operations")
        fig.update_xaxes(title_text="contestant / round")
        fig.update_yaxes(title_text=f"{_p(metric)} ({unit})" + (", log scale" if log else ""),
                         type="log" if log else "linear")
        figures.append(_Chart(fig, wide=len(rows) > WIDE_CATEGORIES))
    return figures


# --- 6. language or framework --------------------------------------------------------------

DIFFERENCE_COLORS = ("#cf222e", "#0969da", "#8250df")


def _language_label(row: language_view.Row, rows: Sequence[language_view.Row]) -> str:
    """The scenario, its level, and its model when the chart holds it on several models."""
    models = {r.model for r in rows if r.scenario == row.scenario}
    return (row.scenario + (f" c={row.level}" if row.level is not None else "")
            + (f" ({row.model})" if len(models) > 1 else ""))


def _language_figures(v: language_view.View) -> list[_Chart]:
    """Per unit, grouped bars: the three differences of each scenario with their intervals."""
    by_unit: dict[str, list[language_view.Row]] = {}
    for row in v.rows:
        if any(d.value is not None for d in row.differences):
            by_unit.setdefault(row.unit, []).append(row)
    figures = []
    for unit, rows in by_unit.items():
        ends = [x for row in rows for d in row.differences
                for x in (d.value, *((d.interval.low, d.interval.high) if d.interval else ()))]
        factor, shown_unit = _time_scale(ends) if unit == "s" else (
            1.0, "pt" if unit == "%" else unit)
        x = [_p(_language_label(row, rows)) for row in rows]
        fig = go.Figure()
        for i, spec in enumerate(language_view.DIFFERENCES):
            ds = [row.differences[i] for row in rows]
            means = [d.value if d.value is not None else 0.0 for d in ds]
            fig.add_bar(
                name=_p(spec.label), marker_color=DIFFERENCE_COLORS[i], x=x,
                y=[d.value * factor if d.value is not None else None for d in ds],
                error_y=_errors(means, [d.interval.low if d.interval else None for d in ds],
                                [d.interval.high if d.interval else None for d in ds], factor),
                hovertext=[f"{_p(spec.label)} · {_p(row.scenario)}<br>{_p(d.minuend)} − "
                           f"{_p(d.subtrahend)}<br>"
                           + (f"{_p(language_view.signed(d.value, unit))} "
                              f"{_p(d.interval_text)}<br>" if d.value is not None else "")
                           + f"<b>{_p(d.word)}</b>"
                           + (f"<br>{_p(d.interval.method)}" if d.interval else "")
                           for row, d in zip(rows, ds, strict=True)],
                hoverinfo="text")
        fig.add_hline(y=0, line_color="#59636e", line_width=1)
        models = ", ".join(dict.fromkeys(row.model for row in rows))
        metrics = ", ".join(dict.fromkeys(row.metric for row in rows))
        _layout(fig, "Framework cost and language cost", models,
                f"{_p(metrics)}; bars: 95% intervals over paired rounds", barmode="group")
        fig.update_xaxes(title_text="scenario")
        fig.update_yaxes(title_text=f"difference ({shown_unit})")
        figures.append(_Chart(fig, wide=len(rows) > WIDE_CATEGORIES // 3))
    return figures


def _language_tables(v: language_view.View) -> str:
    heads = [f"{name} ({role.label})" if (name := v.cast[role]) else f"{role.label} (nobody)"
             for role in language_view.ROLES]
    rows = []
    for row in v.rows:
        figures = []
        for f in row.figures:
            value, interval = language_report.estimate_text(f, row.unit)
            figures.append(_h(f"{value} {interval}".rstrip()) if f.estimate else
                           f'<span class="empty">{_h(value)}</span>')
        differences = []
        for d in row.differences:
            value, interval = language_report.difference_text(d)
            word = f'<span class="verdict">{_h(d.word)}</span>' if d.significant else _h(d.word)
            differences.append(f"{_h(value)} {_h(interval)}<br>{word}" if d.value is not None
                               else f'<span class="empty">{_h(d.word)}</span>')
        rows.append([_h(row.scenario), f"<code>{_h(row.model)}</code>",
                     "-" if row.level is None else _h(row.level),
                     f"<code>{_h(row.metric)}</code>", *figures, *differences])
    main = _table(["scenario", "model", "concurrency", "figure", *heads,
                   *(d.label for d in language_view.DIFFERENCES)], rows,
                  [False, False, True, False] + [True] * len(language_view.ROLES))
    usage_rows = []
    for row in v.rows:
        for f, u in zip(row.figures, row.usage, strict=True):
            status = f.why if u is None else f"{u.rounds} round{'s' if u.rounds != 1 else ''}"
            cells = ([_h(language_view.resource_text(u, field))
                      for _, field in language_view.RESOURCE_FIELDS] if u is not None
                     else ["-"] * len(language_view.RESOURCE_FIELDS))
            usage_rows.append([
                _h(row.scenario) + (f" ({_h(row.turns)} turns)" if row.turns else ""),
                f"<code>{_h(row.model)}</code>", _h(f.contestant or "-"), _h(f.role.label),
                _h(status), *cells])
    usage = _table(["scenario", "model", "contestant", "role", "status",
                    *(label for label, _ in language_view.RESOURCE_FIELDS)], usage_rows,
                   [False] * 5 + [True] * len(language_view.RESOURCE_FIELDS))
    notes = "".join(f"<p>Note: {_h(n)}.</p>" for n in v.notes)
    return (f"<p>Who is who: {_h(language_view.cast_line(v))}.</p>{notes}{main}"
            f"<h3>What each contestant cost the machine</h3><p>"
            f"{_h(language_report.RESOURCES_CAPTION)}.</p>{usage}")


# --- tables ---------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Sequence[bool] = ()) -> str:
    """`rows` hold HTML already escaped."""
    head = "".join(f"<th>{_h(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f"<td class=\"num\">{cell}</td>" if i < len(numeric) and numeric[i]
            else f"<td>{cell}</td>" for i, cell in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _claim_value(value: float | None, measure: str) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f} pts" if "points" in measure else f"{value:.2f}×"


def _claims_table(found: Sequence[Claim]) -> str:
    if not found:
        return '<p class="empty">No published figure applies to this run.</p>'
    # A claim measured at several concurrency levels is one row per level, when it says so.
    levels = [getattr(c, "level", None) for c in found]
    by_level = any(level is not None for level in levels)
    rows = []
    for c, level in zip(found, levels, strict=True):
        css = "v-" + c.verdict.replace(" ", "-")
        interval = ("-" if c.low is None or c.high is None
                    else f"{_claim_value(c.low, c.measure)} – {_claim_value(c.high, c.measure)}")
        rows.append([
            _h(c.scenario), f"<code>{_h(c.metric)}</code>", _h(c.measure),
            f"<code>{_h(c.model)}</code>" if c.model else "-",
            *([_h(level) if level is not None else "-"] if by_level else []),
            _claim_value(c.article, c.measure), _claim_value(c.measured, c.measure),
            interval, f'<span class="verdict {_h(css)}">{_h(c.verdict)}</span>', _h(c.reason),
        ])
    return _table(["scenario", "metric", "compares", "model",
                   *(["concurrency"] if by_level else []), "article", "measured",
                   "95% interval", "verdict", "reason"], rows,
                  [False] * 4 + [True] * (4 if by_level else 3))


def _comparisons_table(found: Sequence[Comparison]) -> str:
    if not found:
        return ('<p class="empty">No two contestants passed every round of the same case: '
                'nothing to compare.</p>')
    rows = []
    for c in found:
        unit = unit_of(c.metric)
        interval = (f"{c.interval.low:.2f}× – {c.interval.high:.2f}×" if c.interval
                    else "-")
        rows.append([
            _h(c.scenario), f"<code>{_h(c.model)}</code>",
            "-" if c.level is None else _h(c.level), f"<code>{_h(c.metric)}</code>",
            _h(c.a), _h(c.b), _h(fmt_value(c.a_estimate.mean, unit)),
            _h(fmt_value(c.b_estimate.mean, unit)), f"{c.ratio:.2f}×", interval, _h(c.word),
            _h(c.cause or "-"),
        ])
    return _table(["scenario", "model", "concurrency", "metric", "A", "B", "A mean", "B mean",
                   "B ÷ A", "95% interval", "word", "cause"], rows,
                  [False, False, True, False, False, False, True, True, True, True])


def _figures_table(ctx: _Context) -> str:
    rows = []
    for g in sorted(ctx.groups, key=lambda g: (
            _scenario_rank(g.key.scenario), g.key.model,
            ctx.contestants.index(g.key.contestant) if g.key.contestant in ctx.contestants
            else len(ctx.contestants), g.key.level or 0)):
        metric = g.primary_metric
        unit = unit_of(metric)
        est = g.estimate(metric)
        statuses = ", ".join(sorted({r.status.value for r in g.records}))
        rows.append([
            _h(g.key.scenario), _h(g.key.contestant), f"<code>{_h(g.key.model)}</code>",
            "-" if g.key.level is None else _h(g.key.level), f"<code>{_h(metric)}</code>",
            _h(fmt_value(est.mean, unit)) if est else "-",
            _h(_interval(est.low, est.high, unit)) if est else "-",
            f"{len(g.passed)} of {len(g.records)}", _h(statuses),
        ])
    if not rows:
        return '<p class="empty">No scenario ran.</p>'
    return _table(["scenario", "contestant", "model", "concurrency", "metric", "mean",
                   "95% CI", "rounds passed", "status"], rows,
                  [False, False, False, True, False, True, True, True])


def _failures(results: RunResults) -> str:
    failed = [r for r in results.records
              if r.status not in (Status.PASSED, Status.NOT_IMPLEMENTED)]
    missing = sorted({(r.scenario, r.contestant) for r in results.records
                      if r.status is Status.NOT_IMPLEMENTED})
    parts = []
    if failed:
        items = "".join(
            f"<li><b>{_h(r.scenario)} / {_h(r.contestant)}</b> on <code>{_h(r.model)}</code>, "
            f"round {r.round + 1}: {_h(r.status.value)}"
            + ("<ul>" + "".join(f"<li><pre>{_h(e)}</pre></li>" for e in r.errors) + "</ul>"
               if r.errors else "") + "</li>" for r in failed)
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append('<p class="empty">Every run that was implemented passed.</p>')
    if missing:
        parts.append("<p>Not implemented: " + ", ".join(
            f"{_h(s)} ({_h(c)})" for s, c in missing) + ".</p>")
    return "".join(parts)


# --- the page -------------------------------------------------------------------------------


def _header(results: RunResults) -> str:
    h = results.header
    env = h.environment
    models = list(dict.fromkeys(r.model for r in results.records))
    machine = (f"{env.get('cpu_model', '?')}, {env.get('cpu_count', '?')} CPUs; "
               f"{env.get('platform', '?')}; {env.get('python', '?')}; "
               f"{env.get('go') or 'Go not found'}")
    server = (f"chainmark-server at {h.llm_url}"
              + (f", forwarding the real model to {h.llm_upstream} "
                 f"({'Ollama started by chainmark' if h.llm_upstream_embedded else '--llm-url'})"
                 if h.llm_upstream else " (synthetic models only)"))
    contestants = "".join(
        f"<li><b>{_h(name)}</b> ({_h(info.language)}"
        + (f"; the article's {_h(info.article_side)} column" if info.article_side else "")
        + ")" + (f": {_h(info.description)}" if info.description else "") + "</li>"
        for name, info in h.contestants.items())
    items = [
        ("run", f"<code>{_h(h.run_id)}</code>"
         + (f" (git <code>{_h(env['git_commit'])}</code>)" if env.get("git_commit") else "")),
        ("profile", f"<code>{_h(h.profile)}</code>"),
        ("rounds", _h(h.rounds)),
        ("time", f"started {_h(h.started_at)}, finished {_h(h.finished_at or '-')}"
         + (" <b>(interrupted)</b>" if h.interrupted else "")),
        ("machine", _h(machine)),
        ("LLM server", _h(server)),
        ("models", ", ".join(f"<code>{_h(m)}</code>" for m in models) or "-"),
        ("command", f"<code>{_h(' '.join(h.command))}</code>"),
    ]
    if contestants:
        items.append(("contestants", f"<ul>{contestants}</ul>"))
    dl = "".join(f"<dt>{_h(k)}</dt><dd>{v}</dd>" for k, v in items)
    environment = json.dumps(env, indent=1, sort_keys=True, default=str)
    return (f"<h1>chainmark results — {_h(h.run_id)}</h1><dl class=\"header\">{dl}</dl>"
            '<p class="note">The article\'s figures (in the claims table) are the article\'s '
            "own, measured with llama3:8b on other hardware: claims to compare against, not "
            "measurements of this run. Every figure here names the model that produced it; "
            "<code>synthetic</code> models answer deterministically with a latency profile."
            "</p><details><summary>environment (as recorded)</summary>"
            f"<pre>{_h(environment)}</pre></details>")


@dataclass
class _Section:
    anchor: str
    title: str
    intro: str
    body: str


def _charts(charts: Sequence[_Chart], start: int) -> str:
    divs = [
        f'<figure class="chart{" wide" if chart.wide else ""}">' + pio.to_html(
            chart.figure, include_plotlyjs=False, full_html=False, config=PLOTLY_CONFIG,
            div_id=f"chart-{start + i}", default_width="100%", default_height=f"{HEIGHT}px")
        + "</figure>" for i, chart in enumerate(charts)]
    return f'<div class="charts">{"".join(divs)}</div>'


def render(results: RunResults) -> str:
    """The whole page, self-contained: open it from disk, with no network."""
    ctx = _Context(results, groups(results), contestant_order(results))
    sections: list[_Section] = []
    count = 0

    def charts(figures: list[_Chart], empty: str, extra: str = "") -> str:
        nonlocal count
        if not figures:
            return f'<p class="empty">{empty}</p>{extra}'
        body = _charts(figures, count) + extra
        count += len(figures)
        return body

    sections.append(_Section(
        "overhead", "Framework overhead",
        "Per operation, the time the client spent beyond the server's own time for it "
        "(framework, client library, serialisation, the loopback socket), pooled over the "
        "rounds; bars are 95% intervals over the rounds.",
        charts(_overhead_figures(ctx),
               "No scenario in this run recorded overhead (it needs the server's log and "
               "sequential operations).")))
    sections.append(_Section(
        "split", "Where end-to-end time goes",
        "Mean time per operation, stacked: the server's time (the model server and "
        "chainmark-server) and the framework's overhead on top.",
        charts(_split_figures(ctx), "No scenario in this run has both server time and "
               "overhead.")))
    sweep_figures, sweep_notes = _concurrency(ctx)
    notes = "".join(f"<p>{s}</p>" for s in sweep_notes)
    sections.append(_Section(
        "concurrency", "Concurrency curves",
        "Throughput and p99 latency of the concurrent scenarios at each concurrency level.",
        charts(sweep_figures, "No concurrency sweep with two or more levels in this run."
               if sweep_notes else "No concurrent scenario ran in this run.", notes)))
    sections.append(_Section(
        "memory", f"{MEMORY_SCENARIO}: growth over turns",
        "Latency and resident memory at each checkpoint turn of the long conversation.",
        charts(_memory_figures(ctx), f"{MEMORY_SCENARIO} did not run, or recorded no "
               "checkpoints.")))
    sections.append(_Section(
        "distributions", "Latency distributions",
        "Per scenario, each contestant's rounds side by side: the p50 with whiskers from min "
        "to max, and the p90, p99 and mean, of the scenario's time metric.",
        charts(_distribution_figures(ctx), "No duration was measured in this run.")))
    sections.append(_Section(
        "claims", "The article's claims",
        "Each published figure beside the same ratio measured here (LangChain Python against "
        "LangChainGo, whoever stands for the article's columns), with its 95% interval over "
        "the rounds and a verdict.", _claims_table(claims(results))))
    sections.append(_Section(
        "comparisons", "Pairwise comparisons",
        "Every pair of contestants on every case both passed in every round: B's value over "
        "A's (paired by round), its 95% interval, and what it means.",
        _comparisons_table(comparisons(results))))
    language = language_view.view(results)
    sections.append(_Section(
        "language", "Language or framework?", language_report.INTRO,
        charts(_language_figures(language), "No difference could be computed in this run: it "
               "needs a framework and a baseline of one language, or the two baselines, each "
               "passing the same scenario.", _language_tables(language))
        if language.shown else
        '<p class="empty">Fewer than two of the four roles (a framework and a baseline in '
        "Python and in Go) were played in this run: nothing to compare.</p>"))
    sections.append(_Section(
        "figures", "Every figure", "The primary metric of each scenario, contestant, model "
        "and level, pooled over the rounds.", _figures_table(ctx)))
    sections.append(_Section("failures", "Failures", "", _failures(results)))

    nav = "".join(f'<li><a href="#{s.anchor}">{_h(s.title)}</a></li>' for s in sections)
    body = "".join(
        f'<section id="{s.anchor}"><h2>{_h(s.title)}</h2>'
        + (f"<p>{_h(s.intro)}</p>" if s.intro else "") + s.body + "</section>"
        for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>chainmark — {_h(results.header.run_id)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"{_header(results)}<nav><ul>{nav}</ul></nav>{body}"
        f"<footer><p>Written by chainmark; {count} charts; plotly.js inlined, no network "
        "needed.</p></footer></body></html>\n")


def write(results: RunResults, path: Path) -> Path:
    path.write_text(render(results), encoding="utf-8")
    return path

