"""Resilience scenarios without a framework: a client deadline on a long generation, a tool
that raises inside the hand-written ReAct loop, and a reply the loop's parser cannot read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.python_baseline import api, react
from chainmark.contestants.tools import Counter
from chainmark.contestants.waves import error_kind

# The tiny call that checks the server still answers after an abandoned request: the other
# contestants' words and options (the scenario has no parameter for it).
HEALTH_PROMPT = "Say OK."
HEALTH_OPTIONS = {"temperature": 0.0, "num_predict": 1}
# How much of an error message an outcome keeps, as the other contestants do.
MAX_ERROR_CHARS = 300


def timeout(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """A long generation under a short client deadline; the call must fail fast and cleanly."""
    # Choices: the deadline is on the whole call, asyncio.wait_for(client_timeout_s) around
    # an httpx.AsyncClient request (httpx's own timeouts are per connect/read/write, not per
    # call); the request is the non-streaming /api/generate every other call makes; on the
    # deadline the request is cancelled and its connection closed, so the server sees the
    # client go. The health call after it uses the same client and loop.
    limit = params["client_timeout_s"]
    with setup_timer(rec):
        http = api.async_client(endpoints)
        request = api.body(endpoints["model"], params["prompt"], api.options(params))
        health = api.body(endpoints["model"], HEALTH_PROMPT, dict(HEALTH_OPTIONS))

    async def main() -> None:
        rec.begin()
        for _ in rec.iterations(params):
            with rec.op("timeout") as op:
                try:
                    text = await asyncio.wait_for(api.agenerate(http, request), limit)
                    op.output.update(outcome="completed", text=text)
                except Exception as exc:
                    op.output.update(outcome="error", error_kind=error_kind(exc),
                                     error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
            # The server must still answer after the abandoned request.
            with rec.op("health") as op:
                op.output["text"] = await api.agenerate(http, health)
        rec.end()
        await http.aclose()

    asyncio.run(main())


def _failing(message: str) -> Callable[[str], str]:
    # `_input`, as the LangChain contestant's failing tool names it: the prompt shows the
    # tool's signature, and both stacks must send the same prompt.
    def fail(_input: str) -> str:
        raise RuntimeError(message)

    return fail


def tool_failure(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """The word tool raises."""
    # Choices: the loop does not catch a tool's exception: it ends the run and reaches the
    # caller, which records it as `surfaced` (what LangChain's AgentExecutor does with a
    # plain exception); feeding it back to the model as an observation would hide a broken
    # tool behind a plausible answer. Otherwise as run_agent (sync client, non-streaming).
    with setup_timer(rec):
        http = api.client(endpoints)
        agent = react.Agent(params, endpoints["model"])
    failing = {params["failing_tool"]: _failing(params["failure_message"])}
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("agent") as op:
            counter = Counter()
            tools = react.make_tools(params, counter, replace=failing)
            try:
                run = agent.run(http, params["question"], tools)
                op.output.update(outcome="recovered", **react.outputs(run, counter))
            except Exception as exc:
                op.output.update(outcome="surfaced", error_kind=type(exc).__name__,
                                 error=str(exc)[:MAX_ERROR_CHARS])
    rec.end()
    http.close()


def parse_error(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """The scripted malformed model's first reply has no Action Input line."""
    # Choices: with handle_parsing_errors the malformed reply stays in the scratchpad and
    # the parser's feedback (LangChain's wording, e.g. "Invalid Format: Missing 'Action
    # Input:' after 'Action:'") is its observation, and the loop goes on; without it the
    # run stops with react.ParseError. Otherwise as run_agent.
    with setup_timer(rec):
        http = api.client(endpoints)
        agent = react.Agent(params, endpoints["model"],
                            handle_parse_errors=params["handle_parsing_errors"])
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("agent") as op:
            counter = Counter()
            try:
                run = agent.run(http, params["question"], react.make_tools(params, counter))
            except Exception as exc:
                op.output.update(outcome="error", error_kind=type(exc).__name__,
                                 error=str(exc)[:MAX_ERROR_CHARS])
                continue
            op.output.update(outcome="recovered", parse_errors=run.parse_errors,
                             **react.outputs(run, counter))
    rec.end()
    http.close()
