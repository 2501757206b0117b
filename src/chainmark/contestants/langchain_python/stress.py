"""Stress and resilience scenarios: asyncio concurrency with `ainvoke` + `asyncio.gather`,
each call bounded by `asyncio.wait_for`, as a Python service would do it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from langchain_classic.chains import RetrievalQA
from langchain_ollama import OllamaLLM

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.langchain_python.agents import AgentRunner, outputs
from chainmark.contestants.langchain_python.llm import llm_for
from chainmark.contestants.langchain_python.rag import _embeddings, _store
from chainmark.contestants.tools import Counter
from chainmark.contestants.waves import error_kind, in_waves, timed, wave_limits


def concurrent_rag(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    min_s, max_waves = wave_limits(params, "min_duration_s")
    with setup_timer(rec):
        _, store = _store(endpoints, params["collection"], _embeddings(endpoints))
        qa = RetrievalQA.from_chain_type(
            llm=llm_for(params, endpoints),
            chain_type="stuff",
            retriever=store.as_retriever(search_kwargs={"k": params["k"]}),
            return_source_documents=True,
        )
    queries = params["queries"]

    async def ask(query: str) -> dict[str, Any]:
        answer = await qa.ainvoke({"query": query})
        return {"query": query, "text": answer["result"],
                "documents": len(answer["source_documents"])}

    cycle = [queries[i % len(queries)] for i in range(params["concurrency"])]

    async def wave(n: int) -> None:
        await asyncio.gather(*(
            timed(rec, "qa", params["timeout_s"], lambda q=query: ask(q), wave=n)
            for query in cycle
        ))

    async def main() -> None:
        rec.begin()
        assert rec.measure_start_ns is not None
        await in_waves(rec.measure_start_ns, min_s, max_waves, wave)
        rec.end()

    asyncio.run(main())


def concurrent_agent(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    min_s, max_waves = wave_limits(params, "min_duration_s")
    with setup_timer(rec):
        runner = AgentRunner(params, endpoints)

    async def one() -> dict[str, Any]:
        counter = Counter()
        result = await runner.executor(counter).ainvoke({"input": params["question"]})
        return outputs(result, counter)

    async def wave(n: int) -> None:
        await asyncio.gather(*(
            timed(rec, "agent", params["timeout_s"], one, wave=n)
            for _ in range(params["concurrency"])
        ))

    async def main() -> None:
        rec.begin()
        assert rec.measure_start_ns is not None
        await in_waves(rec.measure_start_ns, min_s, max_waves, wave)
        rec.end()

    asyncio.run(main())


def saturation(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """`concurrency` workers call the LLM back to back until `duration_s` has passed."""
    with setup_timer(rec):
        llm = llm_for(params, endpoints)

    async def call() -> dict[str, Any]:
        return {"text": await llm.ainvoke(params["prompt"])}

    async def worker(deadline: float) -> None:
        while time.monotonic() < deadline:
            await timed(rec, "generate", params["timeout_s"], call)

    async def main() -> None:
        rec.begin()
        deadline = time.monotonic() + params["duration_s"]
        await asyncio.gather(*(worker(deadline) for _ in range(params["concurrency"])))
        rec.end()

    asyncio.run(main())


def timeout(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """A long generation under a short client timeout; the call must fail fast and cleanly."""
    with setup_timer(rec):
        llm = OllamaLLM(
            model=endpoints["model"], base_url=endpoints["llm_url"],
            temperature=params["temperature"], num_predict=params["num_predict"],
            seed=params["seed"],
            # httpx's timeout is per read, not per call: LangChain's streaming client would
            # never time out on a steady token stream, so the deadline is the caller's.
            client_kwargs={"timeout": params["client_timeout_s"]},
        )
        healthy = OllamaLLM(model=endpoints["model"], base_url=endpoints["llm_url"],
                            num_predict=1, temperature=0.0)
        # One loop for every iteration: the async client's connections belong to it.
        loop = asyncio.new_event_loop()
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("timeout") as op:
            try:
                text = loop.run_until_complete(
                    asyncio.wait_for(llm.ainvoke(params["prompt"]), params["client_timeout_s"])
                )
                op.output.update(outcome="completed", text=text)
            except Exception as exc:
                op.output.update(outcome="error", error_kind=error_kind(exc),
                                 error=f"{type(exc).__name__}: {exc}"[:300])
        # The server must still answer after the abandoned request.
        with rec.op("health") as op:
            op.output["text"] = healthy.invoke("Say OK.")
    rec.end()
    loop.close()


def _failing(message: str) -> Callable[[str], str]:
    def fail(_input: str) -> str:
        raise RuntimeError(message)

    return fail


def tool_failure(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """The word tool raises. LangChain's AgentExecutor lets a plain exception escape invoke
    (only ToolException is turned into an observation, and only if asked): that is what the
    framework intends, so it is what gets recorded."""
    with setup_timer(rec):
        runner = AgentRunner(params, endpoints)
    failing = {params["failing_tool"]: _failing(params["failure_message"])}
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("agent") as op:
            counter = Counter()
            executor = runner.executor(counter, replace=failing)
            try:
                result = executor.invoke({"input": params["question"]})
                op.output.update(outcome="recovered", **outputs(result, counter))
            except Exception as exc:
                op.output.update(outcome="surfaced", error_kind=type(exc).__name__,
                                 error=str(exc)[:300])
    rec.end()


def parse_error(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        runner = AgentRunner(params, endpoints,
                             handle_parsing_errors=params["handle_parsing_errors"])
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("agent") as op:
            counter = Counter()
            try:
                result = runner.executor(counter).invoke({"input": params["question"]})
            except Exception as exc:
                op.output.update(outcome="error", error_kind=type(exc).__name__,
                                 error=str(exc)[:300])
                continue
            out = outputs(result, counter)
            # LangChain records a parse failure as a step with the tool name "_Exception".
            out["parse_errors"] = sum(c["tool"] == "_Exception" for c in out["tool_calls"])
            out["tool_calls"] = [c for c in out["tool_calls"] if c["tool"] != "_Exception"]
            op.output.update(outcome="recovered", **out)
    rec.end()
