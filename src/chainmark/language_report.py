"""The language-vs-framework view (chainmark.language_view) as text: terminal tables that fit
the width they are printed at without cutting a name (chainmark.tables), and the Markdown
sections of report.md."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.text import Text

from chainmark import tables
from chainmark.formats import fmt_value
from chainmark.harness.records import RunResults
from chainmark.language_view import (
    DIFFERENCES,
    RESOURCE_FIELDS,
    ROLES,
    Difference,
    Figure,
    Row,
    View,
    cast_line,
    resource_text,
    signed,
    span,
    view,
)

TITLE = "Language or framework? (95 % intervals over paired rounds)"
CAPTION = ("framework cost: a language's framework − its baseline; language cost: Python "
           "baseline − Go baseline; more: a larger figure (slower for a time, faster for a "
           "rate)")
RESOURCES_TITLE = "What each contestant cost the machine (means over passed rounds)"
RESOURCES_CAPTION = ("CPU all: the whole process, start-up and imports included (from the "
                     "kernel); CPU timed: inside the timed region (sampled); RSS growth: end − "
                     "start of the timed region")


def estimate_text(f: Figure, unit: str) -> tuple[str, str]:
    """The figure's mean and its interval ("" when it has none), or why it has no number."""
    e = f.estimate
    if e is None:
        return f.why, ""
    interval = ("" if e.low is None or e.high is None
                else span(fmt_value(e.low, unit), fmt_value(e.high, unit)))
    return fmt_value(e.mean, unit), interval


def difference_text(d: Difference) -> tuple[str, str]:
    """The difference and its interval, or ("-", "") when a side is missing."""
    if d.value is None:
        return "-", ""
    return signed(d.value, d.unit), "" if d.interval is None else d.interval_text


def _dim(text: str) -> Text | None:
    return Text(text, style="dim") if text else None


def _who(f: Figure) -> Text:
    if f.contestant is None:
        return Text(f.role.label)
    return tables.stacked(f.contestant, _dim(f.role.label))


def _figure_cells(f: Figure, unit: str) -> tuple[Text, Text]:
    value, interval = estimate_text(f, unit)
    if f.estimate is None:
        return Text("-"), Text(value, style="yellow")
    return tables.stacked(value, _dim(interval)), Text("")


def _difference_cells(d: Difference) -> tuple[Text, Text]:
    value, interval = difference_text(d)
    style = "bold" if d.significant else ("yellow" if d.missing else "")
    return tables.stacked(value, _dim(interval)), Text(d.word, style=style)


def _heading(row: Row) -> str:
    return f"{row.heading} · {row.metric}"


def _block_rows(row: Row) -> list[list[tables.Cell]]:
    rows: list[list[tables.Cell]] = []
    for f in row.figures:
        value, why = _figure_cells(f, row.unit)
        rows.append([_who(f), value, why])
    for d in row.differences:
        value, word = _difference_cells(d)
        rows.append([Text(d.spec.label, style="italic"), value, word])
    return rows


def _line(row: Row) -> list[RenderableType]:
    lines: list[RenderableType] = [Text.assemble("\n", (_heading(row), "bold"))]
    for f in row.figures:
        value, interval = estimate_text(f, row.unit)
        lines.append(Padding(Text(f"{f.who}: {value}" + (f" {interval}" if interval else "")),
                             (0, 0, 0, 2)))
    for d in row.differences:
        value, interval = difference_text(d)
        shown = "" if d.value is None else f"{value}" + (f" {interval}" if interval else "")
        lines.append(Padding(Text(f"{d.spec.label}: " + (f"{shown} — " if shown else "")
                                  + d.word), (0, 0, 0, 2)))
    return lines


def table(v: View) -> tables.Fit:
    """A column per contestant and per difference when they fit; else a block per scenario
    with a row per contestant and per difference; else lines."""
    role_heads = [v.cast[role] or role.label for role in ROLES]
    flat = tables.Flat(
        cols=[tables.Col("scenario / model"), tables.Col("figure"),
              *(tables.Col(h, justify="right") for h in role_heads),
              *(tables.Col(d.label, justify="right") for d in DIFFERENCES)],
        rows=[[tables.stacked(row.scenario, _dim(row.model),
                              _dim(f"c={row.level}" if row.level is not None else "")),
               row.metric,
               *(tables.stacked(*_figure_cells(f, row.unit)) for f in row.figures),
               *(tables.stacked(*_difference_cells(d)) for d in row.differences)]
              for row in v.rows],
        title=TITLE, caption=CAPTION)
    blocks = tables.Blocks(
        cols=[tables.Col("contestant / difference"), tables.Col("value [95 %]", justify="right"),
              tables.Col("verdict", wrap=True)],
        blocks=[(Text(_heading(row)), _block_rows(row)) for row in v.rows],
        title=TITLE, caption=CAPTION)
    lines: list[RenderableType] = [Text(TITLE, style="bold")]
    for row in v.rows:
        lines += _line(row)
    lines.append(Text(CAPTION, style="dim"))
    return tables.Fit(flat, blocks, tables.Lines(lines))


def _resource_heading(row: Row) -> str:
    turns = f" · {row.turns}-turn conversation" if row.turns is not None else ""
    return f"{row.heading}{turns}"


def resources_table(v: View) -> tables.Fit:
    blocks = []
    lines: list[RenderableType] = [Text(RESOURCES_TITLE, style="bold")]
    for row in v.rows:
        rows: list[list[tables.Cell]] = []
        lines.append(Text.assemble("\n", (_resource_heading(row), "bold")))
        for f, u in zip(row.figures, row.usage, strict=True):
            if u is None:
                rows.append([tables.stacked(_who(f), Text(f.why, style="yellow")),
                             *(["-"] * len(RESOURCE_FIELDS))])
                lines.append(Padding(Text(f"{f.who}: {f.why}"), (0, 0, 0, 2)))
                continue
            cells = [resource_text(u, field) for _, field in RESOURCE_FIELDS]
            rows.append([_who(f), *cells])
            lines.append(Padding(Text(f"{f.who}: " + " · ".join(
                f"{label} {cell}" for (label, _), cell in zip(RESOURCE_FIELDS, cells,
                                                               strict=True))), (0, 0, 0, 2)))
        blocks.append((Text(_resource_heading(row)), rows))
    lines.append(Text(RESOURCES_CAPTION, style="dim"))
    return tables.Fit(
        tables.Blocks(cols=[tables.Col("contestant"),
                            *(tables.Col(label, justify="right") for label, _ in RESOURCE_FIELDS)],
                      blocks=blocks, title=RESOURCES_TITLE, caption=RESOURCES_CAPTION),
        tables.Lines(lines))


def print_view(results: RunResults, console: Console) -> None:
    v = view(results)
    if not v.shown:
        return
    console.print(table(v))
    console.print(resources_table(v))
    console.print(f"who is who: {cast_line(v)}", markup=False, highlight=False, style="dim")
    for note in v.notes:
        console.print(f"note: {note}", markup=False, style="yellow")


# --- Markdown ----------------------------------------------------------------------------------


def _md(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_figure(f: Figure, unit: str) -> str:
    value, interval = estimate_text(f, unit)
    return f"{value} {interval}".rstrip()


def _md_difference(d: Difference) -> str:
    value, interval = difference_text(d)
    if d.value is None:
        return d.word
    return f"{value} {interval}".rstrip() + f": {d.word}"


INTRO = (
    "For each scenario, the figure it is about (its headline, named in docs/scenarios.md: "
    "framework overhead per operation where the server's log gives it, else its primary "
    "metric) for a framework and a framework-free baseline in each language, each a mean "
    "with a 95 % t-interval over its rounds; and three differences: framework cost in "
    "Python and in Go (the framework − the baseline of the same language) and language "
    "cost (the Python baseline − the Go baseline). A difference's interval is a t-interval "
    "on the per-round differences (rounds paired as they ran back to back); with one round, "
    "Welch's over the round's operations. \"more\" means a larger figure: slower for a time, "
    "faster for a rate. A cell without a number says why: not run, not implemented, failed "
    "(in which rounds) or not measured.")


def markdown(results: RunResults) -> list[str]:
    v = view(results)
    if not v.shown:
        return []
    heads = [f"{name} ({role.label})" if (name := v.cast[role]) else f"{role.label} (nobody)"
             for role in ROLES]
    lines = ["", "## Language or framework?", "", INTRO, "", f"Who is who: {cast_line(v)}.",
             *(f"\nNote: {n}." for n in v.notes), "",
             _md(["scenario", "model", "level", "figure", *heads,
                  *(d.label for d in DIFFERENCES)]),
             "|---|---|--:|---|" + "--:|" * (len(ROLES) + len(DIFFERENCES))]
    for row in v.rows:
        lines.append(_md([row.scenario, f"`{row.model}`",
                          "-" if row.level is None else str(row.level),
                          f"`{row.metric}`", *(_md_figure(f, row.unit) for f in row.figures),
                          *(_md_difference(d) for d in row.differences)]))
    meanings: dict[tuple[str, str], list[str]] = {}
    for row in v.rows:
        if row.meaning != row.metric:
            meanings.setdefault((row.metric, row.meaning), []).append(row.scenario)
    if meanings:
        lines += ["", "Figures: " + "; ".join(
            f"`{metric}` ({', '.join(dict.fromkeys(where))}): {text}"
            for (metric, text), where in meanings.items()) + "."]
    lines += ["", "### What each contestant cost the machine", "",
              "Means over each contestant's passed rounds of the same scenario. " +
              RESOURCES_CAPTION + "; for a conversation (ops.memory), RSS growth is the "
              "memory its history added over the turns.", "",
              _md(["scenario", "model", "level", "contestant", "role", "status",
                   *(label for label, _ in RESOURCE_FIELDS)]),
              "|---|---|--:|---|---|---|" + "--:|" * len(RESOURCE_FIELDS)]
    for row in v.rows:
        scenario = row.scenario + (f" ({row.turns} turns)" if row.turns is not None else "")
        for f, u in zip(row.figures, row.usage, strict=True):
            status = (f.why if u is None else
                      f"{u.rounds} round{'s' if u.rounds != 1 else ''}")
            cells = ([resource_text(u, field) for _, field in RESOURCE_FIELDS] if u is not None
                     else ["-"] * len(RESOURCE_FIELDS))
            lines.append(_md([scenario, f"`{row.model}`",
                              "-" if row.level is None else str(row.level),
                              f.contestant or "-", f.role.label, status, *cells]))
    return lines
