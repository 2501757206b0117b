"""Turns a verified run's operations (and the server's log) into named statistics.

The common figures come from the operations themselves; a scenario adds its own through its
`derive` hook (rates from harness-known sizes, never a contestant's, per-turn latency, ...).
"""

from __future__ import annotations

from chainmark.contract import ContestantResult, Operation
from chainmark.harness.server_log import ServerRequest, within
from chainmark.scenarios import Scenario
from chainmark.scenarios.evidence import Evidence
from chainmark.stats import Summary, summarize


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


def throughput(result: ContestantResult) -> dict[str, list[float]]:
    """Completed operations per second of wall time; failures never count as throughput."""
    if result.measure_start_ns is None or result.measure_end_ns is None:
        return {}
    wall = (result.measure_end_ns - result.measure_start_ns) / 1e9
    if wall <= 0:
        return {}
    done = sum(op.ok for op in result.operations)
    return {"wall_s": [wall], "ops_per_s": [done / wall], "completed": [float(done)]}


def overhead(ops: list[Operation], server: list[ServerRequest]) -> dict[str, list[float]]:
    """Per operation: the server's time during it, and the client's time beyond that.

    The server's time is how long at least one of the operation's requests was inside the
    server: the union of their logged windows, cut to the operation's own. Each window lies
    inside its client's (the server reads its start after the request arrived and its end
    before it writes the last byte, on the clocks the client reads), so for requests made one
    after another this is the sum of their server_s. A sum would count twice the time that
    requests of one operation spent in the server together (a framework fanning out, or calls
    queued behind each other on a one-slot model), and could exceed the operation's own time:
    a negative overhead. Cutting to the operation's window keeps out whatever a request the
    client gave up on did after the operation ended.
    """
    server_s, overhead_s = [], []
    for op in ops:
        seen = within(server, op.start_ns, op.end_ns)
        if not seen:
            continue
        busy_ns, covered = 0, op.start_ns  # union so far, and the time it reaches
        for r in sorted(seen, key=lambda r: r.start_ns):
            end = min(r.end_ns, op.end_ns)
            if end > covered:
                busy_ns += end - max(r.start_ns, covered)
                covered = end
        # The union is measured on the wall clock and op.seconds on the monotonic one, read
        # separately by the contestant (verify.py bounds how far apart: CLOCK_TOLERANCE_NS); the
        # server cannot have been busy with an operation for longer than the operation lasted.
        spent = min(busy_ns / 1e9, op.seconds)
        server_s.append(spent)
        # Client-observed time not spent inside the server: framework, client library,
        # serialisation and the loopback socket.
        overhead_s.append(op.seconds - spent)
    return {"server_s": server_s, "overhead_s": overhead_s} if server_s else {}


def compute(scenario: Scenario, evidence: Evidence) -> dict[str, Summary]:
    ok_ops = [op for _, op in evidence.ok_ops()]
    names = list(dict.fromkeys(op.name for op in ok_ops))
    values: dict[str, list[float]] = {}
    if len(names) <= 1:
        values["latency_s"] = [op.seconds for op in ok_ops]
    else:
        # Different steps (load / split / embed_store) are not samples of one thing.
        for name in names:
            values[f"{name}_s"] = [op.seconds for op in ok_ops if op.name == name]
    # Overlapping operations share the server's time, so per-operation overhead is undefined.
    if evidence.server is not None and len(names) <= 1 and not scenario.concurrent:
        values.update(overhead(ok_ops, evidence.server))
    if scenario.throughput:
        values.update(throughput(evidence.result))
    if scenario.derive is not None:
        values.update(scenario.derive(evidence))
    return {name: s for name, v in values.items() if (s := summarize(v)) is not None}


def series(scenario: Scenario, evidence: Evidence) -> dict[str, list[dict[str, object]]]:
    return scenario.series(evidence) if scenario.series is not None else {}
