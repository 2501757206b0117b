"""The language-vs-framework view: four roles, three differences with paired intervals, and a
reason instead of a number wherever a side is missing.

Pure functions over data: the records are built by hand (summaries from lists with
`chainmark.stats.summarize`), with contestant names that are none of chainmark's own, since
roles come from the results header. Expected intervals are worked out here by hand.
"""

from __future__ import annotations

import io
import math

import pytest
from rich.cells import cell_len
from rich.console import Console

from chainmark import language_report, language_view
from chainmark.harness.records import (
    ContestantInfo,
    Resources,
    RunHeader,
    RunResults,
    ScenarioRecord,
    Status,
)
from chainmark.language_view import GO_BASELINE, GO_FRAMEWORK, PY_BASELINE, PY_FRAMEWORK
from chainmark.scenarios import OVERHEAD_METRIC, SCENARIOS
from chainmark.scenarios.spec import ANY_OPERATION
from chainmark.stats import difference_interval, summarize, t975

LC_PY, BARE_PY, LC_GO, BARE_GO = "lc-py", "bare-py", "lc-go", "bare-go"
FOUR = {
    LC_PY: ContestantInfo(language="python", article_side="python"),
    BARE_PY: ContestantInfo(language="python", baseline=True),
    LC_GO: ContestantInfo(language="go", article_side="go"),
    BARE_GO: ContestantInfo(language="go", baseline=True),
}
MS = 1e-3


def rec(scenario: str, contestant: str, round_: int, metrics: dict[str, list[float]], *,
        status: Status = Status.PASSED, model: str = "synthetic", rss_mib: float = 50.0,
        cpu_s: float = 1.0, params: dict | None = None) -> ScenarioRecord:
    summaries = {name: s for name, values in metrics.items() if (s := summarize(values))}
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, round=round_,
        language=FOUR.get(contestant, ContestantInfo(language="python")).language,
        model=model, profile="quick", status=status, params=params or {}, metrics=summaries,
        resources=Resources(wall_s=2.0, cpu_s=cpu_s, cpu_measured_s=cpu_s / 2,
                            peak_rss_bytes=int(rss_mib * 2**20), rss_growth_bytes=2**20),
        started_at="2026-01-01T00:00:00Z", duration_s=2.0)


def run(records: list[ScenarioRecord], contestants: dict[str, ContestantInfo] | None = None,
        rounds: int = 3) -> RunResults:
    header = RunHeader(run_id="test", started_at="2026-01-01T00:00:00Z", profile="quick",
                       command=["chainmark", "run"], llm_url="http://127.0.0.1:1",
                       contestants=FOUR if contestants is None else contestants,
                       rounds=rounds)
    return RunResults(header=header, records=records)


# Per round, llm.latency's overhead in ms. The rounds drift a lot (10, 20, 30 ms) and hit every
# contestant alike: only pairing rounds sees that the Python framework costs ~2 ms.
DRIFT = (10.0, 20.0, 30.0)
OVERHEAD_MS = {
    LC_PY: [d + extra for d, extra in zip(DRIFT, (2.0, 2.1, 1.9), strict=True)],
    BARE_PY: list(DRIFT),
    LC_GO: [d - 5 + e for d, e in zip(DRIFT, (1.0, -1.0, 0.5), strict=True)],
    BARE_GO: [d - 5 for d in DRIFT],
}


def latency_records(names: tuple[str, ...] = (LC_PY, BARE_PY, LC_GO, BARE_GO)
                    ) -> list[ScenarioRecord]:
    return [rec("llm.latency", name, r, {"latency_s": [(v + 1) * MS] * 2,
                                         "overhead_s": [v * MS] * 2,
                                         "server_s": [1 * MS] * 2},
                rss_mib=200.0 if name == LC_PY else 30.0)
            for r in range(3) for name in names
            for v in [OVERHEAD_MS[name][r]]]


def row_of(results: RunResults, scenario: str) -> language_view.Row:
    return next(r for r in language_view.view(results).rows if r.scenario == scenario)


def paired_t(differences: list[float]) -> tuple[float, float, float]:
    n = len(differences)
    mean = sum(differences) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def test_paired_rounds_give_the_framework_cost_with_a_t_interval():
    row = row_of(run(latency_records()), "llm.latency")
    assert row.metric == OVERHEAD_METRIC
    python, go, language = row.differences
    mean, low, high = paired_t([2.0, 2.1, 1.9])
    assert python.value == pytest.approx(mean * MS)
    assert python.interval is not None
    assert (python.interval.low, python.interval.high) == (pytest.approx(low * MS),
                                                           pytest.approx(high * MS))
    assert python.interval.method == "paired t on differences, 3 rounds"
    assert python.word == "2.0 ms more"
    # Unpaired, the same rounds would span zero: the drift between rounds swamps 2 ms.
    unpaired = difference_interval(OVERHEAD_MS[BARE_PY], OVERHEAD_MS[LC_PY], paired=False)
    assert unpaired is not None and unpaired.low < 0
    # Go: +1, -1, +0.5 ms round by round: the interval spans zero.
    assert go.value == pytest.approx(paired_t([1.0, -1.0, 0.5])[0] * MS)
    assert go.interval is not None and go.interval.low < 0 < go.interval.high
    assert go.word == "no significant difference"
    # The language: 5 ms every round, no spread: a point interval, significant.
    assert language.value == pytest.approx(5 * MS)
    assert language.word == "5.0 ms more"
    assert [f.who for f in row.figures] == [LC_PY, BARE_PY, LC_GO, BARE_GO]
    assert all(f.missing is None for f in row.figures)


def test_rates_say_more_or_less_in_their_unit():
    records = [rec("rag.embed", name, r, {"docs_per_s": [rate + r]})
               for r in range(3) for name, rate in ((LC_PY, 100.0), (BARE_PY, 150.0),
                                                    (LC_GO, 300.0), (BARE_GO, 300.0))]
    row = row_of(run(records), "rag.embed")
    assert (row.metric, row.unit) == ("docs_per_s", "docs/s")
    python, go, language = row.differences
    assert python.word == "50.00 docs/s less"
    # Identical every round: a zero-width interval at 0, which is no difference.
    assert go.value == 0 and go.word == "no significant difference"
    assert language.word == "150.00 docs/s less"


def test_a_subset_of_contestants_says_who_is_missing():
    three = {k: v for k, v in FOUR.items() if k != BARE_GO}
    results = run(latency_records((LC_PY, BARE_PY, LC_GO)), three)
    v = language_view.view(results)
    assert v.cast[GO_BASELINE] is None and v.shown
    row = v.rows[0]
    go_bare = row.figures[3]
    assert (go_bare.who, go_bare.why, go_bare.estimate) == ("Go, no framework", "not run", None)
    python, go, language = row.differences
    assert python.word == "2.0 ms more"
    for d in (go, language):
        assert d.value is None and d.interval is None
        assert d.word == "Go, no framework: not run"
    assert row.usage[3] is None
    # One role alone: nothing to compare, nothing shown.
    alone = run(latency_records((LC_PY,)), {LC_PY: FOUR[LC_PY]})
    assert not language_view.view(alone).shown
    assert language_report.markdown(alone) == []


def test_a_failed_round_is_failed_never_a_number():
    records = latency_records()
    for r in records:
        if r.contestant == LC_GO and r.round == 1:
            r.status = Status.FAILED
            r.metrics["overhead_s"] = summarize([0.777] * 2)  # type: ignore[assignment]
        if r.contestant == BARE_PY and r.round == 2:
            r.status = Status.CRASHED
    row = row_of(run(records), "llm.latency")
    lc_go, bare_py = row.figures[2], row.figures[1]
    assert (lc_go.estimate, lc_go.why) == (None, "failed (r2)")
    assert (bare_py.estimate, bare_py.why) == (None, "failed (r3 crashed)")
    python, go, language = row.differences
    assert python.value is None and python.word == "bare-py: failed (r3 crashed)"
    assert go.value is None and go.word == "lc-go: failed (r2)"
    assert language.value is None
    assert row.usage[1] is None and row.usage[2] is None
    text = "\n".join(language_report.markdown(run(records)))
    assert "777" not in text and "failed (r2)" in text


def test_not_implemented_and_not_measured():
    records = latency_records((LC_PY, LC_GO))
    records += [rec("llm.latency", BARE_PY, 0, {}, status=Status.NOT_IMPLEMENTED)]
    # Passed, but without the server's log there is no overhead.
    records += [rec("llm.latency", BARE_GO, r, {"latency_s": [0.002]}) for r in range(3)]
    row = row_of(run(records), "llm.latency")
    assert row.figures[1].why == "not implemented"
    assert row.figures[3].why == "not measured (no overhead_s)"
    assert row.differences[2].word == ("bare-py: not implemented; bare-go: not measured "
                                       "(no overhead_s)")
    # Its resources were measured: the run passed.
    assert row.usage[3] is not None and row.usage[1] is None


def test_one_round_each_uses_welch_over_the_operations():
    records = [rec("llm.latency", LC_PY, 0, {"overhead_s": [1 * MS, 2 * MS, 3 * MS]}),
               rec("llm.latency", BARE_PY, 0, {"overhead_s": [4 * MS, 5 * MS, 6 * MS]})]
    python = row_of(run(records, rounds=1), "llm.latency").differences[0]
    # sd 1 ms each side, n 3: se = sqrt(2/3) ms, Welch df = 4.
    half = t975(4) * math.sqrt(2 / 3)
    assert python.value == pytest.approx(-3 * MS)
    assert python.interval is not None
    assert python.interval.low == pytest.approx((-3 - half) * MS)
    assert python.interval.method == "Welch t on operations of one round, 3 and 3"
    assert python.word == "3.0 ms less"


def test_roles_come_from_the_header():
    # Unmarked (an older results file): the only contestant of a language standing for no
    # column is its baseline.
    unmarked = {name: info.model_copy(update={"baseline": False})
                for name, info in FOUR.items()}
    roles, notes = language_view.cast(run([], unmarked))
    assert roles == {PY_FRAMEWORK: LC_PY, PY_BASELINE: BARE_PY, GO_FRAMEWORK: LC_GO,
                     GO_BASELINE: BARE_GO} and notes == []
    # Two unmarked: nobody can be told apart, and the note says so.
    two = {**unmarked, "other-py": ContestantInfo(language="python")}
    roles, notes = language_view.cast(run([], two))
    assert roles[PY_BASELINE] is None
    assert notes == ["Python, no framework: several python contestants stand for no framework "
                     "(bare-py, other-py) and none is marked baseline"]
    # Marked: the mark decides.
    roles, _ = language_view.cast(run([], {**FOUR, "other-py": ContestantInfo(language="python")}))
    assert roles[PY_BASELINE] == BARE_PY


def test_resources_are_means_over_passed_rounds_and_memory_names_its_turns():
    records = latency_records()
    records += [rec("ops.memory", name, r, {"overhead_s": [MS]}, rss_mib=100.0 + r,
                    cpu_s=2.0 + r, params={"turns": 5})
                for r in range(3) for name in FOUR]
    row = row_of(run(records), "ops.memory")
    assert row.turns == 5
    u = row.usage[0]
    assert u is not None
    assert u.peak_rss_bytes == pytest.approx(101 * 2**20) and u.cpu_s == pytest.approx(3.0)
    assert u.rss_growth_bytes == 2**20 and u.rounds == 3
    assert "ops.memory (5 turns)" in "\n".join(language_report.markdown(run(records)))


def test_csv_rows_carry_values_intervals_and_reasons():
    three = {k: v for k, v in FOUR.items() if k != BARE_GO}
    rows = language_view.csv_rows(language_view.view(run(latency_records((LC_PY, BARE_PY,
                                                                            LC_GO)), three)))
    python = next(r for r in rows if r["name"] == "framework cost in Python")
    assert python["kind"] == "difference" and python["role"] == "lc-py − bare-py"
    assert python["value"] == pytest.approx(2 * MS) and python["word"] == "2.0 ms more"
    missing = [r for r in rows if r["name"] == "Go, no framework"]
    assert {r["kind"] for r in missing} == {"figure", "resource"}
    assert all(r["value"] is None and r["word"] == "not run" for r in missing)
    text = language_view.csv_text(run(latency_records()))
    assert text.splitlines()[0] == ",".join(language_view.CSV_FIELDS)


def render(renderable: object, width: int | None) -> str:
    console = (Console(file=io.StringIO(), color_system=None) if width is None else
               Console(width=width, file=io.StringIO(), color_system=None))
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [40, 80, 260, None])
def test_terminal_tables_fit_and_keep_every_name(width: int | None):
    records = latency_records()
    records[4].status = Status.TIMEOUT  # one failure, to show a reason in a cell
    v = language_view.view(run(records))
    for fit in (language_report.table(v), language_report.resources_table(v)):
        text = render(fit, width)
        lines = text.splitlines()
        assert max(cell_len(line) for line in lines) <= (width or 80), text
        assert "…" not in text
        for name in (*FOUR, "llm.latency", "synthetic"):
            assert any(name in line for line in lines), (name, text)
    text = render(language_report.table(v), width)
    for expected in ("framework cost in Python", "no significant difference", "failed"):
        assert expected in " ".join(text.split()), (expected, text)


def test_every_overhead_headline_is_one_kind_of_operation_run_one_at_a_time():
    """The headline rule: overhead only where chainmark.harness.metrics can give it."""
    overhead = [s for s in SCENARIOS if s.headline == OVERHEAD_METRIC]
    for s in overhead:
        assert not s.concurrent, s.name
        assert len(s.operations) == 1 or set(s.operations) == {ANY_OPERATION}, s.name
    # The others that could: rag.split makes no request, so the server's log has nothing.
    could = {s.name for s in SCENARIOS if not s.concurrent and len(s.operations) == 1}
    assert could - {s.name for s in overhead} == {"rag.split"}


def test_report_writes_the_view_as_csv(tmp_path):
    from typer.testing import CliRunner

    from chainmark.cli import app
    from chainmark.harness import results_file

    results = run(latency_records())
    source, out = tmp_path / "results.json", tmp_path / "language.csv"
    results_file.save(results, source)
    done = CliRunner().invoke(app, ["report", str(source), "--language-csv", str(out)],
                              env={"COLUMNS": "80"})
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8") == language_view.csv_text(results)
    assert "framework cost in Python" in done.output  # the terminal shows the view too
    assert "## Language or framework?" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_a_contestants_file_may_mark_a_baseline(tmp_path):
    import json

    from chainmark.contestants.registry import ContestantFileError, load_external

    path = tmp_path / "contestants.json"
    path.write_text(json.dumps([{"name": "bare-rs", "language": "rust", "command": ["x"],
                                 "scenarios": ["llm.latency"], "baseline": True}]))
    [mine] = load_external(path)
    assert mine.baseline
    path.write_text(json.dumps([{"name": "bare-rs", "command": ["x"], "baseline": "yes"}]))
    with pytest.raises(ContestantFileError, match="'baseline' must be true or false"):
        load_external(path)
