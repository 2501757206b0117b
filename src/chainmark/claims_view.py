"""The article's claims rendered: a terminal table (readable at 80 columns: long text wraps,
names never cut) and Markdown lines for report.md."""

from __future__ import annotations

from rich.table import Table

from chainmark.claims import DIRECTION_ONLY, NOT_MEASURABLE, NOT_REPRODUCED, REPRODUCED, Claim

VERDICT_STYLE = {REPRODUCED: "green", DIRECTION_ONLY: "yellow", NOT_REPRODUCED: "red",
                 NOT_MEASURABLE: "dim"}


def _number(value: float | None, percent: bool) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f} pt" if percent else f"{value:.2f}×"


def measured_text(c: Claim) -> str:
    percent = c.unit == "%"
    if c.measured is None:
        return "-"
    return (f"{_number(c.measured, percent)} "
            f"[{_number(c.low, percent)} – {_number(c.high, percent)}]")


def table(claims: list[Claim]) -> Table:
    t = Table(title="The article's claims, measured here", header_style="bold",
              caption="ratio: Python ÷ Go for times, Go ÷ Python for rates (above 1×: Go "
              "faster); pt: Python − Go in points; 95 % interval over paired rounds")
    t.add_column("scenario / metric", overflow="fold")
    t.add_column("article", justify="right", no_wrap=True)
    t.add_column("measured [95 %]", justify="right", overflow="fold")
    t.add_column("verdict", overflow="fold")
    for c in claims:
        style = VERDICT_STYLE.get(c.verdict, "")
        t.add_row(f"{c.scenario}\n{c.metric}", _number(c.article, c.unit == "%"),
                  measured_text(c), f"[{style}]{c.verdict}[/]\n[dim]{c.reason}[/]")
    return t


def markdown(claims: list[Claim]) -> list[str]:
    if not claims:
        return []
    lines = ["", "## The article's claims", "",
             "Each published figure beside the same metric measured here (the article: "
             "llama3:8b on its own hardware; here: the model named). Ratios are Python ÷ Go "
             "for times and Go ÷ Python for rates, so above 1× Go is faster; percentage "
             "changes compare as Python − Go in points. The interval is a 95 % t-interval "
             "over paired rounds.", "",
             "| scenario | metric | model | article | measured | 95 % interval | verdict | "
             "why |", "|---|---|---|--:|--:|--:|---|---|"]
    for c in claims:
        percent = c.unit == "%"
        interval = (f"{_number(c.low, percent)} – {_number(c.high, percent)}"
                    if c.low is not None else "-")
        lines.append(f"| {c.scenario} | {c.metric} | `{c.model or '-'}` | "
                     f"{_number(c.article, percent)} | {_number(c.measured, percent)} | "
                     f"{interval} | {c.verdict} | {c.reason} |")
    return lines
