"""How a figure is written: durations in µs / ms / s, rates and sizes with their units, and a
metric's unit from its name. Shared by every report (terminal, Markdown, HTML, CSV)."""

from __future__ import annotations


def fmt_value(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    if unit == "s":
        if abs(value) < 1e-3:
            return f"{value * 1e6:.0f} µs"
        if abs(value) < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.3f} s"
    return f"{value:,.2f} {unit}".rstrip()


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) / 2**20:.1f} MiB"


RATE_UNITS = {"mb": "MB/s", "docs": "docs/s", "chunks": "chunks/s", "ops": "ops/s",
              "req": "req/s"}


def unit_of(metric: str) -> str:
    """`*_per_s` metrics are rates (docs_per_s → docs/s); other `*_s` are durations."""
    head, sep, _ = metric.partition("_per_s")
    if sep:
        return RATE_UNITS.get(head.rsplit("_", 1)[-1], "/s")
    if metric.endswith("_pct"):
        return "%"
    return "s" if metric.endswith("_s") else ""
