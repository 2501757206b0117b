"""Verification: the harness decides whether a contestant's result is right.

Each verifier returns a list of problems; an empty list means the result passed. Verifiers see
what the contestant reported, the harness's own expectations (chunk counts from its own
splitter, the model's embedding width), and, where chainmark-server logged the calls,
what the server itself logged, so a contestant cannot claim work it did not do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainmark.arith import CalculatorError, evaluate, format_number
from chainmark.contract import ContestantResult, Operation
from chainmark.harness.server_log import ServerRequest, within

GENERATION_PATHS = ("/api/generate", "/api/chat")
EMBED_PATHS = ("/api/embed", "/api/embeddings")
MAX_LISTED = 5


@dataclass
class Check:
    result: ContestantResult
    params: dict[str, Any]
    server: list[ServerRequest] | None
    # Harness-computed truths, e.g. {"chunks": 12345, "embed_dim": 576, "documents": 50}.
    expect: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def ok_ops(self, name: str | None = None) -> list[tuple[int, Operation]]:
        return [
            (i, op) for i, op in enumerate(self.result.operations)
            if op.ok and (name is None or op.name == name)
        ]

    @property
    def overlapping(self) -> bool:
        """Operations run concurrently: the server's requests cannot be told apart by time."""
        return "concurrency" in self.params

    def served(self, op: Operation, paths: tuple[str, ...]) -> list[ServerRequest] | None:
        if self.server is None or self.overlapping:
            return None
        return [r for r in within(self.server, op.start_ns, op.end_ns) if r.path in paths]


Verifier = Callable[[Check], None]


def _operations(c: Check, per_iteration: int = 1) -> None:
    expected = c.params.get("iterations")
    if expected is not None and len(c.result.operations) != expected * per_iteration:
        c.fail(f"expected {expected * per_iteration} operations, got {len(c.result.operations)}")
    for i, op in enumerate(c.result.operations):
        if not op.ok:
            c.fail(f"operation {i} ({op.name}) failed: {op.error}")


def _answer(c: Check, i: int, op: Operation, incomplete: str) -> None:
    """A non-empty answer that came from exactly one generation request, received whole."""
    text = op.output.get("text")
    if not isinstance(text, str) or not text.strip():
        c.fail(f"operation {i}: empty answer")
        return
    calls = c.served(op, GENERATION_PATHS)
    if calls is None:
        return
    if len(calls) != 1:
        c.fail(f"operation {i}: the server saw {len(calls)} generation requests during it, "
               "expected 1")
        return
    sent = calls[0].response_chars
    if sent is not None and sent != len(text):
        c.fail(f"operation {i}: {incomplete}: the server sent {sent} characters, "
               f"the contestant reported {len(text)}")


def _embedded(c: Check, i: int, op: Operation) -> None:
    calls = c.served(op, EMBED_PATHS)
    if calls is not None and not calls:
        c.fail(f"operation {i}: the server saw no embedding request during it")


def _equals(c: Check, i: int, op: Operation, key: str, expected: Any, what: str) -> None:
    got = op.output.get(key)
    if got != expected:
        c.fail(f"operation {i} ({op.name}): {what}: expected {expected}, got {got}")


def verify_llm_latency(c: Check) -> None:
    _operations(c)
    for i, op in c.ok_ops():
        _answer(c, i, op, "answer incomplete")


def verify_llm_ttft(c: Check) -> None:
    _operations(c)
    for i, op in c.ok_ops():
        ttft = op.output.get("ttft_ns")
        if not isinstance(ttft, int) or ttft <= 0:
            c.fail(f"operation {i}: no time to first token reported")
        elif ttft > op.elapsed_ns:
            c.fail(f"operation {i}: first token after the stream ended")
        if not op.output.get("chunks"):
            c.fail(f"operation {i}: no chunks received")
        _answer(c, i, op, "stream not consumed to the end")


def verify_rag_split(c: Check) -> None:
    _operations(c)
    counts = {op.output.get("chunks") for _, op in c.ok_ops()}
    if len(counts) > 1:
        c.fail(f"chunk count changed between iterations: {sorted(map(str, counts))}")
    for i, op in c.ok_ops():
        _equals(c, i, op, "chunks", c.expect["chunks"], "chunks (harness's own count)")


def verify_rag_embed(c: Check) -> None:
    _operations(c, per_iteration=2)
    for i, op in c.ok_ops():
        _equals(c, i, op, "vectors", c.expect["chunks"], "embeddings returned")
        _equals(c, i, op, "dims", [c.expect["embed_dim"]], "embedding dimensions")
        _embedded(c, i, op)
    for mode in ("sequential", "concurrent"):
        if not c.ok_ops(mode):
            c.fail(f"no successful {mode} embedding run")


def verify_ingest_steps(c: Check) -> None:
    for i, op in c.ok_ops("load"):
        _equals(c, i, op, "documents", c.expect["documents"], "documents loaded")
    for i, op in c.ok_ops("split"):
        _equals(c, i, op, "chunks", c.expect["split_chunks"], "chunks (harness's own count)")
    for i, op in c.ok_ops("embed_store"):
        _equals(c, i, op, "stored", c.expect["stored"], "vectors stored in Chroma")
        _embedded(c, i, op)


def verify_rag_ingest(c: Check) -> None:
    _operations(c, per_iteration=3)
    verify_ingest_steps(c)


def verify_rag_prepare(c: Check) -> None:
    for i, op in enumerate(c.result.operations):
        if not op.ok:
            c.fail(f"step {i} ({op.name}) failed: {op.error}")
    if len(c.ok_ops("embed_store")) != 1:
        c.fail("the collection was not filled")
    verify_ingest_steps(c)


def verify_rag_retrieve(c: Check) -> None:
    _operations(c)
    for i, op in c.ok_ops():
        _equals(c, i, op, "documents", c.params["k"], "documents retrieved")
        _embedded(c, i, op)


def verify_rag_e2e(c: Check) -> None:
    _operations(c)
    for i, op in c.ok_ops():
        _equals(c, i, op, "documents", c.params["k"], "documents stuffed into the prompt")
        _embedded(c, i, op)
        _answer(c, i, op, "answer incomplete")


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _tool_observations(c: Check, i: int, calls: list[dict[str, Any]], tools: dict) -> None:
    """Recomputes every tool observation: a tool that lies is caught here."""
    names = {spec["name"]: kind for kind, spec in tools.items()}
    count = 0
    for call in calls:
        kind = names.get(call.get("tool"))
        observation = str(call.get("observation", "")).strip()
        tool_input = str(call.get("input", ""))
        if kind == "word":
            truth = str(len(tool_input.strip().strip("'\"`")))
        elif kind == "calc":
            try:
                truth = format_number(evaluate(tool_input.strip().strip("'\"`")))
            except CalculatorError as exc:
                truth = f"Error: {exc}"
        elif kind == "counter":
            count += 1
            truth = str(count)
        else:
            continue
        if observation != truth:
            c.fail(f"operation {i}: {call.get('tool')}({tool_input!r}) returned "
                   f"{observation!r}, expected {truth!r}")


def _agent(c: Check) -> None:
    _operations(c)
    for i, op in c.ok_ops():
        _agent_answer(c, i, op)
        calls = op.output.get("tool_calls") or []
        llm_calls = c.served(op, GENERATION_PATHS)
        if llm_calls is not None and len(llm_calls) < len(calls) + 1:
            c.fail(f"operation {i}: {len(calls)} tool calls but only {len(llm_calls)} LLM "
                   "calls reached the server")


def verify_router(c: Check) -> None:
    _operations(c, per_iteration=len(c.params["queries"]))
    routes = c.expect["routes"]
    for i, op in c.ok_ops():
        query = op.output.get("query")
        if query not in routes:
            c.fail(f"operation {i}: unknown query {query!r}")
            continue
        if op.output.get("route") != routes[query]:
            c.fail(f"operation {i}: {query!r} routed to {op.output.get('route')!r}, expected "
                   f"{routes[query]!r}")
        if not str(op.output.get("text", "")).strip():
            c.fail(f"operation {i}: empty answer")
        llm_calls = c.served(op, GENERATION_PATHS)
        if llm_calls is not None and len(llm_calls) != 2:
            c.fail(f"operation {i}: expected 2 LLM calls (router, chain), the server saw "
                   f"{len(llm_calls)}")


def _agent_answer(c: Check, i: int, op: Operation) -> None:
    """The answer and tool-call checks of one agent run (shared by every agent scenario)."""
    expect = c.expect
    answer = str(op.output.get("text", ""))
    numbers = set(_NUMBER.findall(answer))
    missing = [n for n in expect.get("answer_contains", []) if n not in numbers]
    if missing:
        c.fail(f"operation {i}: the answer lacks {', '.join(missing)}: {answer[:200]!r}")
    calls = op.output.get("tool_calls") or []
    made: dict[str, int] = {}
    for call in calls:
        made[call.get("tool")] = made.get(call.get("tool"), 0) + 1
    for tool, n in expect.get("tool_calls", {}).items():
        exact = tool == "CounterTool"
        if (made.get(tool, 0) != n) if exact else (made.get(tool, 0) < n):
            c.fail(f"operation {i}: {tool} called {made.get(tool, 0)} times, expected "
                   f"{'exactly' if exact else 'at least'} {n}")
    if "counter" in expect and op.output.get("counter") != expect["counter"]:
        c.fail(f"operation {i}: the counter reads {op.output.get('counter')}, expected "
               f"{expect['counter']}")
    _tool_observations(c, i, calls, c.params["tools"])


def _concurrent(c: Check, expected_ops: int, each: Callable[[int, Operation], None]) -> None:
    """Failed operations are data under stress (counted, shown); wrong successes are not."""
    if len(c.result.operations) != expected_ops:
        c.fail(f"expected {expected_ops} operations, got {len(c.result.operations)}")
    for i, op in enumerate(c.result.operations):
        if not op.ok and not op.output.get("error_kind"):
            c.fail(f"operation {i} failed without saying how: {op.error}")
    ok = c.ok_ops()
    if not ok:
        c.fail("every operation failed")
    for i, op in ok:
        each(i, op)
    _enough_requests(c, len(ok))


def _enough_requests(c: Check, completed: int) -> None:
    """Concurrent runs: at least one generation request per completed operation reached the
    server (a contestant cannot report answers it never asked for)."""
    if c.server is None:
        return
    generated = sum(r.path in GENERATION_PATHS for r in c.server)
    if generated < completed:
        c.fail(f"{completed} operations completed but the server served only {generated} "
               "generation requests")


def verify_concurrent_rag(c: Check) -> None:
    def each(i: int, op: Operation) -> None:
        _equals(c, i, op, "documents", c.params["k"], "documents stuffed into the prompt")
        _answer(c, i, op, "answer incomplete")

    _concurrent(c, c.params["concurrency"], each)


def verify_concurrent_agent(c: Check) -> None:
    _concurrent(c, c.params["concurrency"], lambda i, op: _agent_answer(c, i, op))


def verify_saturation(c: Check) -> None:
    ok = c.ok_ops()
    if not ok:
        c.fail("no request completed")
    for i, op in ok:
        _answer(c, i, op, "answer incomplete")
    _enough_requests(c, len(ok))
    for i, op in enumerate(c.result.operations):
        if not op.ok and not op.output.get("error_kind"):
            c.fail(f"operation {i} failed without saying how: {op.error}")


def verify_timeout(c: Check) -> None:
    low, high = c.expect["window_s"]
    timed = [(i, op) for i, op in enumerate(c.result.operations) if op.name == "timeout"]
    if len(timed) != c.params["iterations"]:
        c.fail(f"expected {c.params['iterations']} timed-out calls, got {len(timed)}")
    for i, op in timed:
        outcome, kind = op.output.get("outcome"), op.output.get("error_kind")
        if outcome != "error":
            c.fail(f"operation {i}: the call returned normally ({outcome}) instead of timing out")
        elif kind != "timeout":
            c.fail(f"operation {i}: failed with {kind} ({op.output.get('error')}), not a "
                   "timeout")
        if not low <= op.seconds < high:
            c.fail(f"operation {i}: returned after {op.seconds:.3f} s, outside "
                   f"[{low}, {high}) s")
    health = [(i, op) for i, op in enumerate(c.result.operations) if op.name == "health"]
    if len(health) != len(timed):
        c.fail("the server's health was not checked after every timeout")
    for i, op in health:
        if not op.ok or not str(op.output.get("text", "")).strip():
            c.fail(f"operation {i}: the server did not answer after the timeout: {op.error}")


def verify_tool_failure(c: Check) -> None:
    _operations(c)
    for i, op in c.ok_ops():
        outcome = op.output.get("outcome")
        if outcome == "surfaced":
            if c.params["failure_message"] not in str(op.output.get("error", "")):
                c.fail(f"operation {i}: surfaced an error that is not the tool's: "
                       f"{op.output.get('error')!r}")
        elif outcome == "recovered":
            if not str(op.output.get("text", "")).strip():
                c.fail(f"operation {i}: recovered but gave no answer")
        else:
            c.fail(f"operation {i}: unknown outcome {outcome!r}")


def verify_parse_error(c: Check) -> None:
    _operations(c)
    malformed = str(c.expect.get("model", "")).startswith("synthetic-malformed")
    for i, op in c.ok_ops():
        outcome = op.output.get("outcome")
        if outcome == "recovered":
            _agent_answer(c, i, op)
            if malformed and not op.output.get("parse_errors"):
                c.fail(f"operation {i}: the malformed reply was never reported as a parse "
                       "error")
        elif outcome == "error":
            if not str(op.output.get("error", "")).strip():
                c.fail(f"operation {i}: failed without a clear error")
        else:
            c.fail(f"operation {i}: unknown outcome {outcome!r}")


def verify_memory(c: Check) -> None:
    if len(c.result.operations) != c.params["turns"]:
        c.fail(f"expected {c.params['turns']} turns, got {len(c.result.operations)}")
    for i, op in enumerate(c.result.operations):
        if not op.ok:
            c.fail(f"turn {i + 1} failed: {op.error}")
        elif not str(op.output.get("text", "")).strip():
            c.fail(f"turn {i + 1}: empty answer")
    history = [op.output.get("history_chars") for op in c.result.operations]
    if all(isinstance(h, int) for h in history) and history != sorted(history):
        c.fail("the buffer memory shrank: the whole history must be kept")


def verify_observability(c: Check) -> None:
    modes = c.params["modes"]
    _concurrent(c, c.params["concurrency"] * c.params["rounds"] * len(modes),
                lambda i, op: _agent_answer(c, i, op))
    phases = c.result.outputs.get("phases") or []
    for mode in modes:
        seen = [p for p in phases if p.get("mode") == mode]
        if len(seen) != c.params["rounds"]:
            c.fail(f"expected {c.params['rounds']} {mode} phases, got {len(seen)}")
        if mode != "bare" and any(not p.get("events") for p in seen):
            c.fail(f"the {mode} handler saw no events: it was not attached")


VERIFIERS: dict[str, Verifier] = {
    "stress.concurrent_rag": verify_concurrent_rag,
    "stress.concurrent_agent": verify_concurrent_agent,
    "stress.saturation": verify_saturation,
    "resilience.timeout": verify_timeout,
    "resilience.tool_failure": verify_tool_failure,
    "resilience.parse_error": verify_parse_error,
    "ops.memory": verify_memory,
    "ops.observability": verify_observability,
    "agent.single": _agent,
    "agent.multi": _agent,
    "agent.high_freq": _agent,
    "workflow.router": verify_router,
    "llm.latency": verify_llm_latency,
    "llm.ttft": verify_llm_ttft,
    "rag.split": verify_rag_split,
    "rag.embed": verify_rag_embed,
    "rag.ingest": verify_rag_ingest,
    "rag.prepare": verify_rag_prepare,
    "rag.retrieve": verify_rag_retrieve,
    "rag.e2e": verify_rag_e2e,
}


def verify(
    result: ContestantResult,
    params: dict[str, Any],
    server: list[ServerRequest] | None,
    expect: dict[str, Any] | None = None,
) -> list[str]:
    verifier = VERIFIERS.get(result.scenario)
    if verifier is None:
        # A scenario without a verifier cannot pass: a fast but unchecked result is no result.
        return [f"no verifier for scenario {result.scenario!r}"]
    check = Check(result, params, server, expect or {})
    try:
        verifier(check)
    except KeyError as exc:
        check.fail(f"the harness lacks the expectation {exc} to verify this scenario")
    if len(check.problems) <= MAX_LISTED:
        return check.problems
    return [*check.problems[:MAX_LISTED], f"... and {len(check.problems) - MAX_LISTED} more"]
