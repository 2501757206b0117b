"""Agent and workflow scenarios with the article's LangChain classes: a zero-shot ReAct agent
(`create_react_agent` + `AgentExecutor` from langchain-classic) over three local tools, and a
router workflow built from explicit `LLMChain`s (router chain, then the math or prose chain)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_classic.agents import AgentExecutor, create_react_agent
from langchain_classic.chains import LLMChain
from langchain_core.prompts import PromptTemplate
from langchain_core.tools import Tool

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.langchain_python.llm import llm_for
from chainmark.contestants.tools import Counter, calculate, word_length


def make_tools(params: dict[str, Any], counter: Counter,
               replace: dict[str, Callable[[str], str]] | None = None) -> list[Tool]:
    """The three tools, named and described by the params; `replace` swaps a tool's function
    by kind (word, calc, counter), e.g. for a tool that fails."""
    funcs: dict[str, Callable[[str], str]] = {
        "word": word_length, "calc": calculate, "counter": counter.increment, **(replace or {})
    }
    return [
        Tool(name=spec["name"], description=spec["description"], func=funcs[kind])
        for kind, spec in params["tools"].items()
    ]


class AgentRunner:
    """One agent executor; a fresh counter per run so runs never share state."""

    def __init__(self, params: dict[str, Any], endpoints: dict[str, Any],
                 handle_parsing_errors: bool = False) -> None:
        self.params = params
        self.llm = llm_for(params, endpoints)
        self.prompt = PromptTemplate.from_template(params["react_prompt"])
        self.handle_parsing_errors = handle_parsing_errors

    def executor(self, counter: Counter,
                 replace: dict[str, Callable[[str], str]] | None = None) -> AgentExecutor:
        tools = make_tools(self.params, counter, replace)
        agent = create_react_agent(self.llm, tools, self.prompt)
        return AgentExecutor(
            agent=agent,
            tools=tools,
            max_iterations=self.params["max_iterations"],
            return_intermediate_steps=True,
            handle_parsing_errors=self.handle_parsing_errors,
        )

    def run(self, question: str) -> dict[str, Any]:
        counter = Counter()
        result = self.executor(counter).invoke({"input": question})
        return outputs(result, counter)


def outputs(result: dict[str, Any], counter: Counter) -> dict[str, Any]:
    """What the harness verifies: the answer, and every tool call with its observation."""
    steps = result.get("intermediate_steps", [])
    return {
        "text": str(result.get("output", "")),
        "tool_calls": [
            {"tool": action.tool, "input": str(action.tool_input), "observation": str(obs)}
            for action, obs in steps
        ],
        "counter": counter.value,
    }


def run_agent(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Building the executor (tools, agent) per run is part of a real request's cost in the
    # article's code too; the LLM client and prompt are built once.
    with setup_timer(rec):
        runner = AgentRunner(params, endpoints)
    for _ in range(params["warmup"]):
        runner.run(params["question"])
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("agent") as op:
            op.output.update(runner.run(params["question"]))
    rec.end()


def workflow_router(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        llm = llm_for(params, endpoints)
        router = LLMChain(llm=llm, prompt=PromptTemplate.from_template(params["router_prompt"]))
        destinations = {
            "math": LLMChain(llm=llm, prompt=PromptTemplate.from_template(params["math_prompt"])),
            "prose": LLMChain(llm=llm,
                              prompt=PromptTemplate.from_template(params["prose_prompt"])),
        }

    def route(query: str) -> dict[str, Any]:
        raw = router.invoke({"input": query})["text"]
        label = raw.strip().lower()
        # The router is told to answer with one word; anything else falls back to prose, as
        # a MultiPromptChain falls back to its default chain.
        choice = "math" if label.startswith("math") else "prose"
        answer = destinations[choice].invoke({"input": query})["text"]
        return {"query": query, "route": choice, "router_output": raw, "text": answer}

    for _ in range(params["warmup"]):
        for query in params["queries"]:
            route(query)
    rec.begin()
    for _ in rec.iterations(params):
        for query in params["queries"]:
            with rec.op("route") as op:
                op.output.update(route(query))
    rec.end()
