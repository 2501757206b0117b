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
    if server is not None and len(names) <= 1:
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
    return {name: s for name, v in values.items() if (s := summarize(v)) is not None}
