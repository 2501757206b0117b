"""Verification: the harness decides whether a contestant's result is right.

First the result's shape: every operation's `output` against its scenario's schema, so a
verifier never meets a wrong type and a contestant learns which field is wrong. Then the
scenario's own verifier, which sees what the contestant reported, the harness's own truths
and, where chainmark-server logged the calls, what the server itself saw, so a contestant
cannot claim work it did not do.
"""

from __future__ import annotations

from pydantic import ValidationError

from chainmark.contract import ContestantResult
from chainmark.scenarios import Scenario
from chainmark.scenarios.common import FailedOutput
from chainmark.scenarios.evidence import Evidence, MissingTruth

MAX_LISTED = 5
# An operation's `elapsed_ns` (monotonic) and its `end_ns - start_ns` (wall clock) may differ by
# the clock reads around the call and a preemption between them: at most this much (the
# contract states it). A contestant reporting 1 µs for a real call is far outside it.
CLOCK_TOLERANCE_NS = 2_000_000
CLOCK_TOLERANCE_FRACTION = 0.01


def _first_error(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}.{field}: {error['msg']}{more}" if field else f"{where}: {error['msg']}"


def schema_problems(scenario: Scenario, result: ContestantResult) -> list[str]:
    """Each problem names the operation and the field, e.g. `operation 3 output.ttft_ns:
    Input should be a valid integer`."""
    problems = []
    for i, op in enumerate(result.operations):
        schema = scenario.output_schema(op.name) if op.ok else FailedOutput
        if schema is None:
            known = ", ".join(sorted(scenario.operations))
            problems.append(f"operation {i}: unknown operation name {op.name!r} for "
                            f"{scenario.name} (expected one of: {known})")
            continue
        try:
            schema.model_validate(op.output)
        except ValidationError as exc:
            problems.append(_first_error(exc, f"operation {i} ({op.name}) output"))
        if len(problems) >= MAX_LISTED:
            break
    if scenario.outputs is not None:
        try:
            scenario.outputs.model_validate(result.outputs)
        except ValidationError as exc:
            problems.append(_first_error(exc, "outputs"))
    return problems


def timing_problems(result: ContestantResult) -> list[str]:
    """The measure window is mandatory, and every operation's times agree and lie inside it."""
    start, end = result.measure_start_ns, result.measure_end_ns
    if start is None or end is None:
        return ["no measure window: the result must give measure_start_ns and measure_end_ns"]
    if end < start:
        return [f"the measure window ends before it starts ({end} < {start})"]
    problems = []
    for i, op in enumerate(result.operations):
        wall = op.end_ns - op.start_ns
        tolerance = CLOCK_TOLERANCE_NS + CLOCK_TOLERANCE_FRACTION * max(wall, op.elapsed_ns)
        if wall < 0:
            problems.append(f"operation {i} ({op.name}) ends before it starts")
        elif abs(op.elapsed_ns - wall) > tolerance:
            problems.append(f"operation {i} ({op.name}): elapsed_ns {op.elapsed_ns} disagrees "
                            f"with end_ns - start_ns = {wall}")
        elif op.start_ns < start - CLOCK_TOLERANCE_NS or op.end_ns > end + CLOCK_TOLERANCE_NS:
            problems.append(f"operation {i} ({op.name}) lies outside the measure window")
        if len(problems) >= MAX_LISTED:
            break
    return problems


def served_problems(scenario: Scenario, evidence: Evidence) -> list[str]:
    """Where the server's log tells operations apart, each operation that must reach the
    server (the scenario's `serves`) did: a contestant cannot report work it never asked for."""
    if evidence.server is None or scenario.concurrent or not scenario.serves:
        return []
    problems = []
    for i, op in evidence.ok_ops():
        paths = scenario.served_paths(op.name)
        if paths and not evidence.served(op, paths):
            problems.append(f"operation {i} ({op.name}): the server saw no request on "
                            f"{' or '.join(paths)} during it")
    return problems


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], f"... and {len(problems) - MAX_LISTED} more"]


def verify(scenario: Scenario, evidence: Evidence) -> list[str]:
    """The problems found; an empty list means the result passed."""
    shape = schema_problems(scenario, evidence.result) + timing_problems(evidence.result)
    if shape:
        return _capped(shape)
    evidence.problems.extend(served_problems(scenario, evidence))
    try:
        scenario.verify(evidence)
    except MissingTruth as exc:
        evidence.fail(f"the harness could not verify this run: {exc}")
    return _capped(evidence.problems)
