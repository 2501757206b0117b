"""Verification: the harness decides whether a contestant's result is right.

Each verifier returns a list of problems; an empty list means the result passed. Verifiers see
what the contestant reported and, where the embedded server served the calls, what the
server itself logged, so a contestant cannot claim work it did not do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainmark.contract import ContestantResult, Operation
from chainmark.harness.server_log import ServerRequest, within

GENERATION_PATHS = ("/api/generate", "/api/chat")
MAX_LISTED = 5

Verifier = Callable[[ContestantResult, dict[str, Any], list[ServerRequest] | None], list[str]]


def _limit(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], f"... and {len(problems) - MAX_LISTED} more"]


def _common(result: ContestantResult, params: dict[str, Any]) -> list[str]:
    problems = []
    expected = params.get("iterations")
    if expected is not None and len(result.operations) != expected:
        problems.append(f"expected {expected} operations, got {len(result.operations)}")
    for i, op in enumerate(result.operations):
        if not op.ok:
            problems.append(f"operation {i} failed: {op.error}")
    return problems


def _generation_for(
    op: Operation, server: list[ServerRequest] | None
) -> tuple[list[ServerRequest] | None, str | None]:
    if server is None:
        return None, None
    calls = [r for r in within(server, op.start_ns, op.end_ns) if r.path in GENERATION_PATHS]
    if len(calls) != 1:
        return calls, f"the server saw {len(calls)} generation requests during it, expected 1"
    return calls, None


def _text_checks(
    i: int, op: Operation, server: list[ServerRequest] | None, whole: str
) -> list[str]:
    problems = []
    text = op.output.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"operation {i}: empty answer")
        return problems
    calls, problem = _generation_for(op, server)
    if problem:
        problems.append(f"operation {i}: {problem}")
    elif calls:
        sent = calls[0].response_chars
        if sent is not None and sent != len(text):
            problems.append(
                f"operation {i}: {whole}: the server sent {sent} characters, "
                f"the contestant reported {len(text)}"
            )
    return problems


def verify_llm_latency(
    result: ContestantResult, params: dict[str, Any], server: list[ServerRequest] | None
) -> list[str]:
    problems = _common(result, params)
    for i, op in enumerate(result.operations):
        if op.ok:
            problems += _text_checks(i, op, server, "answer incomplete")
    return _limit(problems)


def verify_llm_ttft(
    result: ContestantResult, params: dict[str, Any], server: list[ServerRequest] | None
) -> list[str]:
    problems = _common(result, params)
    for i, op in enumerate(result.operations):
        if not op.ok:
            continue
        ttft = op.output.get("ttft_ns")
        if not isinstance(ttft, int) or ttft <= 0:
            problems.append(f"operation {i}: no time to first token reported")
        elif ttft > op.elapsed_ns:
            problems.append(f"operation {i}: first token after the stream ended")
        if not op.output.get("chunks"):
            problems.append(f"operation {i}: no chunks received")
        problems += _text_checks(i, op, server, "stream not consumed to the end")
    return _limit(problems)


VERIFIERS: dict[str, Verifier] = {
    "llm.latency": verify_llm_latency,
    "llm.ttft": verify_llm_ttft,
}


def verify(
    result: ContestantResult, params: dict[str, Any], server: list[ServerRequest] | None
) -> list[str]:
    verifier = VERIFIERS.get(result.scenario)
    if verifier is None:
        # A scenario without a verifier cannot pass: a fast but unchecked result is no result.
        return [f"no verifier for scenario {result.scenario!r}"]
    return verifier(result, params, server)
