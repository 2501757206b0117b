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


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], f"... and {len(problems) - MAX_LISTED} more"]


def verify(scenario: Scenario, evidence: Evidence) -> list[str]:
    """The problems found; an empty list means the result passed."""
    shape = schema_problems(scenario, evidence.result)
    if shape:
        return _capped(shape)
    try:
        scenario.verify(evidence)
    except MissingTruth as exc:
        evidence.fail(f"the harness could not verify this run: {exc}")
    return _capped(evidence.problems)
