"""What several scenarios share: sampling options, prompts, the ReAct set-up, output schemas.

Defined once here so a prompt or a limit changes in one place for every scenario and every
contestant (they receive all of it in their request's params).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chainmark.corpus import SPLITTER_CHUNK_OVERLAP, SPLITTER_CHUNK_SIZE
from chainmark.scenarios.spec import Output, ScriptedProbe

# temperature 0 and a fixed seed: every contestant gets the same tokens from the real model,
# so latency differences come from the stack, not from sampling luck.
SAMPLING: dict[str, Any] = {"temperature": 0.0, "seed": 42}
# The article's splitter settings, which the generated corpus is calibrated for.
SPLIT: dict[str, Any] = {"chunk_size": SPLITTER_CHUNK_SIZE, "chunk_overlap": SPLITTER_CHUNK_OVERLAP}

SKY_PROMPT = "Why is the sky blue?"

# The spec asks for "a long prompt" for TTFT without giving one; this one is fixed so every
# contestant and every run sends the same bytes (about 330 words).
LONG_PROMPT = (
    "You are reviewing the design of a service that answers questions about a large "
    "collection of technical documents. The service receives a question, looks up the most "
    "relevant passages in a vector database, builds a prompt that contains those passages, "
    "and sends the prompt to a language model. The team has noticed that users complain "
    "about slow answers, especially for the first words of a reply, and wants to know where "
    "the time goes. Some engineers believe the framework that glues the pieces together "
    "adds a large overhead, because it creates many small objects, runs callbacks for every "
    "step and serialises data more than once. Others believe the framework is irrelevant "
    "and that nearly all of the time is spent inside the model itself, evaluating the long "
    "prompt before it can produce the first token, and then generating tokens one at a "
    "time. A third group points at the network: every request crosses a socket, the "
    "response is streamed as many small JSON messages, and each message must be parsed by "
    "the client before the next one is read. The team lead asks for a careful answer that "
    "separates these costs, explains how each one could be measured on its own, and says "
    "which measurements would convince a sceptical reviewer. The answer should mention how "
    "to keep the model's own work constant while the framework changes, how to repeat the "
    "measurement often enough to report a mean with a confidence interval, how to record "
    "memory and processor time from outside the process so that different languages are "
    "measured the same way, and how to check that a fast result is also a correct one. "
    "Finally, the lead wants to know whether streaming the reply changes the time to the "
    "first token compared with waiting for the whole reply, and why. Please explain the "
    "plan step by step, starting with the single most important measurement."
)



# Enough measured work per round for the clock to mean something, as pyperf sizes its loops:
# after its `iterations`, a round of a sized scenario goes on until it has measured
# MIN_ROUND_S, up to MAX_ROUND_ITERATIONS. On the real or the paced model one call already
# takes longer, so this only lengthens rounds on the zero-latency model, where a call is a
# millisecond of framework and HTTP: 3 rounds then hold at least ~1 s of work per figure.
MIN_ROUND_S = 0.35
MAX_ROUND_ITERATIONS = 200
SIZED: dict[str, Any] = {"min_round_s": MIN_ROUND_S, "max_round_iterations": MAX_ROUND_ITERATIONS}


def llm_params(iterations: int, warmup: int, num_predict: int, **extra: Any) -> dict[str, Any]:
    return {"iterations": iterations, "warmup": warmup, "num_predict": num_predict,
            **SAMPLING, **SIZED, **extra}


# The classic ReAct prompt (hwchase17/react), sent to every contestant so all show the model
# the same words.
REACT_PROMPT = """Answer the following questions as best you can. You have access to the \
following tools:

{tools}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [{tool_names}]
Action Input: the input to the action
Observation: the result of the action
... (this Thought/Action/Action Input/Observation can repeat N times)
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: {input}
Thought:{agent_scratchpad}"""

TOOLS = {
    "word": {
        "name": "WordLengthTool",
        "description": "Calculates the character length of a single word. Input must be one "
        "word.",
    },
    "calc": {
        "name": "SimpleCalculator",
        "description": "A simple calculator that can evaluate basic arithmetic expressions "
        "like '1+2*3'.",
    },
    "counter": {
        "name": "CounterTool",
        "description": "Increments a global counter by one and returns the new value.",
    },
}


SINGLE_QUESTION = "What is the character length of the word 'phenomenon'?"
MULTI_QUESTION = (
    "What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?"
)
COUNT_QUESTION = "Using the CounterTool, count from 1 to 5 by calling the tool for each number."
# What a correct answer to each question shows (numbers found in the final answer, tool calls).
SINGLE_EXPECT: dict[str, Any] = {"answer_contains": ["10"], "tool_calls": {"WordLengthTool": 1}}
MULTI_EXPECT: dict[str, Any] = {"answer_contains": ["100", "9"],
                                "tool_calls": {"SimpleCalculator": 1, "WordLengthTool": 1}}
COUNT_EXPECT: dict[str, Any] = {"answer_contains": ["5"], "tool_calls": {"CounterTool": 5},
                                "exact_tool_calls": ["CounterTool"], "counter": 5}


# Rounds multiply warm-up runs (each round is a fresh process), and a warm-up on a model that
# takes seconds per call costs as much as a measured run: quick skips it where one call is
# seconds of model time, against milliseconds of one-time set-up it would absorb.
QUICK_WARMUP_SLOW_CALLS = 0


def agent_params(question: str, iterations: int, warmup: int = 1) -> dict[str, Any]:
    return {
        "question": question,
        "iterations": iterations,
        "warmup": warmup,
        "react_prompt": REACT_PROMPT,
        "tools": TOOLS,
        "max_iterations": 10,
        **SAMPLING,
        # A ReAct step is a sentence or two; the bound keeps a rambling model from running on.
        "num_predict": 256,
    }


def react_probe(params: dict[str, Any], first_tool: str) -> ScriptedProbe:
    """The first ReAct step for the params' question, rendered as the frameworks render the
    classic prompt: the scripted model must pick `first_tool` and give it an input."""
    tools = params["tools"].values()
    prompt = params["react_prompt"].format(
        tools="\n".join(f"{t['name']}: {t['description']}" for t in tools),
        tool_names=", ".join(t["name"] for t in tools),
        input=params["question"], agent_scratchpad="",
    )
    return ScriptedProbe(prompt, (f"Action: {first_tool}\n", "Action Input: "), "react_prompt")


class TextOutput(Output):
    text: str = Field(description="the model's answer, whole")


class ToolCall(Output):
    tool: str = Field(description="the tool's name as the agent called it")
    input: str = Field(description="the tool's input as the agent wrote it")
    observation: str = Field(description="what the tool returned to the agent")


class AgentOutput(Output):
    text: str = Field(description="the agent's final answer")
    tool_calls: list[ToolCall] = Field(description="every tool call, in order")
    counter: int = Field(description="the CounterTool's value at the end of the run")


class FailedOutput(Output):
    """The output of an operation with `ok: false` (any scenario)."""

    error_kind: str | None = Field(
        default=None, description="how it failed: `timeout`, `connection`, ... (required "
        "under concurrency, where failures are counted by kind)")


ErrorOutcome = Literal["error"]
