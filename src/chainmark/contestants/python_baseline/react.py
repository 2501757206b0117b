"""A ReAct loop written by hand: the classic prompt, a reply parser, tools, a scratchpad.

It sends the model what LangChain's `create_react_agent` + `AgentExecutor` send, byte for
byte (the scripted model recognises those prompts, and the paced models charge per prompt
word, so a shorter prompt would look like a faster stack):

- the prompt is `params.react_prompt` with {tools} one "Name<signature> - description" line
  per tool (LangChain's render_text_description: it writes the tool function's Python
  signature after the name, e.g. "WordLengthTool(text: 'str') -> 'str' - ..."), {tool_names}
  comma-separated, {input} the question and {agent_scratchpad} the steps so far;
- each step's scratchpad entry is the model's reply, then "\\nObservation: <result>\\nThought: ";
- every call stops at "\\nObservation", so the model cannot invent a tool's result;
- a reply is parsed with LangChain's ReActSingleInputOutputParser's rules and regular
  expressions, and a malformed one gets its feedback text as the observation;
- at most `max_iterations` model calls (parse failures count), then the answer is LangChain's
  "Agent stopped due to iteration limit or time limit.";
- an unknown tool name gets LangChain's "X is not a valid tool, try one of [...]." as its
  observation; an exception from a tool ends the run and reaches the caller.

Nothing the model or a tool writes is evaluated: tools get their input as a string.

The loop is a small state machine (`ReactRun`: next prompt, then the reply) so the sync and
the async drivers share every rule and differ only in how they call the model.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from chainmark.contestants.python_baseline import api
from chainmark.contestants.tools import Counter, calculate, word_length

FINAL_ANSWER = "Final Answer:"
# LangChain's default ReAct stop sequence: the model must not write its own observation.
STOP = ("\nObservation",)
OBSERVATION_PREFIX = "Observation: "
THOUGHT_PREFIX = "Thought: "

# The feedback LangChain's parser gives the model (its observation for a malformed reply).
MISSING_ACTION = "Invalid Format: Missing 'Action:' after 'Thought:'"
MISSING_ACTION_INPUT = "Invalid Format: Missing 'Action Input:' after 'Action:'"
# What the AgentExecutor sends for the failures the parser has no feedback for.
INVALID_RESPONSE = "Invalid or incomplete response"
ITERATION_LIMIT = "Agent stopped due to iteration limit or time limit."

# ReActSingleInputOutputParser's expressions, unchanged.
_ACTION = re.compile(r"Action\s*\d*\s*:[\s]*(.*?)Action\s*\d*\s*Input\s*\d*\s*:[\s]*(.*)",
                     re.DOTALL)
_ACTION_ONLY = re.compile(r"Action\s*\d*\s*:[\s]*(.*?)", re.DOTALL)
_ACTION_INPUT_ONLY = re.compile(r"[\s]*Action\s*\d*\s*Input\s*\d*\s*:[\s]*(.*)", re.DOTALL)


@dataclass(frozen=True)
class Action:
    tool: str
    input: str


@dataclass(frozen=True)
class Finish:
    answer: str


@dataclass(frozen=True)
class Malformed:
    """A reply that is neither an action nor a final answer: `feedback` goes back to the
    model when parse errors are handled, `error` is raised when they are not."""

    feedback: str
    error: str


Step = Action | Finish | Malformed


def parse(reply: str) -> Step:
    """One model reply, read by LangChain's ReAct parser's rules."""
    has_answer = FINAL_ANSWER in reply
    match = _ACTION.search(reply)
    if match:
        if has_answer:
            return Malformed(INVALID_RESPONSE, "Parsing LLM output produced both a final "
                             f"answer and a parse-able action: {reply}")
        return Action(match.group(1).strip(), match.group(2).strip(" ").strip('"'))
    if has_answer:
        return Finish(reply.rsplit(FINAL_ANSWER, maxsplit=1)[-1].strip())
    error = f"Could not parse LLM output: `{reply}`"
    if not _ACTION_ONLY.search(reply):
        return Malformed(MISSING_ACTION, error)
    if not _ACTION_INPUT_ONLY.search(reply):
        return Malformed(MISSING_ACTION_INPUT, error)
    return Malformed(INVALID_RESPONSE, error)


class ParseError(ValueError):
    """A reply the parser could not read, with parse errors not handled."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    func: Callable[[str], str]

    def describe(self) -> str:
        # LangChain's render_text_description line, signature included (see the module doc).
        return f"{self.name}{inspect.signature(self.func)} - {self.description}"


def make_tools(params: dict[str, Any], counter: Counter,
               replace: dict[str, Callable[[str], str]] | None = None) -> list[Tool]:
    """The three tools, named and described by the params; `replace` swaps a tool's function
    by kind (word, calc, counter), e.g. for one that fails."""
    funcs: dict[str, Callable[[str], str]] = {
        "word": word_length, "calc": calculate, "counter": counter.increment, **(replace or {})
    }
    return [Tool(spec["name"], spec["description"], funcs[kind])
            for kind, spec in params["tools"].items()]


@dataclass
class ReactRun:
    """One question's loop: ask `prompt()`, give the model's reply to `take()`, until
    `prompt()` returns None; then `answer` is set."""

    template: str
    question: str
    tools: list[Tool]
    max_iterations: int
    handle_parse_errors: bool
    scratchpad: str = ""
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    parse_errors: int = 0
    iterations: int = 0
    answer: str | None = None

    def __post_init__(self) -> None:
        self._by_name = {tool.name: tool for tool in self.tools}
        self._tools_text = "\n".join(tool.describe() for tool in self.tools)
        self._tool_names = ", ".join(tool.name for tool in self.tools)

    def prompt(self) -> str | None:
        if self.answer is not None:
            return None
        if self.iterations >= self.max_iterations:
            self.answer = ITERATION_LIMIT
            return None
        return self.template.format(tools=self._tools_text, tool_names=self._tool_names,
                                    input=self.question, agent_scratchpad=self.scratchpad)

    def take(self, reply: str) -> None:
        """Acts on one reply: the answer, a tool call, or the parser's feedback."""
        self.iterations += 1
        step = parse(reply)
        if isinstance(step, Finish):
            self.answer = step.answer
            return
        if isinstance(step, Malformed):
            if not self.handle_parse_errors:
                raise ParseError(step.error)
            self.parse_errors += 1
            observation = step.feedback
        else:
            observation = self._call(step)
            self.tool_calls.append(
                {"tool": step.tool, "input": step.input, "observation": observation})
        self.scratchpad += f"{reply}\n{OBSERVATION_PREFIX}{observation}\n{THOUGHT_PREFIX}"

    def _call(self, action: Action) -> str:
        tool = self._by_name.get(action.tool)
        if tool is None:
            return (f"{action.tool} is not a valid tool, try one of "
                    f"[{', '.join(self._by_name)}].")
        return str(tool.func(action.input))


class Agent:
    """What every run of one scenario shares: the prompt, the limits, the request options."""

    def __init__(self, params: dict[str, Any], model: str,
                 handle_parse_errors: bool = False) -> None:
        self.params = params
        self.model = model
        self.options = api.options(params, STOP)
        self.handle_parse_errors = handle_parse_errors

    def start(self, question: str, tools: list[Tool]) -> ReactRun:
        return ReactRun(self.params["react_prompt"], question, tools,
                        self.params["max_iterations"], self.handle_parse_errors)

    def run(self, http: httpx.Client, question: str, tools: list[Tool]) -> ReactRun:
        run = self.start(question, tools)
        while (prompt := run.prompt()) is not None:
            run.take(api.generate(http, api.body(self.model, prompt, self.options)))
        return run

    async def arun(self, http: httpx.AsyncClient, question: str, tools: list[Tool]
                   ) -> ReactRun:
        # Tools run inline on the event loop: they are microseconds of pure Python.
        run = self.start(question, tools)
        while (prompt := run.prompt()) is not None:
            run.take(await api.agenerate(http, api.body(self.model, prompt, self.options)))
        return run


def outputs(run: ReactRun, counter: Counter) -> dict[str, Any]:
    """What the harness verifies: the answer, and every tool call with its observation."""
    return {"text": run.answer or "", "tool_calls": run.tool_calls, "counter": counter.value}
