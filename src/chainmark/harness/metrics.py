"""Turns a contestant's operations (and the server's log) into named statistics.

Rates (MB/s, docs/s) are computed here from harness-known sizes, never taken from a
contestant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainmark.contract import ContestantResult, Operation
from chainmark.harness.server_log import ServerRequest, within
from chainmark.harness.verify import GENERATION_PATHS
from chainmark.stats import Summary, summarize

Derived = Callable[[list[Operation], dict[str, Any]], dict[str, list[float]]]


def _rag_split(ops: list[Operation], expect: dict[str, Any]) -> dict[str, list[float]]:
    return {
        "mb_per_s": [expect["bytes"] / 1e6 / op.seconds for op in ops if op.seconds > 0],
        "chunks_per_s": [expect["chunks"] / op.seconds for op in ops if op.seconds > 0],
    }


def _rag_embed(ops: list[Operation], expect: dict[str, Any]) -> dict[str, list[float]]:
    def rate(name: str) -> list[float]:
        return [expect["chunks"] / op.seconds for op in ops if op.name == name and op.seconds]

    return {"docs_per_s": rate("sequential"), "docs_per_s_concurrent": rate("concurrent")}


DERIVED: dict[str, Derived] = {"rag.split": _rag_split, "rag.embed": _rag_embed}

# Scenarios whose figure is a rate over the whole timed region, not a mean of operations.
THROUGHPUT_SCENARIOS = ("stress.concurrent_rag", "stress.concurrent_agent", "stress.saturation")


def counts(result: ContestantResult) -> dict[str, int]:
    tally = {"ok": 0, "failed": 0}
    for op in result.operations:
        if op.ok:
            tally["ok"] += 1
        else:
            tally["failed"] += 1
            kind = str(op.output.get("error_kind") or "error")
            tally[f"failed:{kind}"] = tally.get(f"failed:{kind}", 0) + 1
    return tally


def _wall_s(result: ContestantResult) -> float | None:
    if result.measure_start_ns and result.measure_end_ns:
        return (result.measure_end_ns - result.measure_start_ns) / 1e9
    return None


def throughput(result: ContestantResult) -> dict[str, list[float]]:
    """Completed operations per second of wall time; failures never count as throughput."""
    wall = _wall_s(result)
    if not wall:
        return {}
    done = sum(op.ok for op in result.operations)
    return {"wall_s": [wall], "ops_per_s": [done / wall], "completed": [float(done)]}


def observability(
    result: ContestantResult, cpu_between: Callable[[int, int], float | None]
) -> dict[str, list[float]]:
    """Per mode: throughput over its phases, CPU seconds, and change against bare in %."""
    phases = result.outputs.get("phases") or []
    per_mode: dict[str, dict[str, float]] = {}
    for phase in phases:
        mode, start, end = phase["mode"], int(phase["start_ns"]), int(phase["end_ns"])
        inside = [op for op in result.operations if op.name == mode and op.ok
                  and start <= op.start_ns <= end]
        totals = per_mode.setdefault(mode, {"ops": 0.0, "wall": 0.0, "cpu": 0.0, "lat": 0.0})
        totals["ops"] += len(inside)
        totals["wall"] += (end - start) / 1e9
        totals["cpu"] += cpu_between(start, end) or 0.0
        totals["lat"] += sum(op.seconds for op in inside)
    values: dict[str, list[float]] = {}
    for mode, t in per_mode.items():
        if t["wall"] > 0:
            values[f"{mode}_ops_per_s"] = [t["ops"] / t["wall"]]
            values[f"{mode}_cpu_s"] = [t["cpu"]]
    bare = per_mode.get("bare")
    for mode, t in per_mode.items():
        if mode == "bare" or not bare or not bare["ops"] or not t["ops"]:
            continue
        bare_rate, rate = bare["ops"] / bare["wall"], t["ops"] / t["wall"]
        values[f"{mode}_throughput_change_pct"] = [100.0 * (rate / bare_rate - 1.0)]
        bare_lat, lat = bare["lat"] / bare["ops"], t["lat"] / t["ops"]
        values[f"{mode}_latency_change_pct"] = [100.0 * (lat / bare_lat - 1.0)]
        if bare["cpu"] > 0:
            values[f"{mode}_cpu_change_pct"] = [100.0 * (t["cpu"] / bare["cpu"] - 1.0)]
    return values


def checkpoints(
    result: ContestantResult,
    server: list[ServerRequest] | None,
    rss_at: Callable[[int], int | None],
    marks: list[int],
) -> list[dict[str, Any]]:
    """ops.memory's rows: latency, prompt size (as the server counted it) and memory."""
    rows = []
    for op in result.operations:
        turn = op.output.get("turn")
        if turn not in marks:
            continue
        prompt_tokens = None
        if server is not None:
            seen = [r for r in within(server, op.start_ns, op.end_ns)
                    if r.path in GENERATION_PATHS]
            if seen:
                prompt_tokens = seen[-1].raw.get("prompt_eval_count")
        rows.append({
            "turn": turn,
            "latency_s": op.seconds,
            "prompt_tokens": prompt_tokens,
            "history_chars": op.output.get("history_chars"),
            "rss_bytes": rss_at(op.end_ns),
            "tracemalloc_current_bytes": op.output.get("tracemalloc_current_bytes"),
            "tracemalloc_peak_bytes": op.output.get("tracemalloc_peak_bytes"),
        })
    return rows


def _overhead(ops: list[Operation], server: list[ServerRequest]) -> dict[str, list[float]]:
    server_s, overhead_s = [], []
    for op in ops:
        seen = within(server, op.start_ns, op.end_ns)
        if not seen:
            continue
        spent = sum(r.server_s for r in seen)
        server_s.append(spent)
        # Client-observed time not spent inside the server: framework, client library,
        # serialisation and the loopback socket.
        overhead_s.append(op.seconds - spent)
    return {"server_s": server_s, "overhead_s": overhead_s} if server_s else {}


def compute(
    result: ContestantResult,
    server: list[ServerRequest] | None,
    expect: dict[str, Any] | None = None,
    cpu_between: Callable[[int, int], float | None] | None = None,
) -> dict[str, Summary]:
    ok_ops = [op for op in result.operations if op.ok]
    names = list(dict.fromkeys(op.name for op in ok_ops))
    values: dict[str, list[float]] = {}
    if len(names) <= 1:
        values["latency_s"] = [op.seconds for op in ok_ops]
    else:
        # Different steps (load / split / embed_store) are not samples of one thing.
        for name in names:
            values[f"{name}_s"] = [op.seconds for op in ok_ops if op.name == name]
    ttft = [op.output["ttft_ns"] / 1e9 for op in ok_ops if op.output.get("ttft_ns")]
    if ttft:
        values["ttft_s"] = ttft
    # Overlapping operations share the server's time, so per-operation overhead is undefined.
    concurrent = result.scenario.startswith("stress.") or result.scenario == "ops.observability"
    if server is not None and len(names) <= 1 and not concurrent:
        values.update(_overhead(ok_ops, server))
        # LLM calls as the server counted them, not as the contestant claims.
        if result.scenario.startswith(("agent.", "workflow.")):
            values["llm_calls"] = [
                float(sum(r.path in GENERATION_PATHS
                          for r in within(server, op.start_ns, op.end_ns)))
                for op in ok_ops
            ]
    tool_calls = [float(len(op.output["tool_calls"])) for op in ok_ops
                  if isinstance(op.output.get("tool_calls"), list)]
    if tool_calls:
        values["tool_calls"] = tool_calls
    derive = DERIVED.get(result.scenario)
    if derive is not None and expect:
        values.update(derive(ok_ops, expect))
    if result.scenario in THROUGHPUT_SCENARIOS:
        values.update(throughput(result))
    if result.scenario == "resilience.timeout":
        values = {"timeout_s": [op.seconds for op in result.operations if op.name == "timeout"]}
    if result.scenario == "ops.memory":
        for op in ok_ops:
            if op.output.get("turn") in (expect or {}).get("checkpoints", []):
                values[f"turn{op.output['turn']}_latency_s"] = [op.seconds]
    if cpu_between is not None and result.scenario == "ops.observability":
        values.update(observability(result, cpu_between))
    return {name: s for name, v in values.items() if (s := summarize(v)) is not None}
