"""metrics.compute over results and server logs built here: pure functions over data, so no
process runs (the end-to-end tests cover the same code on real runs)."""

from __future__ import annotations

import pytest

from chainmark.contract import ContestantResult, Operation
from chainmark.harness import metrics
from chainmark.harness.server_log import ServerRequest
from chainmark.scenarios import get
from chainmark.scenarios.evidence import Evidence

MS = 1_000_000


def _op(name: str, start_ms: int, ms: int, ok: bool = True, **output: object) -> Operation:
    return Operation(name=name, start_ns=start_ms * MS, end_ns=(start_ms + ms) * MS,
                     elapsed_ns=ms * MS, ok=ok, output=dict(output))


def _served(path: str, start_ms: int, server_ms: int) -> ServerRequest:
    return ServerRequest(path=path, start_ns=start_ms * MS, end_ns=(start_ms + server_ms) * MS,
                         server_s=server_ms / 1e3, response_chars=None, raw={})


def _evidence(scenario: str, ops: list[Operation], server: list[ServerRequest] | None = None,
              *, window_ms: tuple[int, int] | None = None, **kw: object) -> Evidence:
    result = ContestantResult(
        contract=2, contestant="t", scenario=scenario, language="x", runtime="x",
        operations=ops,
        measure_start_ns=window_ms[0] * MS if window_ms else None,
        measure_end_ns=window_ms[1] * MS if window_ms else None,
    )
    s = get(scenario)
    return Evidence(result=result, params=s.params_for("quick"), server=server, model="m",
                    concurrent=s.concurrent, expect=s.expect, **kw)  # type: ignore[arg-type]


def test_one_kind_of_operation_gives_latency_and_overhead_beside_the_server_time():
    ops = [_op("invoke", 0, 100, text="a"), _op("invoke", 200, 120, text="b")]
    server = [_served("/api/generate", 1, 90), _served("/api/generate", 201, 100)]
    m = metrics.compute(get("llm.latency"), _evidence("llm.latency", ops, server))
    assert m["latency_s"].mean == pytest.approx(0.110)
    assert m["server_s"].mean == pytest.approx(0.095)
    assert m["overhead_s"].mean == pytest.approx(0.015)
    assert m["overhead_s"].count == 2


def test_failed_operations_are_not_samples():
    ops = [_op("invoke", 0, 100, text="a"), _op("invoke", 200, 5, ok=False)]
    m = metrics.compute(get("llm.latency"), _evidence("llm.latency", ops))
    assert m["latency_s"].count == 1 and "overhead_s" not in m


def test_different_steps_are_separate_figures_without_overhead():
    ops = [_op("load", 0, 10, documents=50), _op("split", 10, 20, chunks=9),
           _op("embed_store", 30, 300, stored=4)]
    server = [_served("/api/embed", 40, 250)]
    m = metrics.compute(get("rag.ingest"), _evidence("rag.ingest", ops, server))
    assert {k: round(v.mean, 3) for k, v in m.items()} == {
        "load_s": 0.01, "split_s": 0.02, "embed_store_s": 0.3}


def test_rates_come_from_the_harness_truths_not_the_contestant():
    ops = [_op("split", 0, 500, chunks=999), _op("split", 600, 250, chunks=999)]
    e = _evidence("rag.split", ops, truths={"chunks": 100, "bytes": 2_000_000})
    m = metrics.compute(get("rag.split"), e)
    assert m["chunks_per_s"].min == pytest.approx(200.0)
    assert m["chunks_per_s"].max == pytest.approx(400.0)
    assert m["mb_per_s"].mean == pytest.approx((4.0 + 8.0) / 2)


def test_concurrent_runs_have_throughput_and_no_per_operation_overhead():
    ops = [_op("qa", 0, 400, text="a", query="q", documents=3),
           _op("qa", 0, 900, text="b", query="q", documents=3),
           _op("qa", 0, 300, ok=False, error_kind="timeout")]
    server = [_served("/api/generate", 1, 300), _served("/api/generate", 2, 800)]
    e = _evidence("stress.concurrent_rag", ops, server, window_ms=(0, 1000))
    m = metrics.compute(get("stress.concurrent_rag"), e)
    assert "overhead_s" not in m and "server_s" not in m
    assert m["wall_s"].mean == pytest.approx(1.0)
    assert m["completed"].mean == 2 and m["ops_per_s"].mean == pytest.approx(2.0)
    assert metrics.counts(e.result) == {"ok": 2, "failed": 1, "failed:timeout": 1}


def test_agent_llm_calls_are_counted_on_the_server_side():
    calls = [{"tool": "WordLengthTool", "input": "x", "observation": "1"}]
    ops = [_op("agent", 0, 100, text="1", tool_calls=calls, counter=0)]
    server = [_served("/api/generate", 10, 20), _served("/api/generate", 50, 20),
              _served("/api/embed", 80, 5), _served("/api/generate", 500, 20)]
    m = metrics.compute(get("agent.single"), _evidence("agent.single", ops, server))
    assert m["llm_calls"].mean == 2 and m["tool_calls"].mean == 1


def test_observability_compares_each_handler_with_bare():
    calls: list[dict] = []
    ops = [_op(mode, start, 50, text="", tool_calls=calls, counter=0)
           for mode, start, n in (("bare", 0, 4), ("logging", 1000, 2)) for _ in range(n)]
    phases = [{"mode": "bare", "start_ns": 0, "end_ns": 1000 * MS},
              {"mode": "logging", "start_ns": 1000 * MS, "end_ns": 2000 * MS, "events": 9}]
    e = _evidence("ops.observability", ops, cpu_between=lambda a, b: 0.5 if a == 0 else 0.75)
    e.result.outputs = {"phases": phases}
    m = metrics.compute(get("ops.observability"), e)
    assert m["bare_ops_per_s"].mean == pytest.approx(4.0)
    assert m["logging_ops_per_s"].mean == pytest.approx(2.0)
    assert m["logging_throughput_change_pct"].mean == pytest.approx(-50.0)
    assert m["logging_cpu_change_pct"].mean == pytest.approx(50.0)
    assert m["logging_latency_change_pct"].mean == pytest.approx(0.0)


def test_memory_checkpoints_give_per_turn_latency_and_rows():
    ops = [_op("turn", t * 100, 10 * t, text="x", turn=t, history_chars=t * 20)
           for t in (1, 2, 3)]
    server = [_served("/api/generate", t * 100 + 1, 5) for t in (1, 2, 3)]
    for r, tokens in zip(server, (10, 20, 30), strict=True):
        r.raw["prompt_eval_count"] = tokens
    e = _evidence("ops.memory", ops, server, rss_at=lambda ns: 1000 + ns // MS)
    e.params["checkpoints"] = [1, 3]
    s = get("ops.memory")
    m = metrics.compute(s, e)
    assert set(m) >= {"turn1_latency_s", "turn3_latency_s"} and "turn2_latency_s" not in m
    rows = metrics.series(s, e)["checkpoints"]
    assert [(r["turn"], r["prompt_tokens"], r["rss_bytes"]) for r in rows] == [
        (1, 10, 1110), (3, 30, 1330)]


def test_a_timeout_figure_counts_every_timed_out_call():
    ops = [_op("timeout", 0, 2100, outcome="error", error_kind="timeout"),
           _op("health", 2100, 50, text="OK")]
    m = metrics.compute(get("resilience.timeout"), _evidence("resilience.timeout", ops))
    assert m["timeout_s"].mean == pytest.approx(2.1) and m["timeout_s"].count == 1
