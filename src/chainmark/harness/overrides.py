"""`--set KEY=VALUE` checked against the parameters it overrides, before anything starts.

A value must have the type the scenario's own value has in either profile (an integer for a
count, a number for a duration, a list of the same kind of items, ...) and respect the
parameter's lower bound (at least one iteration, a positive finite duration): a contestant is
never handed `iterations=0`, `iterations="abc"` or `temperature=[1, 2]`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from chainmark.scenarios import PROFILES, Scenario

# Lower bounds by parameter name (inclusive, except where marked exclusive for durations).
AT_LEAST = {
    "iterations": 1, "concurrency": 1, "turns": 1, "rounds": 1, "k": 1, "workers": 1,
    "batch_size": 1, "max_chunks": 1, "chunk_size": 1, "max_iterations": 1,
    "warmup": 0, "chunk_overlap": 0, "temperature": 0, "seed": 0, "num_predict": -1,
    "max_waves": 1, "min_duration_s": 0, "min_phase_s": 0,
}
POSITIVE = {"duration_s", "timeout_s", "client_timeout_s"}


class OverrideError(ValueError):
    pass


PLURAL = {"a boolean": "booleans", "an integer": "integers", "a number": "numbers",
          "a string": "strings", "a list": "lists", "an object": "objects"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _fits(value: Any, default: Any) -> bool:
    if default is None:
        return value is None
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, list):
        # Each item must fit one of the default's items (checkpoints: integers).
        return isinstance(value, list) and (
            not default or all(any(_fits(v, d) for d in default) for v in value))
    return isinstance(value, type(default))


def check(key: str, value: Any, scenario: Scenario) -> None:
    """Raises OverrideError (one line) when `value` cannot stand for `key` in `scenario`."""
    defaults = [p[key] for profile in PROFILES if key in (p := scenario.params_for(profile))]
    if defaults and not any(_fits(value, d) for d in defaults):
        expected = " or ".join(dict.fromkeys(
            _kind(d) + (f" of {PLURAL.get(_kind(d[0]), _kind(d[0]))}"
                        if isinstance(d, list) and d else "")
            for d in defaults))
        raise OverrideError(f"--set {key}={json.dumps(value)}: {scenario.name} expects "
                            f"{expected} (its value: {json.dumps(defaults[0])})")
    numbers = value if isinstance(value, list) else [value]
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int | float):
            continue
        if not math.isfinite(number):
            raise OverrideError(f"--set {key}={value}: must be a finite number")
        if key in POSITIVE and number <= 0:
            raise OverrideError(f"--set {key}={value}: must be greater than 0")
        if key in AT_LEAST and number < AT_LEAST[key]:
            raise OverrideError(f"--set {key}={value}: must be at least {AT_LEAST[key]}")
