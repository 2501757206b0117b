"""Language or framework? For every scenario a run measured, the figure the scenario is about
for four contestants — a framework and a framework-free baseline in Python and in Go — and
three differences, each with a 95 % interval over the interleaved rounds and a word:

- framework cost in Python: the Python framework − the Python baseline;
- framework cost in Go: the Go framework − the Go baseline;
- language cost: the Python baseline − the Go baseline.

The figure is the scenario's `headline` (chainmark.scenarios.spec: framework overhead per
operation wherever the server's log gives it, else the primary metric). Beside it, what each
contestant cost the machine on the same scenario: peak RSS, CPU seconds and RSS growth over the
timed region (for ops.memory: what the long conversation added).

Who plays which role comes from the results header, never from a list of names: the framework
of a language is the contestant standing for the article's column of that language
(`article_side`); its baseline is the contestant of that language marked `baseline`, or, in
results that mark none, the only contestant of that language standing for no column. A role
nobody plays, a scenario a contestant does not implement, and a contestant that failed a round
get a reason in their cell, never a number; a difference needs both sides.

Differences pair round i of one contestant with round i of the other (they ran back to back,
so drift between rounds cancels): a t-interval on the per-round differences. With one round
each, Welch's interval over the two rounds' operations; with rounds that do not pair, Welch's
over round means.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from chainmark.comparison import NO_DIFFERENCE
from chainmark.formats import fmt_bytes, fmt_value, unit_of
from chainmark.harness.records import ContestantInfo, RunResults, ScenarioRecord, Status
from chainmark.rounds import Estimate, Group, groups
from chainmark.scenarios import BY_NAME, OVERHEAD_METRIC
from chainmark.stats import DifferenceInterval, Summary, difference_interval, welch_difference

# Why a cell has no number.
NOT_RUN = "not run"
NOT_IMPLEMENTED = "not implemented"
FAILED = "failed"
NOT_MEASURED = "not measured"
NO_INTERVAL = "no interval (one value per side)"


@dataclass(frozen=True)
class Role:
    label: str
    language: str
    framework: bool


PY_FRAMEWORK = Role("Python, framework", "python", True)
PY_BASELINE = Role("Python, no framework", "python", False)
GO_FRAMEWORK = Role("Go, framework", "go", True)
GO_BASELINE = Role("Go, no framework", "go", False)
ROLES = (PY_FRAMEWORK, PY_BASELINE, GO_FRAMEWORK, GO_BASELINE)


@dataclass(frozen=True)
class DifferenceSpec:
    label: str
    minuend: Role
    subtrahend: Role


DIFFERENCES = (
    DifferenceSpec("framework cost in Python", PY_FRAMEWORK, PY_BASELINE),
    DifferenceSpec("framework cost in Go", GO_FRAMEWORK, GO_BASELINE),
    DifferenceSpec("language cost", PY_BASELINE, GO_BASELINE),
)


def cast(results: RunResults) -> tuple[dict[Role, str | None], list[str]]:
    """Which contestant plays each role (None: nobody in this run), and notes on why not."""
    infos = results.header.contestants
    found: dict[Role, str | None] = {}
    notes: list[str] = []
    if not infos:
        notes.append("the results header lists no contestants (a results file older than "
                     "schema 3): no role can be told")
    for role in ROLES:
        found[role], note = _player(role, infos)
        if note:
            notes.append(note)
    return found, notes


def _player(role: Role, infos: dict[str, ContestantInfo]) -> tuple[str | None, str | None]:
    if role.framework:
        sides = [n for n, i in infos.items() if i.article_side == role.language]
        return (sides[0] if sides else None), None
    bare = [n for n, i in infos.items() if i.language == role.language and not i.article_side]
    marked = [n for n in bare if infos[n].baseline]
    if marked:
        return marked[0], (f"{role.label}: {', '.join(marked)} are all marked baseline; "
                           f"{marked[0]} is shown" if len(marked) > 1 else None)
    if len(bare) > 1:
        return None, (f"{role.label}: several {role.language} contestants stand for no "
                      f"framework ({', '.join(bare)}) and none is marked baseline")
    return (bare[0] if bare else None), None


# --- one contestant's figure -------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    role: Role
    contestant: str | None
    estimate: Estimate | None = None
    # Why there is no number: NOT_RUN, NOT_IMPLEMENTED, FAILED or NOT_MEASURED; and a detail.
    missing: str | None = None
    detail: str = ""
    group: Group | None = None

    @property
    def who(self) -> str:
        return self.contestant or self.role.label

    @property
    def why(self) -> str:
        return f"{self.missing} ({self.detail})" if self.detail else str(self.missing)


def _failed_rounds(group: Group) -> str:
    """"r2; r3 timeout": each round that did not pass, with its status unless plain failed."""
    return "; ".join(f"r{r.round + 1}" + ("" if r.status is Status.FAILED else
                                          f" {r.status.value}")
                     for r in group.records if r.status is not Status.PASSED)


def _figure(role: Role, name: str | None, group: Group | None, not_implemented: bool,
            metric: str) -> Figure:
    if name is None:
        return Figure(role, None, missing=NOT_RUN)
    if group is None:
        return Figure(role, name, missing=NOT_IMPLEMENTED if not_implemented else NOT_RUN)
    if not group.all_passed:
        return Figure(role, name, missing=FAILED, detail=_failed_rounds(group), group=group)
    estimate = group.estimate(metric)
    if estimate is None:
        return Figure(role, name, missing=NOT_MEASURED, detail=f"no {metric}", group=group)
    return Figure(role, name, estimate, group=group)


# --- a difference ------------------------------------------------------------------------------


def amount(value: float, unit: str) -> str:
    """A size of difference in the metric's unit (percentages as points)."""
    return f"{value:.1f} pt" if unit == "%" else fmt_value(value, unit)


def signed(value: float, unit: str) -> str:
    return ("+" if value > 0 else "") + amount(value, unit)


def span(low: str, high: str) -> str:
    """"[1.0 ms – 2.2 ms]" as "[1.0 – 2.2 ms]" when both ends have the same unit."""
    low_value, _, low_unit = low.partition(" ")
    _, _, high_unit = high.partition(" ")
    return f"[{low_value} – {high}]" if low_unit and low_unit == high_unit else f"[{low} – {high}]"


@dataclass(frozen=True)
class Difference:
    spec: DifferenceSpec
    minuend: str
    subtrahend: str
    unit: str
    value: float | None = None
    interval: DifferenceInterval | None = None
    # Why there is no number: which side is missing, and why.
    missing: str | None = None

    @property
    def significant(self) -> bool:
        return self.interval is not None and self.interval.significant

    @property
    def word(self) -> str:
        if self.missing is not None:
            return self.missing
        if self.interval is None or self.value is None:
            return NO_INTERVAL
        if not self.interval.significant:
            return NO_DIFFERENCE
        return f"{amount(abs(self.value), self.unit)} {'more' if self.value > 0 else 'less'}"

    @property
    def interval_text(self) -> str:
        if self.interval is None:
            return "-"
        return span(signed(self.interval.low, self.unit), signed(self.interval.high, self.unit))


def _only_summary(group: Group, metric: str) -> Summary:
    return next(r.metrics[metric] for r in group.passed if metric in r.metrics)


def _difference(spec: DifferenceSpec, a: Figure, b: Figure, metric: str, unit: str
                ) -> Difference:
    """a − b, paired by round where both ran the same rounds."""
    gone = [f"{f.who}: {f.why}" for f in (a, b) if f.missing is not None]
    if gone:
        return Difference(spec, a.who, b.who, unit, missing="; ".join(gone))
    assert a.group is not None and b.group is not None
    assert a.estimate is not None and b.estimate is not None
    va, vb = a.group.round_values(metric), b.group.round_values(metric)
    common = sorted(set(va) & set(vb))
    interval: DifferenceInterval | None
    if len(common) >= 2:
        interval = difference_interval([vb[r] for r in common], [va[r] for r in common],
                                       paired=True)
    elif len(va) == 1 and len(vb) == 1:
        sa, sb = _only_summary(a.group, metric), _only_summary(b.group, metric)
        interval = welch_difference(sb.mean, sb.std, sb.count, sa.mean, sa.std, sa.count,
                                    "operations of one round")
    else:
        interval = difference_interval(list(vb.values()), list(va.values()), paired=False,
                                       what="round means")
    value = interval.difference if interval is not None else a.estimate.mean - b.estimate.mean
    return Difference(spec, a.who, b.who, unit, value, interval)


# --- resources -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What one contestant cost the machine on one case: means over its passed rounds."""

    peak_rss_bytes: float | None
    cpu_s: float | None  # the whole process, start-up included (wait4)
    cpu_timed_s: float | None  # inside the timed region, from samples
    rss_growth_bytes: float | None  # end − start of the timed region
    rounds: int
    # How many rounds gave each field a value (a short timed region has no CPU sample).
    counts: dict[str, int]


def _mean(values: Iterable[float | int | None]) -> float | None:
    seen = [float(v) for v in values if v is not None]
    return sum(seen) / len(seen) if seen else None


def usage(records: list[ScenarioRecord]) -> Usage:
    res = [r.resources for r in records if r.resources is not None]
    columns = {"peak_rss_bytes": [r.peak_rss_bytes for r in res],
               "cpu_s": [r.cpu_s for r in res],
               "cpu_timed_s": [r.cpu_measured_s for r in res],
               "rss_growth_bytes": [r.rss_growth_bytes for r in res]}
    return Usage(**{k: _mean(v) for k, v in columns.items()}, rounds=len(res),
                 counts={k: sum(x is not None for x in v) for k, v in columns.items()})


RESOURCE_FIELDS = (("peak RSS", "peak_rss_bytes"), ("CPU all", "cpu_s"),
                   ("CPU timed", "cpu_timed_s"), ("RSS growth", "rss_growth_bytes"))


def resource_text(u: Usage, field: str) -> str:
    value = getattr(u, field)
    if value is None:
        return "-"
    return fmt_bytes(round(value)) if field.endswith("_bytes") else fmt_value(value)


# --- the view ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One case (scenario, model, concurrency level): the four figures and three differences,
    and what each contestant cost the machine."""

    scenario: str
    model: str
    level: int | None
    metric: str
    unit: str
    meaning: str
    figures: tuple[Figure, ...]  # in ROLES order
    differences: tuple[Difference, ...]  # in DIFFERENCES order
    usage: tuple[Usage | None, ...]  # in ROLES order; None where the figure says why
    # The conversation's length, for a scenario with `turns` (ops.memory).
    turns: int | None = None

    @property
    def heading(self) -> str:
        level = f" · c={self.level}" if self.level is not None else ""
        return f"{self.scenario} · {self.model}{level}"


@dataclass(frozen=True)
class View:
    cast: dict[Role, str | None]
    rows: list[Row]
    notes: list[str]

    @property
    def shown(self) -> bool:
        """Two roles played, at least: with fewer no difference can exist."""
        return sum(name is not None for name in self.cast.values()) >= 2 and bool(self.rows)


def meaning(scenario: str, metric: str) -> str:
    """What the figure is, where its name does not say (framework overhead)."""
    if metric != OVERHEAD_METRIC:
        return metric
    text = "framework overhead per operation: client time beyond the LLM server's"
    known = BY_NAME.get(scenario)
    return text + (" (Chroma's included)" if known is not None and known.needs_chroma else "")


def _rank(scenario: str) -> int:
    order = list(BY_NAME)
    return order.index(scenario) if scenario in order else len(order)


def view(results: RunResults) -> View:
    roles, notes = cast(results)
    playing = {name for name in roles.values() if name is not None}
    records = [r for r in results.records if r.contestant in playing]
    by = {(g.key.case, g.key.contestant): g for g in groups(records)}
    not_implemented = {(r.scenario, r.contestant) for r in records
                       if r.status is Status.NOT_IMPLEMENTED}
    cases = list(dict.fromkeys(case for case, _ in by))
    # A scenario nobody ran, only declined, still gets its row.
    ran = {case[0] for case in cases}
    cases += list(dict.fromkeys((r.scenario, r.model, None) for r in records
                                if r.status is Status.NOT_IMPLEMENTED and r.scenario not in ran))
    cases.sort(key=lambda c: (_rank(c[0]), c[0], c[1], c[2] or 0))
    rows = []
    for scenario, model, level in cases:
        known = BY_NAME.get(scenario)
        metric = known.headline if known else "latency_s"
        unit = unit_of(metric)
        figures = tuple(
            _figure(role, roles[role], by.get(((scenario, model, level), roles[role] or "")),
                    (scenario, roles[role]) in not_implemented, metric)
            for role in ROLES)
        of = dict(zip(ROLES, figures, strict=True))
        differences = tuple(_difference(d, of[d.minuend], of[d.subtrahend], metric, unit)
                            for d in DIFFERENCES)
        usages = tuple(usage(f.group.passed) if f.group is not None and f.missing in
                       (None, NOT_MEASURED) else None for f in figures)
        turns = next((r.params["turns"] for f in figures if f.group is not None
                      for r in f.group.records if isinstance(r.params.get("turns"), int)), None)
        rows.append(Row(scenario, model, level, metric, unit, meaning(scenario, metric),
                        figures, differences, usages, turns))
    return View(roles, rows, notes)


def cast_line(v: View) -> str:
    """Who plays which role, in one line."""
    return "; ".join(f"{role.label}: {name or 'nobody in this run'}"
                     for role, name in v.cast.items())


# --- CSV -----------------------------------------------------------------------------------------


CSV_FIELDS = ("scenario", "model", "level", "kind", "name", "role", "metric", "unit", "value",
              "ci95_low", "ci95_high", "n", "method", "word")


def csv_rows(v: View) -> list[dict[str, object]]:
    """One row per figure, difference and resource figure: values as Python objects (None for
    an empty cell); `word` says why a value is missing, or what a difference means."""
    rows: list[dict[str, object]] = []
    for row in v.rows:
        common = {"scenario": row.scenario, "model": row.model, "level": row.level}
        for f, u in zip(row.figures, row.usage, strict=True):
            e = f.estimate
            rows.append({**common, "kind": "figure", "name": f.who, "role": f.role.label,
                         "metric": row.metric, "unit": row.unit,
                         "value": e.mean if e else None, "ci95_low": e.low if e else None,
                         "ci95_high": e.high if e else None, "n": e.rounds if e else None,
                         "method": e.method if e else None,
                         "word": f.why if f.missing is not None else None})
            for _, field in RESOURCE_FIELDS:
                value = getattr(u, field) if u is not None else None
                rows.append({**common, "kind": "resource", "name": f.who, "role": f.role.label,
                             "metric": field, "unit": "bytes" if "bytes" in field else "s",
                             "value": value, "n": u.counts[field] if u is not None else None,
                             "word": f.why if u is None else None})
        for d in row.differences:
            i = d.interval
            rows.append({**common, "kind": "difference", "name": d.spec.label,
                         "role": f"{d.minuend} − {d.subtrahend}", "metric": row.metric,
                         "unit": "pt" if row.unit == "%" else row.unit, "value": d.value,
                         "ci95_low": i.low if i else None, "ci95_high": i.high if i else None,
                         "n": i.n if i else None, "method": i.method if i else None,
                         "word": d.word})
    return [{k: r.get(k) for k in CSV_FIELDS} for r in rows]


def csv_text(results: RunResults) -> str:
    """The view as CSV text (header first): language.csv beside figures.csv."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()}
                     for row in csv_rows(view(results)))
    return buffer.getvalue()
