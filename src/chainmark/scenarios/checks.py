"""Verification steps several scenarios share; each appends problems to the evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chainmark.arith import CalculatorError, evaluate, format_number
from chainmark.contract import Operation
from chainmark.harness.server_log import GENERATION_PATHS
from chainmark.scenarios.evidence import Evidence

# How much of a wrong answer a problem message quotes.
QUOTED_ANSWER_CHARS = 200
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def operations(e: Evidence, per_iteration: int = 1) -> None:
    """`iterations × per_iteration` operations, every one successful."""
    expected = e.params["iterations"] * per_iteration
    if len(e.operations) != expected:
        e.fail(f"expected {expected} operations, got {len(e.operations)}")
    for i, op in enumerate(e.operations):
        if not op.ok:
            e.fail(f"operation {i} ({op.name}) failed: {op.error}")


def answer(e: Evidence, i: int, op: Operation, incomplete: str) -> None:
    """A non-empty answer that came from exactly one generation request, received whole."""
    text = op.output.get("text")
    if not isinstance(text, str) or not text.strip():
        e.fail(f"operation {i}: empty answer")
        return
    calls = e.served(op, GENERATION_PATHS)
    if calls is None:
        return
    if len(calls) != 1:
        e.fail(f"operation {i}: the server saw {len(calls)} generation requests during it, "
               "expected 1")
        return
    sent = calls[0].response_chars
    if sent is not None and sent != len(text):
        e.fail(f"operation {i}: {incomplete}: the server sent {sent} characters, "
               f"the contestant reported {len(text)}")


def equals(e: Evidence, i: int, op: Operation, key: str, expected: Any, what: str) -> None:
    got = op.output.get(key)
    if got != expected:
        e.fail(f"operation {i} ({op.name}): {what}: expected {expected}, got {got}")


def tool_observations(e: Evidence, i: int, calls: list[dict[str, Any]]) -> None:
    """Recomputes every tool observation: a tool that lies is caught here."""
    names = {spec["name"]: kind for kind, spec in e.params["tools"].items()}
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
            e.fail(f"operation {i}: {call.get('tool')}({tool_input!r}) returned "
                   f"{observation!r}, expected {truth!r}")


def agent_answer(e: Evidence, i: int, op: Operation) -> None:
    """The answer and tool-call checks of one agent run (every agent scenario's)."""
    expect = e.expect
    text = str(op.output.get("text", ""))
    numbers = set(_NUMBER.findall(text))
    missing = [n for n in expect.get("answer_contains", []) if n not in numbers]
    if missing:
        e.fail(f"operation {i}: the answer lacks {', '.join(missing)}: "
               f"{text[:QUOTED_ANSWER_CHARS]!r}")
    calls = op.output.get("tool_calls") or []
    made: dict[str, int] = {}
    for call in calls:
        made[call.get("tool")] = made.get(call.get("tool"), 0) + 1
    exact = set(expect.get("exact_tool_calls", ()))
    for tool, n in expect.get("tool_calls", {}).items():
        if (made.get(tool, 0) != n) if tool in exact else (made.get(tool, 0) < n):
            e.fail(f"operation {i}: {tool} called {made.get(tool, 0)} times, expected "
                   f"{'exactly' if tool in exact else 'at least'} {n}")
    if "counter" in expect and op.output.get("counter") != expect["counter"]:
        e.fail(f"operation {i}: the counter reads {op.output.get('counter')}, expected "
               f"{expect['counter']}")
    tool_observations(e, i, calls)


def concurrent(e: Evidence, expected_ops: int, each: Callable[[int, Operation], None]) -> None:
    """Failed operations are data under stress (counted, shown); wrong successes are not."""
    if len(e.operations) != expected_ops:
        e.fail(f"expected {expected_ops} operations, got {len(e.operations)}")
    failed_without_kind(e)
    ok = e.ok_ops()
    if not ok:
        e.fail("every operation failed")
    for i, op in ok:
        each(i, op)
    enough_requests(e, len(ok))


def failed_without_kind(e: Evidence) -> None:
    for i, op in enumerate(e.operations):
        if not op.ok and not op.output.get("error_kind"):
            e.fail(f"operation {i} failed without saying how: {op.error}")


def enough_requests(e: Evidence, completed: int) -> None:
    """Concurrent runs: at least one generation request per completed operation reached the
    server (a contestant cannot report answers it never asked for)."""
    if e.server is None:
        return
    generated = sum(r.path in GENERATION_PATHS for r in e.server)
    if generated < completed:
        e.fail(f"{completed} operations completed but the server served only {generated} "
               "generation requests")
