"""Turns a contestant's operations (and the server's log) into named statistics."""

from __future__ import annotations

from chainmark.contract import ContestantResult
from chainmark.harness.server_log import ServerRequest, within
from chainmark.stats import Summary, summarize


def compute(
    result: ContestantResult, server: list[ServerRequest] | None
) -> dict[str, Summary]:
    ok_ops = [op for op in result.operations if op.ok]
    values: dict[str, list[float]] = {"latency_s": [op.seconds for op in ok_ops]}
    ttft = [op.output["ttft_ns"] / 1e9 for op in ok_ops if op.output.get("ttft_ns")]
    if ttft:
        values["ttft_s"] = ttft
    if server is not None:
        server_s, overhead_s = [], []
        for op in ok_ops:
            seen = within(server, op.start_ns, op.end_ns)
            if not seen:
                continue
            spent = sum(r.server_s for r in seen)
            server_s.append(spent)
            # Client-observed time not spent inside the server: framework, client library,
            # serialisation and the loopback socket.
            overhead_s.append(op.seconds - spent)
        if server_s:
            values["server_s"] = server_s
            values["overhead_s"] = overhead_s
    return {name: s for name, v in values.items() if (s := summarize(v)) is not None}
