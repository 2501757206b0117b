"""Verification steps several scenarios share; each appends problems to the evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainmark.arith import CalculatorError, evaluate, format_number
from chainmark.contract import Operation
from chainmark.harness.server_log import GENERATION_PATHS
from chainmark.scenarios.evidence import Evidence

# How much of a wrong answer a problem message quotes.
QUOTED_ANSWER_CHARS = 200
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def operations(e: Evidence, per_iteration: int = 1) -> None:
    """`iterations × per_iteration` operations, every one successful; a sized scenario
    (`min_round_s`) may run more iterations, up to `max_round_iterations`."""
    least = e.params["iterations"]
    most = max(least, e.params.get("max_round_iterations") or least) \
        if e.params.get("min_round_s") else least
    count = len(e.operations)
    if count % per_iteration or not least <= count // per_iteration <= most:
        wanted = (f"{least * per_iteration}" if most == least
                  else f"{least * per_iteration} to {most * per_iteration}")
        e.fail(f"expected {wanted} operations, got {count}")
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


def concurrent(e: Evidence, each: Callable[[int, Operation], None]) -> None:
    """Failed operations are data under stress (counted, shown); wrong successes are not.
    How many operations there must be is the caller's check (`waves`)."""
    failed_without_kind(e)
    ok = e.ok_ops()
    if not ok:
        e.fail("every operation failed")
    for i, op in ok:
        each(i, op)
    enough_requests(e, len(ok))


# Waves are stamped with two clocks (the contestant decides on a monotonic one, the harness
# reads wall-clock stamps): they may disagree by this much.
WAVE_TOLERANCE_NS = 2_000_000


@dataclass(frozen=True)
class Waves:
    """How a run (or a phase) of repeated bursts is checked: `concurrency` operations at once
    per wave, waves back to back until `minimum_s` has passed, at most `max_waves` of them."""

    concurrency: int
    minimum_s: float
    max_waves: int
    # The parameter that sets the minimum, and what lasted: for the failure messages.
    minimum_param: str = "min_duration_s"
    region: str = "the timed region"


def waves(e: Evidence, ops: list[tuple[int, Operation]], rule: Waves, start_ns: int,
          end_ns: int) -> int:
    """`ops` (failed ones included) are whole waves of `rule.concurrency`, numbered 0..n-1 by
    their `output.wave`, each starting after the previous one ended; the region from
    `start_ns` to `end_ns` lasted at least `rule.minimum_s` unless `max_waves` were run, and
    no wave began after the minimum had passed. Returns n (0 when the waves cannot be read)."""
    in_region = f" in {rule.region}" if rule.region != "the timed region" else ""
    if not ops:
        e.fail(f"no operations{in_region}: expected at least one wave of {rule.concurrency}")
        return 0
    by_wave: dict[int, list[Operation]] = {}
    for i, op in ops:
        wave = op.output.get("wave")
        if isinstance(wave, bool) or not isinstance(wave, int) or wave < 0:
            e.fail(f"operation {i} ({op.name}): output.wave must be the wave's number (an "
                   f"integer from 0), got {wave!r}")
            return 0
        by_wave.setdefault(wave, []).append(op)
    n = len(by_wave)
    if len(ops) % rule.concurrency:
        e.fail(f"{len(ops)} operations{in_region} are not whole waves of {rule.concurrency} "
               "(concurrency)")
    if sorted(by_wave) != list(range(n)):
        e.fail(f"waves{in_region} numbered {_numbers(sorted(by_wave))}, expected 0..{n - 1}")
        return n
    for wave, members in sorted(by_wave.items()):
        if len(members) != rule.concurrency:
            e.fail(f"wave {wave}{in_region} has {len(members)} operations, expected "
                   f"{rule.concurrency} (concurrency)")
    ends = [max(op.end_ns for op in by_wave[w]) for w in range(n)]
    for wave in range(1, n):
        if min(op.start_ns for op in by_wave[wave]) < ends[wave - 1] - WAVE_TOLERANCE_NS:
            e.fail(f"wave {wave}{in_region} began before wave {wave - 1} ended: waves run "
                   "one after another")
    if n > rule.max_waves:
        e.fail(f"{n} waves{in_region}, more than max_waves={rule.max_waves}")
    lasted = (end_ns - start_ns) / 1e9
    if n < rule.max_waves and lasted < rule.minimum_s:
        e.fail(f"{rule.region} lasted {lasted:.3f} s over {n} wave(s) of {rule.concurrency}, "
               f"less than {rule.minimum_param}={rule.minimum_s} s, and max_waves="
               f"{rule.max_waves} was not reached")
    if n >= 2 and (late := ends[n - 2] - start_ns) > rule.minimum_s * 1e9 + WAVE_TOLERANCE_NS:
        e.fail(f"wave {n - 1}{in_region} was started {late / 1e9:.3f} s in, after "
               f"{rule.minimum_param}={rule.minimum_s} s had passed")
    return n


def _numbers(values: list[int], shown: int = 10) -> str:
    head = ", ".join(map(str, values[:shown]))
    return head + (", ..." if len(values) > shown else "")


def timed_waves(e: Evidence) -> int:
    """The whole timed region is waves of `concurrency` (stress.concurrent_*)."""
    start, end = e.result.measure_start_ns, e.result.measure_end_ns
    if start is None or end is None:  # the harness's timing check has said so already
        return 0
    rule = Waves(e.params["concurrency"], e.params["min_duration_s"], e.params["max_waves"])
    return waves(e, list(enumerate(e.operations)), rule, start, end)


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
