"""Scripted replies: the synthetic models play a ReAct agent and a query router.

A 135M model cannot follow a ReAct prompt, so the synthetic models read the prompt the way a
capable model would: the question and the scratchpad (Action / Action Input / Observation)
decide the next step, the right tool with the right input, and then a `Final Answer` built
only from the observations the framework fed back. Nothing is evaluated from the prompt;
the plan comes from a few question shapes (word length, arithmetic, counting) and anything
else gets a plain final answer.

Behaviours a benchmark needs to test the harness itself, chosen by the model's family name:
- ``synthetic``: the correct next step;
- ``synthetic-liar``: a final answer whose numbers are all off by one (verification must fail);
- ``synthetic-malformed``: the first reply of every agent run has no ``Action Input`` line,
  so the framework's parse-error handling is exercised; later replies are correct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chainmark.arith import CalculatorError, evaluate, format_number
from chainmark.backends.llm.synthetic import ReplyFn, ReplyRequest, deterministic_reply

BEHAVIOURS = ("synthetic", "synthetic-liar", "synthetic-malformed")

_QUESTION = re.compile(r"^Question:[ \t]*(.+)$", re.MULTILINE)
_TOOL_LIST = re.compile(r"should be one of \[([^\]]*)\]")
_OBSERVATION = re.compile(r"Observation:[ \t]*(.*)")
_WORD = re.compile(r"length of the word\s+['\"`]?([A-Za-z][A-Za-z-]*)['\"`]?", re.IGNORECASE)
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_ARITHMETIC = re.compile(
    _NUMBER + r"\s*(multiplied by|times|plus|minus|divided by|[*x+/-])\s*" + _NUMBER,
    re.IGNORECASE,
)
_COUNT = re.compile(r"count from\s+(\d+)\s+to\s+(\d+)", re.IGNORECASE)
_OPERATORS = {"multiplied by": "*", "times": "*", "x": "*", "plus": "+", "minus": "-",
              "divided by": "/"}
_ROUTER = re.compile(r'classify it as either\s+"?math"?\s+or\s+"?prose"?', re.IGNORECASE)
_QUERY = re.compile(r"^Query:[ \t]*(.+)$", re.MULTILINE)
_MATH_CHAIN = re.compile(r"Evaluate this math expression:\s*(.+)", re.IGNORECASE)
_MATH_WORDS = re.compile(
    r"\d|\b(calculate|compute|evaluate|sum|plus|minus|times|multiplied|divided|equation|"
    r"solve|math|arithmetic)\b",
    re.IGNORECASE,
)
# Counting runs are bounded so a hostile prompt cannot ask for a million tool calls.
MAX_COUNT_STEPS = 50


@dataclass(frozen=True)
class Step:
    tool_kind: str  # "word" | "calc" | "counter"
    tool_input: str
    intent: str


def _tool_names(prompt: str) -> dict[str, str]:
    """Maps tool kinds to the names this prompt declared (frameworks may rename them)."""
    names: dict[str, str] = {}
    found = _TOOL_LIST.search(prompt)
    declared = [n.strip() for n in found.group(1).split(",")] if found else []
    for name in declared:
        lower = name.lower()
        if "word" in lower or "length" in lower:
            names.setdefault("word", name)
        elif "calc" in lower or "math" in lower:
            names.setdefault("calc", name)
        elif "count" in lower:
            names.setdefault("counter", name)
    names.setdefault("word", "WordLengthTool")
    names.setdefault("calc", "SimpleCalculator")
    names.setdefault("counter", "CounterTool")
    return names


def plan(question: str) -> list[Step]:
    """The tool calls a careful agent would make for this question, in question order."""
    found: list[tuple[int, list[Step]]] = []
    for m in _WORD.finditer(question):
        word = m.group(1)
        found.append((m.start(), [Step("word", word, f"find the length of '{word}'")]))
    for m in _ARITHMETIC.finditer(question):
        a, op, b = m.group(1), m.group(2).lower(), m.group(3)
        symbol = _OPERATORS.get(op, op)
        found.append((m.start(), [Step("calc", f"{a}{symbol}{b}", f"compute {a} {op} {b}")]))
    for m in _COUNT.finditer(question):
        low, high = int(m.group(1)), int(m.group(2))
        steps = min(max(high - low + 1, 0), MAX_COUNT_STEPS)
        # The number being counted is the input a capable model writes; an empty Action Input
        # is legal ReAct but stock LangChainGo cannot parse it.
        found.append((m.start(), [Step("counter", str(low + i), f"count to {low + i}")
                                  for i in range(steps)]))
    return [step for _, steps in sorted(found, key=lambda f: f[0]) for step in steps]


def _final(question: str, steps: list[Step], observations: list[str], liar: bool) -> str:
    def shown(value: str) -> str:
        if not liar:
            return value
        try:
            return format_number(evaluate(value) + 1)
        except CalculatorError:
            return value + "1"

    parts = []
    for step, obs in zip(steps, observations, strict=False):
        if step.tool_kind == "word":
            parts.append(f"the word '{step.tool_input}' has {shown(obs)} characters")
        elif step.tool_kind == "calc":
            parts.append(f"{step.tool_input} = {shown(obs)}")
    counted = [obs for step, obs in zip(steps, observations, strict=False)
               if step.tool_kind == "counter"]
    if counted:
        parts.append(f"I counted to {shown(counted[-1])} with {len(counted)} counter calls")
    if not parts:
        return f"I cannot break '{question}' into tool calls, so here is my answer."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _is_parse_complaint(observation: str) -> bool:
    lower = observation.lower()
    # LangChain Python's and LangChainGo's default wordings.
    return any(phrase in lower for phrase in (
        "invalid format", "could not parse", "parsing error", "unable to parse"))


def react_reply(prompt: str, behaviour: str) -> str | None:
    """The next ReAct step for a ReAct prompt, or None if this is not one."""
    if "Action Input" not in prompt or "Final Answer" not in prompt:
        return None
    questions = list(_QUESTION.finditer(prompt))
    if not questions:
        return None
    last = questions[-1]
    question = last.group(1).strip()
    scratchpad = prompt[last.end():]
    seen = [o.strip() for o in _OBSERVATION.findall(scratchpad)]
    # The framework's complaints about our format are observations too, but not tool results.
    observations = [o for o in seen if not _is_parse_complaint(o)]
    steps = plan(question)
    names = _tool_names(prompt)
    if behaviour == "synthetic-malformed" and len(seen) == len(observations) == 0:
        return " I should use a tool now.\nAction: " + names["calc"]
    if len(observations) < len(steps):
        step = steps[len(observations)]
        return (f" I need to {step.intent}.\nAction: {names[step.tool_kind]}\n"
                f"Action Input: {step.tool_input}")
    answer = _final(question, steps, observations, liar=behaviour == "synthetic-liar")
    return f" I now know the final answer.\nFinal Answer: {answer}"


def router_reply(prompt: str) -> str | None:
    if not _ROUTER.search(prompt):
        return None
    queries = _QUERY.findall(prompt)
    query = queries[-1] if queries else prompt
    return "math" if _MATH_WORDS.search(query) else "prose"


def math_reply(prompt: str) -> str | None:
    found = _MATH_CHAIN.search(prompt)
    if not found:
        return None
    for m in _ARITHMETIC.finditer(found.group(1)):
        a, op, b = m.group(1), m.group(2).lower(), m.group(3)
        try:
            value = format_number(evaluate(f"{a}{_OPERATORS.get(op, op)}{b}"))
        except CalculatorError as exc:
            return f"That expression has no value: {exc}."
        return f"The answer is {value}."
    return None


def scripted(prompt: str, behaviour: str) -> str | None:
    """A scripted reply if the prompt is one the synthetic models play, else None."""
    for reply in (lambda: react_reply(prompt, behaviour), lambda: router_reply(prompt),
                  lambda: math_reply(prompt)):
        text = reply()
        if text is not None:
            return text
    return None


def scripted_reply_fn(behaviour: str) -> ReplyFn:
    """A synthetic model's reply function: the script where it applies, else plain text."""

    def reply(request: ReplyRequest) -> str:
        text = scripted(request.prompt.text(), behaviour)
        return text if text is not None else deterministic_reply(request)

    return reply
