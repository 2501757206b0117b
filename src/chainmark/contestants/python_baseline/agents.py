"""Agent and workflow scenarios without a framework: the hand-written ReAct loop (react.py)
over the three shared tools, a router as two plain generate calls, and the concurrent agents
on asyncio."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.python_baseline import api, react
from chainmark.contestants.tools import Counter
from chainmark.contestants.waves import in_waves, timed, wave_limits


def agent_once(agent: react.Agent, http: httpx.Client, question: str) -> dict[str, Any]:
    """One run with fresh tools and a fresh counter, so runs never share state."""
    counter = Counter()
    run = agent.run(http, question, react.make_tools(agent.params, counter))
    return react.outputs(run, counter)


def run_agent(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: one sync httpx.Client (keep-alive) for every run; each model call is a
    # non-streaming /api/generate (the loop needs the whole step before it can parse it);
    # tools and counter are built per run, the client and request options once.
    with setup_timer(rec):
        http = api.client(endpoints)
        agent = react.Agent(params, endpoints["model"])
    for _ in range(params["warmup"]):
        agent_once(agent, http, params["question"])
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("agent") as op:
            op.output.update(agent_once(agent, http, params["question"]))
    rec.end()
    http.close()


def workflow_router(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: two sequential non-streaming /api/generate calls on one sync httpx.Client —
    # router_prompt, then math_prompt or prose_prompt — each template filled with str.format
    # as LangChain's PromptTemplate does; no stop sequences. The label is read as the
    # LangChain contestant reads it: "math" if it starts so (after strip, lower), else prose.
    with setup_timer(rec):
        http = api.client(endpoints)
        opts = api.options(params)
        model = endpoints["model"]

    def call(template: str, query: str) -> str:
        return api.generate(http, api.body(model, template.format(input=query), opts))

    def route(query: str) -> dict[str, Any]:
        raw = call(params["router_prompt"], query)
        choice = "math" if raw.strip().lower().startswith("math") else "prose"
        answer = call(params[f"{choice}_prompt"], query)
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
    http.close()


def concurrent_agent(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: asyncio on one event loop with one httpx.AsyncClient whose pool holds one
    # kept-alive connection per concurrent agent; each wave is `concurrency` agents started
    # together with asyncio.gather, each bounded by asyncio.wait_for(timeout_s); model calls
    # are non-streaming /api/generate; tools run inline on the loop (microseconds).
    min_s, max_waves = wave_limits(params, "min_duration_s")
    with setup_timer(rec):
        http = api.async_client(endpoints, connections=params["concurrency"])
        agent = react.Agent(params, endpoints["model"])

    async def one() -> dict[str, Any]:
        counter = Counter()
        run = await agent.arun(http, params["question"], react.make_tools(params, counter))
        return react.outputs(run, counter)

    async def wave(n: int) -> None:
        await asyncio.gather(*(timed(rec, "agent", params["timeout_s"], one, wave=n)
                               for _ in range(params["concurrency"])))

    async def main() -> None:
        rec.begin()
        assert rec.measure_start_ns is not None
        await in_waves(rec.measure_start_ns, min_s, max_waves, wave)
        rec.end()
        await http.aclose()

    asyncio.run(main())
