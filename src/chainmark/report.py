"""Results as a terminal table and as Markdown beside the article's published figures."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from chainmark import scenarios as registry
from chainmark.harness.records import RunResults, ScenarioRecord, Status
from chainmark.stats import Summary

STATUS_STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.CRASHED: "red",
    Status.TIMEOUT: "red",
    Status.ERROR: "red",
    Status.NOT_IMPLEMENTED: "dim",
}
# The language each published column belongs to, by contestant.
PUBLISHED_SIDE = {"langchain-python": "python", "langchaingo": "go"}


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


def primary(record: ScenarioRecord) -> tuple[str, Summary | None]:
    scenario = registry.BY_NAME.get(record.scenario)
    name = scenario.primary_metric if scenario else "latency_s"
    return name, record.metrics.get(name)


def _ran(results: RunResults) -> list[ScenarioRecord]:
    return [r for r in results.records if r.status is not Status.NOT_IMPLEMENTED]


def table(results: RunResults) -> Table:
    header = results.header
    t = Table(
        title=f"chainmark · profile {header.profile} · {header.run_id}",
        caption="95% CI: bootstrap interval of the mean; overhead = client time − server time",
        header_style="bold",
    )
    for col, justify in (
        ("scenario", "left"), ("contestant", "left"), ("model", "left"), ("status", "left"),
        ("metric", "left"), ("n", "right"), ("mean", "right"), ("95% CI", "right"),
        ("p99", "right"), ("overhead", "right"), ("peak RSS", "right"), ("CPU", "right"),
        ("notes", "left"),
    ):
        wrap = col not in ("95% CI", "scenario", "model", "contestant", "metric")
        t.add_column(col, justify=justify, no_wrap=not wrap)  # type: ignore[arg-type]
    for r in _ran(results):
        metric, s = primary(r)
        unit = unit_of(metric)
        overhead = r.metrics.get("overhead_s")
        t.add_row(
            r.scenario,
            r.contestant,
            r.model,
            f"[{STATUS_STYLE[r.status]}]{r.status.value}[/]",
            metric,
            str(s.count) if s else "-",
            fmt_value(s.mean, unit) if s else "-",
            _ci(s, unit),
            fmt_value(s.p99, unit) if s and s.count > 1 else "-",
            fmt_value(overhead.mean) if overhead else "-",
            fmt_bytes(r.resources.peak_rss_bytes) if r.resources else "-",
            f"{r.resources.cpu_s:.2f} s" if r.resources else "-",
            notes(r),
        )
    return t


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
    missing = [r for r in results.records if r.status is Status.NOT_IMPLEMENTED]
    if missing:
        console.print(
            "[dim]not implemented: "
            + ", ".join(f"{r.scenario} ({r.contestant})" for r in missing)
            + "[/]"
        )


def _published(record: ScenarioRecord, metric: str) -> str:
    scenario = registry.BY_NAME.get(record.scenario)
    side = PUBLISHED_SIDE.get(record.contestant)
    if scenario is None or side is None:
        return "-"
    for p in scenario.published:
        if p.metric == metric:
            value = getattr(p, side)
            return fmt_value(value, "s" if p.unit == "s" else p.unit)
    return "-"


def _ratios(results: RunResults) -> list[str]:
    """LangChain Python against LangChainGo, measured here and as the article published it."""
    passed = {(r.scenario, r.contestant, r.model, str(r.params.get("concurrency"))): r
              for r in _ran(results) if r.status is Status.PASSED}
    rows = []
    for (scenario, contestant, model, level), py in sorted(passed.items()):
        go = passed.get((scenario, "langchaingo", model, level))
        if contestant != "langchain-python" or go is None:
            continue
        metric, py_s = primary(py)
        go_s = go.metrics.get(metric)
        if py_s is None or go_s is None or not go_s.mean or metric.endswith("_pct"):
            continue
        # Durations: how many times longer Python took; rates: how many times more Go did.
        rate = "_per_s" in metric
        measured = (go_s.mean / py_s.mean) if rate else (py_s.mean / go_s.mean)
        published = next((p for p in registry.BY_NAME[scenario].published
                          if p.metric == metric), None)
        claim = "-"
        if published and published.go and published.python:
            claim = (f"{published.go / published.python:.2f}×" if rate
                     else f"{published.python / published.go:.2f}×")
        # The absolute gap says whether the ratio matters next to the model's own time.
        gap = "-" if rate else fmt_value(py_s.mean - go_s.mean)
        rows.append(f"| {scenario} | `{model}` | {metric} | {measured:.2f}× | {gap} | {claim} |")
    if not rows:
        return []
    return ["", "## LangChainGo's advantage over LangChain Python", "",
            "Python's time ÷ Go's time (or Go's rate ÷ Python's rate): above 1× Go is faster. "
            "The article's ratio comes from its own figures (llama3:8b, its hardware).", "",
            "| scenario | model | metric | measured | Python − Go | article |",
            "|---|---|---|--:|--:|--:|",
            *rows]


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
        lines.append("| " + " | ".join([
            r.scenario, r.contestant, f"`{r.model}`", str(r.params["concurrency"]),
            fmt_value(rate.mean, "ops/s") if rate else "-",
            fmt_value(latency.p50) if latency else "-", fmt_value(latency.p99) if latency else "-",
            str(r.counts.get("failed", 0)), f"{server:.0%}" if server is not None else "-",
        ]) + " |")
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
            lines.append("| " + " | ".join([
                str(row["turn"]), fmt_value(row["latency_s"]), str(row["prompt_tokens"] or "-"),
                str(row["history_chars"] or "-"), fmt_bytes(row["rss_bytes"]),
                fmt_bytes(row["tracemalloc_current_bytes"]),
                fmt_bytes(row["tracemalloc_peak_bytes"]),
            ]) + " |")
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
        lines.append("| " + " | ".join([
            r.scenario, r.contestant, f"`{r.model}`", paths, f"{server.prompt_tokens:,}",
            fmt_value(server.server_s), fmt_value(server.load_s),
            fmt_value(server.prompt_eval_s), fmt_value(server.eval_s),
            fmt_value(overhead.total) if overhead else "-",
            fmt_value(server.cpu_per_request_s),
        ]) + " |")
    return lines


def _details(results: RunResults) -> list[str]:
    lines = ["", "## Every figure", "",
             "| scenario | contestant | metric | n | mean | std | min | p50 | p90 | p99 | max |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in _ran(results):
        for metric, s in r.metrics.items():
            u = unit_of(metric)
            lines.append("| " + " | ".join([
                r.scenario, r.contestant, metric, str(s.count), fmt_value(s.mean, u),
                fmt_value(s.std, u), fmt_value(s.min, u), fmt_value(s.p50, u),
                fmt_value(s.p90, u), fmt_value(s.p99, u), fmt_value(s.max, u),
            ]) + " |")
    lines += ["", "Resources, measured from outside each contestant process:", "",
              "| scenario | contestant | wall | CPU (all) | CPU (timed) | peak RSS | RSS growth "
              "| setup | extras |", "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for r in _ran(results):
        res = r.resources
        if res is None:
            continue
        extras = ", ".join(f"{k}={v}" for k, v in r.extras.items()) or "-"
        lines.append("| " + " | ".join([
            r.scenario, r.contestant, fmt_value(res.wall_s), fmt_value(res.cpu_s),
            fmt_value(res.cpu_measured_s), fmt_bytes(res.peak_rss_bytes),
            fmt_bytes(res.rss_growth_bytes), fmt_value(r.setup_s), extras,
        ]) + " |")
    for p in results.preparations:
        lines.append(f"\nPrepared (untimed) for {p.contestant} on `{p.model}`: {p.status.value}"
                     f" in {p.duration_s:.1f} s.")
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
        "published column is the article's figure for the same language (llama3:8b on its own "
        "hardware): a claim to compare against, not a measurement of this run.",
        "",
        "| scenario | contestant | model | status | metric | n | mean | 95% CI | p50 | p99 | "
        "std | overhead | peak RSS | CPU | published | notes |",
        "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in _ran(results):
        metric, s = primary(r)
        unit = unit_of(metric)
        overhead = r.metrics.get("overhead_s")
        cells = [
            r.scenario, r.contestant, f"`{r.model}`", r.status.value, metric,
            str(s.count) if s else "-",
            fmt_value(s.mean, unit) if s else "-",
            _ci(s, unit),
            fmt_value(s.p50, unit) if s else "-",
            fmt_value(s.p99, unit) if s else "-",
            fmt_value(s.std, unit) if s else "-",
            fmt_value(overhead.mean) if overhead else "-",
            fmt_bytes(r.resources.peak_rss_bytes) if r.resources else "-",
            f"{r.resources.cpu_s:.2f} s" if r.resources else "-",
            _published(r, metric),
            notes(r),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if h.corpus:
        c = h.corpus
        lines += ["", f"Corpus: {c['source']}; large document {c['large_document_bytes']:,} "
                  f"bytes, {c['docs_count']} documents ({c['docs_bytes']:,} bytes); "
                  f"sha256 `{c['sha256']}`."]
    lines += _ratios(results)
    lines += _sweep(results)
    lines += _checkpoints(results)
    lines += _server_side(results)
    lines += _details(results)
    lines += _parameters(results)
    failures = [r for r in _ran(results) if r.errors]
    if failures:
        lines += ["", "## Failures", ""]
        for r in failures:
            lines.append(f"- **{r.scenario} / {r.contestant}** ({r.status.value}):")
            lines += [f"  - {e.splitlines()[0] if e else e}" for e in r.errors]
    missing = [r for r in results.records if r.status is Status.NOT_IMPLEMENTED]
    if missing:
        lines += ["", "## Not implemented", ""]
        lines += [f"- {r.scenario}: {r.contestant}" for r in missing]
    lines += ["", "## Published figures (the article)", ""]
    shown = {r.scenario for r in _ran(results)}
    for scenario in registry.SCENARIOS:
        if scenario.name not in shown:
            continue
        for p in scenario.published:
            unit = "s" if p.unit == "s" else p.unit
            lines.append(
                f"- {scenario.name} `{p.metric}`: Go {fmt_value(p.go, unit)}, "
                f"Python {fmt_value(p.python, unit)}" + (f" ({p.note})" if p.note else "")
            )
    return "\n".join(lines) + "\n"
