"""The three agent tools of the spec, in plain Python, for the Python contestants.

Their names and descriptions come from the scenario parameters (chainmark.scenarios), so
every language shows the model the same words.

Tools never raise: an agent framework turns a tool's return value into an observation, and
an exception escaping a tool would measure the framework's crash handling instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from chainmark.arith import CalculatorError, evaluate, format_number


def word_length(text: str) -> str:
    # Models often quote the word: 'knowledge' has 9 characters, not 11.
    return str(len(text.strip().strip("'\"`")))


def calculate(expression: str) -> str:
    """The SimpleCalculator tool: a number, or an error message the agent can read.

    The limits (length, nesting, magnitude) are chainmark.arith's; `evaluate` raises nothing
    but CalculatorError, so this never raises. The verifier
    (chainmark.scenarios.checks.tool_observations) recomputes exactly this string."""
    # Agents pass inputs like `25 * 4` or "'25*4'"; quotes are not arithmetic.
    cleaned = str(expression).strip().strip("'\"`")
    try:
        return format_number(evaluate(cleaned))
    except CalculatorError as exc:
        return f"Error: {exc}"


@dataclass
class Counter:
    """One counter per agent run, so concurrent runs never share a count."""

    value: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def increment(self, _input: str = "") -> str:
        with self._lock:
            self.value += 1
            return str(self.value)
